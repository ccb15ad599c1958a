"""Stereo super-resolution on rendered ground-truth scenes: each variant against the truth.

Renders stereo pairs (``s2vg.metrics.scenes``) at high resolution, downscales them by the
scale (area averaging), upscales them back with each variant, and reports:

* PSNR (dB) of both eyes against the high-resolution truth;
* left-right consistency: the upscaled right eye sampled back through the left eye's true
  disparity against the upscaled left eye, in the pixels both eyes see (MAE x 1000 and
  PSNR; :func:`s2vg.metrics.metrics.lr_consistency`);
* flicker: the motion-compensated frame-to-frame change of each eye along the renderer's
  exact motion, minus the truth's own (x 1000; 0 = as steady as the truth);
* seconds per stereo frame (noisy: a shared 2-core machine).

Variants: ``interp`` (Lanczos only), ``independent`` (the classical upscaler per frame, no
condition), ``+temporal``, ``+temporal+cross`` (disparity estimated from the pair, as
``s2vg upscale`` does) and ``+temporal+cross(true d)`` (the true disparity).

    python3 benchmarks/sr_stereo.py [--scale 2 4] [--scenes cards pan fence crossing]
                                    [--height 192 --width 320 --frames 8]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import cv2
import numpy as np

from s2vg.config import SuperResolutionConfig
from s2vg.metrics.metrics import flicker_against_truth, lr_consistency, psnr
from s2vg.metrics.scenes import make_scene, render_scene, scene_rig
from s2vg.sr.stereo import upscale_stereo


def downscale_video(frames: np.ndarray, scale: int) -> np.ndarray:
    t, h, w, _ = frames.shape
    return np.stack([cv2.resize(f, (w // scale, h // scale), interpolation=cv2.INTER_AREA) for f in frames])


def render_case(kind: str, height: int, width: int, frames: int, seed: int, divergence: float):
    scene = make_scene(kind, height=height, width=width, seed=seed)
    rig = scene_rig(scene, views=2, divergence_pct=divergence)
    shot = render_scene(scene, rig, frames)
    baseline = float(rig.positions[1, 0] - rig.positions[0, 0])
    # The renderer shows at right pixel x the texel of left pixel x + rint(f*b/z): integer disparity.
    disparity = np.rint(scene.focal * baseline / shot.depth[0]).astype(np.float32)  # left view, high-res pixels
    return shot, disparity


def variants(scale: int) -> dict[str, dict]:
    base = SuperResolutionConfig(scale=scale)
    return {
        "interp": dict(config=dataclasses.replace(base, temporal=False, cross_view=False, sharpen=0.0, back_projection=0)),
        "independent": dict(config=dataclasses.replace(base, temporal=False, cross_view=False)),
        "+temporal": dict(config=dataclasses.replace(base, cross_view=False)),
        "+temporal+cross": dict(config=base),
        "+temporal+cross(true d)": dict(config=base, true_disparity=True),
    }


def measure(kind: str, scale: int, args: argparse.Namespace) -> list[dict]:
    shot, disparity_hr = render_case(kind, args.height, args.width, args.frames, args.seed, args.divergence)
    truth_l, truth_r = shot.colors[0], shot.colors[1]
    low_l, low_r = downscale_video(truth_l, scale), downscale_video(truth_r, scale)
    disparity_lr = np.stack([cv2.resize(d, (d.shape[1] // scale, d.shape[0] // scale), interpolation=cv2.INTER_NEAREST)
                             for d in disparity_hr]) / scale
    flows = [shot.backward_flow(v) for v in (0, 1)]
    valids = [shot.flow_valid(v) for v in (0, 1)]
    rows = []
    for name, spec in variants(scale).items():
        start = time.perf_counter()
        up_l, up_r, stats = upscale_stereo(low_l, low_r, config=spec["config"],
                                           disparity=disparity_lr if spec.get("true_disparity") else None)
        seconds = (time.perf_counter() - start) / args.frames
        lr = lr_consistency(up_l, up_r, disparity_hr)
        flick = np.mean([flicker_against_truth(up, truth, None, flows[v], valids[v])["excess"]
                         for v, (up, truth) in enumerate(((up_l, truth_l), (up_r, truth_r)))])
        rows.append({
            "scene": kind, "scale": scale, "variant": name,
            "psnr": psnr(np.stack([up_l, up_r]), np.stack([truth_l, truth_r])),
            "psnr_left": psnr(up_l, truth_l), "psnr_right": psnr(up_r, truth_r),
            "lr_mae": lr["mae"], "lr_psnr": lr["psnr"], "flicker": float(flick),
            "cross_weight": stats["cross_view"], "temporal_weight": stats["temporal_right"], "s_per_frame": seconds,
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--scenes", nargs="+", default=["cards", "pan", "fence", "crossing"])
    parser.add_argument("--height", type=int, default=192)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--divergence", type=float, default=3.0)
    args = parser.parse_args()
    rows = [row for scale in args.scale for kind in args.scenes for row in measure(kind, scale, args)]
    print(f"{'scene':10s} {'x':>2s} {'variant':24s} {'PSNR':>6s} {'L':>6s} {'R':>6s} {'LR-MAE':>7s} {'LR-PSNR':>7s} "
          f"{'flick':>6s} {'w_cross':>7s} {'w_temp':>6s} {'s/fr':>5s}")
    for r in rows:
        print(f"{r['scene']:10s} {r['scale']:>2d} {r['variant']:24s} {r['psnr']:6.2f} {r['psnr_left']:6.2f} "
              f"{r['psnr_right']:6.2f} {1000 * r['lr_mae']:7.2f} {r['lr_psnr']:7.2f} {1000 * r['flicker']:6.2f} "
              f"{r['cross_weight']:7.3f} {r['temporal_weight']:6.3f} {r['s_per_frame']:5.2f}")
    print("\nmargins of +temporal+cross over independent (mean over scenes; LR-MAE and flicker x1000, lower is better):")
    for scale in args.scale:
        for cross in ("+temporal+cross", "+temporal+cross(true d)"):
            pick = lambda v, key: np.mean([r[key] for r in rows if r["scale"] == scale and r["variant"] == v])  # noqa: E731
            print(f"  x{scale} {cross:24s} PSNR {pick(cross, 'psnr') - pick('independent', 'psnr'):+6.2f} dB   "
                  f"LR-MAE {1000 * (pick(cross, 'lr_mae') - pick('independent', 'lr_mae')):+6.2f}   "
                  f"LR-PSNR {pick(cross, 'lr_psnr') - pick('independent', 'lr_psnr'):+6.2f} dB   "
                  f"flicker {1000 * (pick(cross, 'flicker') - pick('independent', 'flicker')):+6.2f}")


if __name__ == "__main__":
    main()
