"""Seconds per frame per stage of `s2vg convert` on the sample clips, at V = 2 and V = 8.

Usage: python benchmarks/convert_stages.py [--clips PATH ...] [--views 2 8] [--max-frames 32]

Runs the real conversion (heuristic depth, classical fill, full side-by-side H.264) in a
temporary folder and prints one row per clip and view count from the `--json` summary.
Defaults to the sample clips in ../shared/samples beside the repository. On a machine
whose cores are busy with other work, run it with OMP_NUM_THREADS=1: torch's worker
threads spin while they wait for a core and can make the geometry ten times slower.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from s2vg.config import ConvertConfig
from s2vg.convert import RigRequest, convert
from s2vg.progress import Progress

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
STAGES = ("decode", "depth", "stabilize depth", "frame matrix", "inpaint", "encode")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_clips = [SAMPLES / "astronaut" / "images", SAMPLES / "videos" / "davis_dolphins.mp4", SAMPLES / "videos" / "street_demo1.mp4"]
    parser.add_argument("--clips", nargs="+", type=Path, default=[c for c in default_clips if c.exists()])
    parser.add_argument("--views", nargs="+", type=int, default=[2, 8])
    parser.add_argument("--max-frames", type=int, default=32)
    args = parser.parse_args()
    if not args.clips:
        parser.error("no clips: pass --clips (the sample clips are not beside this checkout)")
    header = ["clip", "size", "V", "frames", *[f"{s} s/f" for s in STAGES], "total s/f", "frames/s"]
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for clip in args.clips:
        for views in args.views:
            with tempfile.TemporaryDirectory() as tmp:
                summary = convert(
                    clip, Path(tmp) / "out.mp4",
                    config=ConvertConfig(depth="heuristic", inpainter="classical", max_frames=args.max_frames),
                    rig=RigRequest(views=views),
                    progress=Progress(enabled=False),
                )
            n = summary["output_frames"]
            seconds = summary["seconds"]
            w, h = summary["input_size"]
            cells = [f"{seconds.get(stage, 0.0) / n:.3f}" for stage in STAGES]
            print(" | ".join([clip.name, f"{w}x{h}", str(views), str(n), *cells,
                              f"{seconds['total'] / n:.3f}", f"{n / seconds['total']:.2f}"]))


if __name__ == "__main__":
    main()
