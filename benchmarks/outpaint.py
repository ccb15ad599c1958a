"""Outpaint, then inpaint: PSNR in the border strip of the new view, with and without outpainting.

The border strip of a view is the set of its pixels whose content lies beyond the source
frame's border (:func:`s2vg.inpaint.outpaint.border_strip`, from the view's true depth):
no real pixel can fill it. Every method fills the rest of the holes with the classical
inpainter, so only the strip differs.

Cases:

- rendered scenes (:mod:`s2vg.metrics.scenes`) rendered wider than the frame, so the
  truth beyond the border exists; the source view and its true depth go through the
  geometry, the new view's truth is rendered;
- real clips with the round-trip protocol (:func:`s2vg.metrics.cases.round_trip_case`):
  the real frames are the new (right) view, the source is their warp to a camera on the
  left; the real frames are the truth of the right view's border strip.

Methods: ``none`` (the plain frame matrix, the strip filled by the classical inpainter
like any hole), ``black`` (the strip left black), ``stretch`` (the source's border pixel
repeated: edge stretching), ``mirror``, ``classical`` (outpainting with the classical
fill), and for scenes ``truth`` (the render's own margin warped: the upper bound, which
also checks the geometry). The diffusion extension needs real weights; with
``--model DIR`` it is added as ``diffusion``.

    python3 benchmarks/outpaint.py                       # 6 scenes + the sample clips, 8 frames
    python3 benchmarks/outpaint.py --scenes border pan --no-clips --divergence 4

Timings are wall-clock on a shared CPU (noisy).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from s2vg.config import SCENE_KINDS, EvalConfig
from s2vg.geometry.build import build_frame_matrix
from s2vg.inpaint.classical import ClassicalInpainter
from s2vg.inpaint.outpaint import (
    border_strip,
    build_frame_matrix_outpainted,
    inpaint_outpainted,
    outpaint_margins,
    warp_extended,
)
from s2vg.metrics.scenes import make_scene, render_scene, scene_rig
from s2vg.progress import SILENT


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return 10.0 * np.log10(1.0 / max(mse, 1e-12))


def score(colors: torch.Tensor, truth: np.ndarray, strip: np.ndarray) -> float:
    return psnr(colors.numpy()[strip], truth[strip])


def run_methods(frames, depth, rig, target, truth, strip, methods, denoiser=None, prompt="", truth_ext=None):
    """PSNR in ``strip`` of view ``target`` and seconds, per method."""
    fill = ClassicalInpainter()
    out = {}
    for method in methods:
        start = time.perf_counter()
        if method in ("none", "black"):
            matrix = build_frame_matrix(frames, depth, rig)
            colors = fill(matrix).colors[target] if method == "none" else matrix.colors[target]
        elif method == "truth":
            wide, wide_depth, left, right = truth_ext
            colors = inpaint_outpainted(fill, warp_extended(wide, wide_depth, rig, left, right)).colors[target]
        else:
            matrix = build_frame_matrix_outpainted(frames, depth, rig, method=method, denoiser=denoiser, prompt=prompt)
            colors = inpaint_outpainted(fill, matrix).colors[target]
        out[method] = (score(colors, truth, strip), time.perf_counter() - start)
    return out


def scene_rows(kinds, height, width, frames, divergence, methods):
    rows = []
    for kind in kinds:
        scene = make_scene(kind, height=height, width=width, seed=0)
        rig = scene_rig(scene, views=2, divergence_pct=divergence)
        depth0 = render_scene(scene, rig, frames).depth[0]
        left, right = outpaint_margins(torch.from_numpy(depth0), rig)
        m = max(left, right, 1)
        shot = render_scene(scene, rig, frames, margin=m)
        inner = slice(m, -m)
        wide, wide_depth = shot.colors[0][:, inner], shot.depth[0][:, inner]  # rows cropped, columns wide
        src, src_depth = torch.from_numpy(wide[:, :, inner]), torch.from_numpy(wide_depth[:, :, inner])
        target = rig.views - 1
        truth, truth_depth = shot.colors[target][:, inner, inner], shot.depth[target][:, inner, inner]
        strip = border_strip(truth_depth, rig.positions[target, 0], rig.focal)
        cols = slice(m - left, wide.shape[2] - (m - right))
        truth_ext = (torch.from_numpy(wide[:, :, cols]), torch.from_numpy(wide_depth[:, :, cols]), left, right)
        result = run_methods(src, src_depth, rig, target, truth, strip, methods + ["truth"], truth_ext=truth_ext)
        rows.append((f"scene:{kind}", (left, right), float(strip.mean()), result))
    return rows


def clip_rows(frames_count, divergence, max_width, methods, denoiser=None, prompt=""):
    from s2vg.metrics.cases import round_trip_case
    from s2vg.metrics.eval import default_clips, load_clip

    rows = []
    config = EvalConfig(frames=frames_count, clip_max_width=max_width)
    for spec in default_clips():
        name, frames, depth_m, _ = load_clip(spec, config, SILENT)
        case = round_trip_case(frames, depth_m, name=name, divergence_pct=divergence, with_flow=False)
        matrix, rig = case.matrix, case.matrix.rig
        target = case.scored_views[0]
        src, src_depth = matrix.colors[rig.source_index], matrix.depth[rig.source_index]
        strip = border_strip(depth_m, rig.positions[target, 0], rig.focal)
        margins = outpaint_margins(src_depth, rig)
        result = run_methods(src, src_depth, rig, target, case.truth[target], strip, methods, denoiser, prompt)
        rows.append((f"round-trip:{name}", margins, float(strip.mean()), result))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", nargs="*", default=list(SCENE_KINDS))
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--width", type=int, default=224)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--divergence", type=float, default=3.0, help="nearest disparity, percent of the width")
    parser.add_argument("--no-clips", action="store_true", help="skip the real sample clips")
    parser.add_argument("--clip-width", type=int, default=288)
    parser.add_argument("--model", default=None, help="video model folder for the diffusion extension")
    parser.add_argument("--prompt", default="")
    args = parser.parse_args()

    methods = ["none", "black", "stretch", "mirror", "classical"]
    denoiser = None
    if args.model:
        from s2vg.inpaint.diffusion import backend_for_folder, load_denoiser

        denoiser = load_denoiser(backend_for_folder(args.model) or "zeroscope", model=args.model)
        methods.append("diffusion")
    start = time.perf_counter()
    rows = scene_rows(args.scenes, args.height, args.width, args.frames, args.divergence, methods)
    if not args.no_clips:
        rows += clip_rows(args.frames, args.divergence, args.clip_width, methods, denoiser, args.prompt)
    labels = methods + ["truth"]
    print(f"\nPSNR (dB) in the border strip of the new view; {args.frames} frames, divergence {args.divergence:g} %, "
          f"scenes {args.height}x{args.width}; remaining holes filled by the classical inpainter")
    print(f"{'case':24}{'margins':>10}{'strip %':>9}" + "".join(f"{m:>11}" for m in labels))
    for name, margins, frac, result in rows:
        cells = "".join(f"{result[m][0]:>11.2f}" if m in result else f"{'-':>11}" for m in labels)
        print(f"{name:24}{str(margins):>10}{100 * frac:>9.2f}{cells}")
    for m in labels:
        values = [r[m][0] for _, margins, frac, r in rows if m in r and frac > 0]
        if values:
            print(f"  mean {m:10} {np.mean(values):6.2f} dB over {len(values)} cases")
    print("seconds per case (matrix + fill): " + ", ".join(
        f"{m} {np.mean([r[m][1] for *_, r in rows if m in r]):.2f}" for m in labels))
    print(f"total {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
