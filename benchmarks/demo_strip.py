"""How `s2vg demo`'s right eyes look along the border strip: PSNR and steadiness against the truth.

    python3 benchmarks/demo_strip.py [--scene pan] [--columns 16]

Runs the demo (the rendered scene converted with its true depth and with the default
estimator), then prints, for each right eye: PSNR over the whole frame and over the
``--columns`` columns at the right border (where a left-to-right view shows content the
source never framed), and the mean frame-to-frame change of those columns in 8-bit levels
beside the truth's. A fill that copies a surface into the strip before it enters the
frame shows as specks: a lower strip PSNR and a change well above the truth's.
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np

from s2vg.config import DemoConfig
from s2vg.io import read_frames
from s2vg.metrics.demo import run_demo
from s2vg.metrics.metrics import psnr
from s2vg.metrics.scenes import make_scene, render_scene, scene_rig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scene", default="pan")
    parser.add_argument("--columns", type=int, default=16)
    args = parser.parse_args()
    config = DemoConfig(scene=args.scene)
    scene = make_scene(config.scene, height=config.height, width=config.width, seed=config.seed)
    truth = render_scene(scene, scene_rig(scene, views=2, divergence_pct=config.divergence), config.frames).colors[1]
    k = args.columns
    change_truth = float(np.abs(np.diff(truth[:, :, -k:], axis=0)).mean() * 255)
    with tempfile.TemporaryDirectory(prefix="s2vg-demo-strip-") as tmp:
        summary = run_demo(config, tmp)
        print(f"| right eye ({args.scene}) | PSNR all (dB) | PSNR right {k} columns (dB) | change there (8-bit) | truth's change |")
        print("|---|---|---|---|---|")
        for label in ("true depth", "estimated depth"):
            if label not in summary["outputs"]:
                continue
            frames, _ = read_frames(summary["outputs"][label])
            right = frames[:, :, config.width:]
            change = float(np.abs(np.diff(right[:, :, -k:], axis=0)).mean() * 255)
            print(f"| {label} | {psnr(right, truth):.2f} | {psnr(right[:, :, -k:], truth[:, :, -k:]):.2f} | {change:.2f} | {change_truth:.2f} |")


if __name__ == "__main__":
    main()
