"""Time the ground-truth scene renderer and run the default ``s2vg eval``; print the tables.

Usage::

    python3 benchmarks/eval_report.py [OUTPUT_DIR]     # default /tmp/s2vg-eval

Prints: render time per scene kind (16 frames, 256x448, 8 views), then the evaluation's
mean table over the rendered scenes and over the real clips (round trip), the classical
inpainter's margins over each baseline, and the wall time of each part. Timings on a
shared machine are noisy; run twice and keep the lower.
"""

from __future__ import annotations

import sys
import time

from s2vg.config import SCENE_KINDS, EvalConfig
from s2vg.metrics.eval import run_eval
from s2vg.metrics.report import markdown_table
from s2vg.metrics.scenes import make_scene, render_scene, scene_rig


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/s2vg-eval"
    print("| scene | render 16 x 256x448 x 8 views (s) |\n|---|---|")
    for kind in SCENE_KINDS:
        scene = make_scene(kind)
        rig = scene_rig(scene, views=8)
        start = time.perf_counter()
        render_scene(scene, rig, 16)
        print(f"| {kind} | {time.perf_counter() - start:.2f} |")
    print()
    summary = run_eval(EvalConfig(), out)
    print("Rendered scenes (mean):\n" + markdown_table(summary["summary"]["scenes"]) + "\n")
    if summary["summary"]["clips"]:
        print("Real clips, round trip (mean):\n" + markdown_table(summary["summary"]["clips"]) + "\n")
    for name, m in summary["margins"].items():
        print(
            f"classical vs {name}: PSNR holes +{m['psnr_gain_mean']:.2f} dB (min {m['psnr_gain_min']:.2f}), "
            f"flicker -{255 * m['flicker_reduction_mean']:.2f} levels (min {255 * m['flicker_reduction_min']:.2f}), "
            f"wins {m['psnr_wins']}/{m['cases']} PSNR, {m['flicker_wins']}/{m['cases']} flicker"
        )
    print(f"classical beats every baseline: {summary['classical_beats_baselines']}")
    print(f"skipped: {list(summary['skipped'])}")
    print(f"seconds: {summary['seconds']}")
    print(f"outputs: {summary['outputs']}")


if __name__ == "__main__":
    main()
