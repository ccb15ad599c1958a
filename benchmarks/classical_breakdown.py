"""Hole PSNR split into disocclusions and the off-frame strip, and hole flicker, per scene.

    python3 benchmarks/classical_breakdown.py [METHOD ...]

Renders every ``s2vg eval`` scene (16 frames, 256x448, V = 2, as ``s2vg eval`` with its
defaults), fills it with each method (default: telea, nearest-background, classical;
``name:key=value`` as ``s2vg eval --method``) and prints per scene and method the hole
PSNR, its disoccluded and off-frame parts (:func:`s2vg.metrics.score.offframe_mask`), the
motion-compensated hole flicker in 8-bit levels, the same over persisting holes only (hole
pixels whose place in the previous frame was a hole too: the stability of the invented
pixels themselves), and the fill time, then the means (of the finite values; a part with
every pixel exact scores inf).
Real pairs: ``benchmarks/stereo_pairs.py DIR --score``.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from s2vg.config import SCENE_KINDS, EvalConfig
from s2vg.inpaint.base import get_inpainter
from s2vg.metrics.cases import scene_case
from s2vg.metrics.eval import parse_method
from s2vg.metrics.scenes import make_scene
from s2vg.metrics.score import score_filled


def main() -> None:
    specs = sys.argv[1:] or ["telea", "nearest-background", "classical"]
    methods = []
    for spec in specs:
        label, name, options = parse_method(spec)
        methods.append((label, get_inpainter(name, **options)))
    cfg = EvalConfig()
    print("| scene | off-frame % | method | PSNR holes | disoccluded | off-frame | flicker (8-bit) | persisting-hole flicker | fill (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    means: dict[str, list[list[float]]] = {label: [] for label, _ in methods}
    for kind in SCENE_KINDS:
        case = scene_case(make_scene(kind, height=cfg.height, width=cfg.width, seed=cfg.seed), frames=cfg.frames,
                          divergence_pct=cfg.divergence)
        for label, inpainter in methods:
            start = time.perf_counter()
            filled = inpainter(case.matrix)
            seconds = time.perf_counter() - start
            s = score_filled(case, filled)
            row = [s["psnr_holes"], s["psnr_disoccluded"], s["psnr_offframe"], 255 * s["flicker_holes"], 255 * s["flicker_persist"]]
            means[label].append(row)
            print(f"| {kind} | {100 * s['offframe_fraction']:.1f} | {label} | " + " | ".join(f"{v:.2f}" for v in row) + f" | {seconds:.2f} |")
    for label, rows in means.items():
        arr = np.array(rows, dtype=np.float64)
        arr[~np.isfinite(arr)] = np.nan
        mean = [float(np.nanmean(arr[:, i])) if not np.isnan(arr[:, i]).all() else math.nan for i in range(arr.shape[1])]
        print(f"| mean | | {label} | " + " | ".join(f"{v:.2f}" for v in mean) + " | |")


if __name__ == "__main__":
    main()
