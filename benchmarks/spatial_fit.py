"""Spatial video benchmark: fit dynamic Gaussians to a rendered scene's frame matrix and
score novel views and timestamps against the true renders.

Per scene (``s2vg.metrics.scenes``: moving objects, default 16 frames of 256x448, 8 views):

1. Render the truth, build the frame matrix from the source view and its true depth
   (warp + multi-plane cleanup), fill it with the classical inpainter.
2. Fit (``s2vg.spatial.fit.fit_scene``) and time it: seconds, iterations per second, peak
   resident memory of the process.
3. Render and score (PSNR in dB against the true renders):
   - *train*: the matrix's own views at the matrix's frames;
   - *novel views*: cameras half-way between neighbouring matrix views, every frame;
   - *novel times*: the matrix's views at the half-frame times t + 0.5 (the scene is
     re-timed at twice the frame rate, so its even frames are the matrix's frames);
   and the same cameras by two baselines: warping the nearest matrix view (its filled
   colours and depth, forward z-buffer warp, remaining holes filled by OpenCV Telea)
   for novel views; the previous frame and the mean of both neighbouring frames for
   novel times.
4. Render speed: frames per second over all novel-view renders.

Timings on a shared machine are noisy; the CPU count and torch threads are printed.

Usage::

    python benchmarks/spatial_fit.py                      # cards + crossing, full size
    python benchmarks/spatial_fit.py --scenes cards --height 128 --width 224 --frames 8 --iterations 300
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import time

import cv2
import numpy as np
import torch

from s2vg.config import SpatialFitConfig
from s2vg.geometry.build import build_frame_matrix
from s2vg.geometry.rig import CameraRig
from s2vg.geometry.warp import forward_warp
from s2vg.inpaint.base import get_inpainter
from s2vg.metrics.scenes import make_scene, render_scene, scene_rig
from s2vg.progress import Progress
from s2vg.spatial.fit import fit_scene
from s2vg.spatial.rasterize import has_gsplat


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((np.clip(a, 0, 1).astype(np.float64) - b) ** 2))
    return float("inf") if mse == 0 else -10 * np.log10(mse)


def half_step_scene(scene):
    """The same scene sampled twice as often: frame 2k is frame k, frame 2k+1 is time k + 0.5."""
    cards = tuple(
        dataclasses.replace(
            card,
            velocity=(card.velocity[0] / 2, card.velocity[1] / 2),
            wobble=(card.wobble[0], card.wobble[1], card.wobble[2] * 2),
        )
        for card in scene.cards
    )
    cam = (scene.camera_velocity[0] / 2, scene.camera_velocity[1] / 2)
    return dataclasses.replace(scene, cards=cards, camera_velocity=cam)


def render_views(fitted, positions: np.ndarray, times: list[float], rig: CameraRig) -> tuple[np.ndarray, float]:
    """``(P, F, H, W, 3)`` renders of parallel cameras at ``positions`` and ``times``; seconds per frame."""
    out = np.zeros((len(positions), len(times), rig.height, rig.width, 3), np.float32)
    K = rig.intrinsics(torch.float32)[None]
    start = time.perf_counter()
    for p, pos in enumerate(positions):
        viewmat = torch.eye(4)[None]
        viewmat[0, :3, 3] = -torch.as_tensor(pos, dtype=torch.float32)
        for i, t in enumerate(times):
            out[p, i] = fitted.render(viewmat, K, float(t)).image[0].clamp(0, 1).numpy()
    return out, (time.perf_counter() - start) / max(1, len(positions) * len(times))


def warp_nearest(matrix, rig: CameraRig, target: np.ndarray) -> np.ndarray:
    """``(T, H, W, 3)``: the nearest matrix view forward-warped to ``target`` (3,), holes by Telea."""
    nearest = int(np.argmin(np.linalg.norm(rig.positions - target[None], axis=1)))
    K = rig.intrinsics(torch.float64)
    tgt_from_src = torch.eye(4, dtype=torch.float64)
    tgt_from_src[:3, 3] = torch.as_tensor(rig.positions[nearest] - target)
    warped, known, _ = forward_warp(matrix.colors[nearest], matrix.depth[nearest], K, tgt_from_src)
    frames = []
    for colour, mask in zip(warped.numpy(), known.numpy()):
        u8 = (np.clip(colour, 0, 1) * 255).round().astype(np.uint8)
        filled = cv2.inpaint(u8, (~mask).astype(np.uint8) * 255, 3, cv2.INPAINT_TELEA)
        frames.append(np.where(mask[..., None], colour, filled.astype(np.float32) / 255))
    return np.stack(frames)


def run_scene(kind: str, args, config: SpatialFitConfig) -> dict:
    scene = make_scene(kind, height=args.height, width=args.width, seed=args.seed)
    rig = scene_rig(scene, views=args.views, mode="middle2leftright", divergence_pct=args.divergence)
    fine = half_step_scene(scene)
    # Truth at half-frame steps for the matrix views and the in-between views.
    between = 0.5 * (rig.positions[:-1] + rig.positions[1:])
    truth_views = render_scene(fine, rig.positions, 2 * args.frames - 1)
    truth_between = render_scene(fine, between, 2 * args.frames - 1)
    train_truth = truth_views.colors[:, ::2]  # (V, T, H, W, 3)
    source = rig.source_index
    frames = torch.from_numpy(np.ascontiguousarray(train_truth[source]))
    depth = torch.from_numpy(np.ascontiguousarray(truth_views.depth[source, ::2]))
    matrix = build_frame_matrix(frames, depth, rig)
    unknown = matrix.unknown_fraction
    matrix = get_inpainter("classical")(matrix)

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = fit_scene(matrix, config, progress=Progress(enabled=not args.quiet))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fitted = result.scene

    times = [float(t) for t in range(args.frames)]
    half_times = [t + 0.5 for t in range(args.frames - 1)]
    train_render, _ = render_views(fitted, rig.positions, times, rig)
    between_render, seconds_per_frame = render_views(fitted, between, times, rig)
    half_render, _ = render_views(fitted, rig.positions, half_times, rig)

    truth_between_int = truth_between.colors[:, ::2]
    truth_half = truth_views.colors[:, 1::2]
    filled = matrix.colors.numpy()
    warp = np.stack([warp_nearest(matrix, rig, pos) for pos in between])
    prev_frame = filled[:, :-1]
    blend = 0.5 * (filled[:, :-1] + filled[:, 1:])
    return {
        "scene": kind,
        "gaussians": [result.stats["gaussians_initial"], result.stats["gaussians_final"]],
        "fit_seconds": result.stats["seconds"],
        "iterations_per_second": result.stats["iterations_per_second"],
        "render_fps": round(1.0 / seconds_per_frame, 3),
        "peak_rss_mb": round(peak_mb, 1),
        "peak_rss_before_fit_mb": round(rss_before / 1024, 1),
        "matrix_unknown_fraction": round(unknown, 4),
        "psnr_train_vs_matrix": round(psnr(train_render, filled), 3),
        "psnr_train_vs_truth": round(psnr(train_render, train_truth), 3),
        "psnr_matrix_vs_truth": round(psnr(filled, train_truth), 3),
        "psnr_novel_views": round(psnr(between_render, truth_between_int), 3),
        "psnr_novel_views_warp_nearest": round(psnr(warp, truth_between_int), 3),
        "psnr_novel_times": round(psnr(half_render, truth_half), 3),
        "psnr_novel_times_previous_frame": round(psnr(prev_frame, truth_half), 3),
        "psnr_novel_times_blend": round(psnr(blend, truth_half), 3),
        "fit": result.stats,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", nargs="+", default=["cards", "crossing"])
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=448)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--views", type=int, default=8)
    parser.add_argument("--divergence", type=float, default=3.0, help="disparity of the nearest card between the outer views, %% of the width")
    parser.add_argument("--iterations", type=int, default=SpatialFitConfig.iterations)
    parser.add_argument("--deformation", default=SpatialFitConfig.deformation)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (1 is often faster on a busy shared machine)")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    config = SpatialFitConfig(
        iterations=args.iterations, deformation=args.deformation, device=args.device, backend=args.backend, threads=args.threads
    )
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print(f"cpus {os.cpu_count()}, torch threads {torch.get_num_threads()}, gsplat+cuda {has_gsplat()}, "
          f"{args.frames} frames x {args.height}x{args.width} x {args.views} views, {args.iterations} iterations")
    rows = [run_scene(kind, args, config) for kind in args.scenes]
    keys = [
        "fit_seconds", "iterations_per_second", "render_fps", "peak_rss_mb", "gaussians",
        "psnr_train_vs_matrix", "psnr_train_vs_truth", "psnr_matrix_vs_truth",
        "psnr_novel_views", "psnr_novel_views_warp_nearest",
        "psnr_novel_times", "psnr_novel_times_previous_frame", "psnr_novel_times_blend",
    ]
    width = max(len(k) for k in keys)
    print(f"{'':{width}}  " + "  ".join(f"{row['scene']:>14}" for row in rows))
    for key in keys:
        print(f"{key:{width}}  " + "  ".join(f"{str(row[key]):>14}" for row in rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
