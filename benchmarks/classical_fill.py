"""Time the classical fill, and score it against the simple baselines.

    python3 benchmarks/classical_fill.py                 # timing table (astronaut sample, or a rendered clip)
    python3 benchmarks/classical_fill.py --quality       # plus hole PSNR / flicker vs the baselines

Timing: the frame matrix of a 320x576 clip is built once per rig (not timed), then the
fill runs ``--repeat`` times; the table gives the median in ms per frame (all views of
a frame). The machine is shared, so medians of several repeats are the figure to quote.

Quality: rendered layered scenes (benchmarks/classical_scenes.py) with known true
views, and the real astronaut clip through a round trip (the real frame is the target
view; it is warped to a virtual source at -B and back, and the pixels lost on the way
are the holes, with the real frame as their truth). PSNR is over hole pixels;
flicker is the mean frame-to-frame change of pixels that are holes in both frames,
minus the same on the truth (0 is ideal; static cameras only, so no motion compensation).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))

from classical_scenes import Layer, render_case, smooth_texture, two_layer_scene  # noqa: E402

from s2vg.config import RigConfig  # noqa: E402
from s2vg.geometry.build import build_frame_matrix  # noqa: E402
from s2vg.geometry.depth import relative_to_depth  # noqa: E402
from s2vg.geometry.frame_matrix import FrameMatrix  # noqa: E402
from s2vg.geometry.rig import CameraRig  # noqa: E402
from s2vg.geometry.warp import forward_warp  # noqa: E402
from s2vg.inpaint.baselines import BlackInpainter, NearestBackgroundInpainter, TeleaInpainter  # noqa: E402
from s2vg.inpaint.classical import ClassicalInpainter  # noqa: E402

SAMPLE = Path(__file__).parents[2] / "shared" / "samples" / "astronaut"


def load_clip(frames: int) -> tuple[torch.Tensor, torch.Tensor, str]:
    """``(T, 320, 576, 3)`` frames and ``(T, 320, 576)`` depth in metres, and a name."""
    if (SAMPLE / "depth.npz").exists():
        from PIL import Image

        images = [np.asarray(Image.open(SAMPLE / "images" / f"{i:05d}.jpg"), np.float32) / 255.0 for i in range(frames)]
        inv = np.load(SAMPLE / "depth.npz")["refined"][:frames]
        return torch.from_numpy(np.stack(images)), relative_to_depth(torch.from_numpy(inv)).float(), "astronaut"
    layers = two_layer_scene(320, 576, fg_velocity=2.0, far=10.0, near=1.0)
    case = render_case(layers, np.zeros((1, 2)), frames, 320, 576, 800.0)
    return torch.from_numpy(case.truth[0]), torch.from_numpy(case.truth_depth[0]), "rendered"


def timing(args: argparse.Namespace) -> None:
    frames, depth_m, name = load_clip(args.frames)
    t = frames.shape[0]
    print(f"classical fill timing: {name} clip {t}x320x576, median of {args.repeat} runs (shared CPU: noisy)")
    print(f"{'views':>5} {'baseline m':>10} {'max disp px':>11} {'unknown %':>9} {'ms/frame':>9} {'min':>7} {'max':>7}")
    for views in args.views:
        for baseline in args.baseline:
            rig = CameraRig.from_config(RigConfig(views=views, baseline=baseline), 320, 576)
            matrix = build_frame_matrix(frames, depth_m, rig)
            inpainter = ClassicalInpainter()
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                inpainter(matrix)
                times.append((time.perf_counter() - start) * 1000.0 / t)
            disparity = rig.focal * baseline / float(depth_m.min())
            print(
                f"{views:>5} {baseline:>10.4f} {disparity:>11.1f} {100 * matrix.unknown_fraction:>9.2f} "
                f"{statistics.median(times):>9.1f} {min(times):>7.1f} {max(times):>7.1f}"
            )


def roundtrip_matrix(frames: torch.Tensor, depth_m: torch.Tensor, baseline: float) -> tuple[FrameMatrix, np.ndarray]:
    """A 2-view matrix whose target view is the real frame minus what a round trip loses."""
    t, h, w, _ = frames.shape
    rig = CameraRig(width=w, height=h, focal=800.0 * w / 576, positions=np.array([[0, 0, 0], [baseline, 0, 0.0]]))
    K = rig.intrinsics()
    to_source = torch.eye(4, dtype=torch.float64)
    to_source[0, 3] = baseline  # the virtual source camera sits at -baseline
    with_valid = torch.cat([frames, torch.ones(t, h, w, 1)], dim=-1)
    src, src_known, src_depth = forward_warp(with_valid, depth_m, K, to_source)
    src_known &= src[..., 3] > 0.5
    back = torch.eye(4, dtype=torch.float64)
    back[0, 3] = -baseline
    # Unknown source pixels go infinitely far so that they never win the z-buffer.
    far_away = torch.where(src_known, src_depth, torch.full_like(src_depth, 1e6))
    tgt, tgt_known, tgt_depth = forward_warp(src, far_away, K, back)
    tgt_known &= tgt[..., 3] > 0.5
    source = NearestBackgroundInpainter()(
        FrameMatrix(src[None, ..., :3].contiguous(), src_known[None], torch.where(src_known, src_depth, 0)[None],
                    CameraRig(width=w, height=h, focal=rig.focal, positions=np.zeros((1, 3))))
    )
    colors = torch.stack([source.colors[0], torch.where(tgt_known[..., None], tgt[..., :3], 0)])
    known = torch.stack([torch.ones_like(tgt_known), tgt_known])
    depth = torch.stack([source.depth[0], torch.where(tgt_known, tgt_depth, 0)])
    truth = np.stack([source.colors[0].numpy(), frames.numpy()])
    return FrameMatrix(colors.float(), known, depth.float(), rig), truth


def rendered_cases(frames: int) -> dict[str, tuple[FrameMatrix, np.ndarray]]:
    h, w, f = 96, 160, 160.0
    offsets = np.array([[0.0, 0.0], [0.1, 0.0], [0.2, 0.0]])
    cases = {}
    for name, velocity, pan, sigma in [
        ("moving-object", 3.0, 0.0, 4.0), ("panning", 3.0, 0.1, 4.0), ("static", 0.0, 0.0, 4.0),
        ("static-rough", 0.0, 0.0, 1.0), ("moving-rough", 2.0, 0.0, 1.0),
    ]:
        rng = np.random.default_rng(1)
        bg = smooth_texture(rng, h, w, (0.0, 0.2, 0.3), (0.3, 0.9, 0.9), sigma=sigma)
        fg = smooth_texture(rng, h, w, (0.7, 0.0, 0.0), (1.0, 0.3, 0.3), sigma=sigma)
        layers = [Layer(8.0, bg), Layer(2.0, fg, (w // 3, h // 4, w // 3 + w // 4, 3 * h // 4), (velocity, 0.0))]
        case = render_case(layers, offsets, frames, h, w, f, pan=pan)
        cases[name] = (case.matrix, case.truth)
    return cases


def quality(args: argparse.Namespace) -> None:
    cases = rendered_cases(args.frames)
    if (SAMPLE / "depth.npz").exists():
        frames, depth_m, _ = load_clip(args.frames)
        cases["astronaut-roundtrip"] = roundtrip_matrix(frames, depth_m, 0.06)
    inpainters = [BlackInpainter(), TeleaInpainter(), NearestBackgroundInpainter(), ClassicalInpainter()]
    print("\nhole PSNR dB / flicker excess (x1000) per inpainter")
    print(f"{'case':<22}" + "".join(f"{i.name:>26}" for i in inpainters))
    for name, (matrix, truth) in cases.items():
        holes = ~matrix.known.numpy()
        both = holes[:, 1:] & holes[:, :-1]
        truth_flicker = np.abs(np.diff(truth, axis=1)).mean(-1)[both].mean() if both.any() else 0.0
        row = f"{name:<22}"
        for inpainter in inpainters:
            out = inpainter(matrix).colors.numpy()
            psnr = 10 * np.log10(1.0 / ((out - truth) ** 2)[holes].mean())
            flicker = np.abs(np.diff(out, axis=1)).mean(-1)[both].mean() if both.any() else 0.0
            row += f"{psnr:>17.2f} / {1000 * (flicker - truth_flicker):>6.1f}"
        print(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--views", type=int, nargs="+", default=[2, 8])
    # 0.08 m is the reference rig (about 70 px of disparity at 576 px); 0.0162 m gives
    # about 2.5 % of the width, the comfortable default of a headset.
    parser.add_argument("--baseline", type=float, nargs="+", default=[0.0162, 0.08])
    parser.add_argument("--quality", action="store_true", help="also score against the baselines")
    parser.add_argument("--no-timing", action="store_true")
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    if not args.no_timing:
        timing(args)
    if args.quality:
        quality(args)


if __name__ == "__main__":
    main()
