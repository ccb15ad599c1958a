"""Depth quality against truth: ordinal accuracy, AbsRel and δ<1.25 after scale/shift alignment, flicker.

Usage: python benchmarks/depth_quality.py [--pairs /work/data/pairs/*] [--frames 16] [--size 256x448] [--no-scenes]

Estimators: the weight-free ``heuristic`` (the offline default), ``heuristic-dominant`` (the
heuristic as it was before the far-layer reference: the dominant motion taken as the
background), a constant ``plane`` and the position ``prior`` alone. Cases: the procedural
scenes of ``s2vg.metrics.scenes`` (exact depth and flow), the tracked-subject scene (a near
subject the camera follows, filling the frame) and real stereo pairs with true disparity
(Middlebury layout), each scored as a still image and as a 2-frame clip (left, then right
image: a real sideways camera move). Measures are defined in ``s2vg.metrics.depth_quality``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from s2vg.metrics.depth_quality import (
    default_estimators,
    format_table,
    pair_cases,
    run_depth_benchmark,
    scene_cases,
    summary_rows,
)

#: Where benchmarks/stereo_pairs.py writes the real pairs (Middlebury layout) on the development machine.
PAIRS_ROOT = Path("/work/data/pairs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_pairs = sorted(p for p in PAIRS_ROOT.glob("*") if (p / "disp0.pfm").exists())
    parser.add_argument("--pairs", nargs="*", type=Path, default=default_pairs, help="Middlebury-layout pair folders")
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--size", default="256x448", help="HxW of the rendered scenes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-scenes", action="store_true")
    parser.add_argument("--summary-only", action="store_true")
    args = parser.parse_args()
    h, w = (int(v) for v in args.size.split("x"))
    cases = [] if args.no_scenes else scene_cases(height=h, width=w, frames=args.frames, seed=args.seed)
    cases += pair_cases(args.pairs)
    rows = run_depth_benchmark(default_estimators(), cases, seed=args.seed)
    if not args.summary_only:
        print(format_table(rows))
        print()
    print(format_table(summary_rows(rows)))


if __name__ == "__main__":
    main()
