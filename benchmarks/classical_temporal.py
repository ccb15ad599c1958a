"""Revealed-background PSNR of every fill on the temporal-recovery scenes (static-camera
occluder, panning camera), and PSNR of the known (warped) pixels against the true view.

Usage: PYTHONPATH=src python3 benchmarks/classical_temporal.py [--frames 24] [--height 256] [--width 448]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from s2vg.inpaint.baselines import BlackInpainter, NearestBackgroundInpainter, TeleaInpainter
from s2vg.inpaint.classical import ClassicalInpainter
from s2vg.metrics.cases import scene_case
from s2vg.metrics.scenes import make_scene


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(1.0 / mse)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=448)
    args = parser.parse_args()
    methods = {"black": BlackInpainter(), "telea": TeleaInpainter(), "nearest-background": NearestBackgroundInpainter(), "classical": ClassicalInpainter()}
    print("scene | method | revealed PSNR (dB) | known PSNR (dB) | fill s/frame")
    print("--- | --- | --- | --- | ---")
    for kind in ("occluder", "pan-reveal"):
        case = scene_case(make_scene(kind, height=args.height, width=args.width), frames=args.frames, views=2)
        v = case.scored_views[0]
        known = case.matrix.known[v].numpy()
        truth = case.truth[v]
        for name, method in methods.items():
            start = time.perf_counter()
            out = method(case.matrix)
            seconds = (time.perf_counter() - start) / args.frames
            colors = out.colors[v].numpy()
            print(f"{kind} | {name} | {_psnr(colors[~known], truth[~known]):.2f} | {_psnr(colors[known], truth[known]):.2f} | {seconds:.4f}")


if __name__ == "__main__":
    main()
