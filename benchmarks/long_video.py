"""Long videos in bounded memory: peak RSS against length and resolution, seams on a real clip.

Run: python3 benchmarks/long_video.py [--size 128x192] [--chunk 8] [--lengths 1,4,10] [--sizes 64x96,128x192,256x384]

1. Peak RSS for clips of 1x, 4x and 10x the chunk size (synthetic, panning texture and a
   nearer moving square), each converted in a fresh interpreter (``ru_maxrss``); the peak
   must not grow with the length.
2. Peak RSS above the interpreter's base (imports done) at several frame sizes for one
   length, next to the bound that ``s2vg convert --json`` prints (``summary["memory"]``).
3. The seam measure (:mod:`s2vg.metrics.seams`) of a real clip converted with a chunk size
   that forces several seams (``../shared/samples/videos/davis_dolphins.mp4`` at a quarter
   of its size, 40 frames, chunk 8), boundary jumps next to the interior spread.

Timings are wall-clock on a shared 2-core machine: noisy when other jobs run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_stream_clips import write_clip  # noqa: E402  (the synthetic clip of the tests)

# Converts argv[1] -> argv[2]; prints base RSS after imports, peak RSS and the summary.
_MEASURE = r"""
import contextlib, io, json, resource, sys, time
import cv2, torch, av
import s2vg.jobs.depth_pass, s2vg.jobs.render, s2vg.jobs.assemble, s2vg.inpaint.classical
from s2vg.cli import main
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out = io.StringIO()
start = time.perf_counter()
with contextlib.redirect_stdout(out):
    code = main(["convert", sys.argv[1], "-o", sys.argv[2], "--depth", "heuristic", "--chunk-frames", sys.argv[3], "--json"])
assert code == 0
print(json.dumps({"base": base, "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "seconds": time.perf_counter() - start, "summary": json.loads(out.getvalue())}))
"""

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "samples" / "videos" / "davis_dolphins.mp4"


def _size(text: str) -> tuple[int, int]:
    h, w = (int(v) for v in text.lower().split("x"))
    return h, w


def measure(folder: Path, frames: int, height: int, width: int, chunk: int) -> dict:
    clip = write_clip(folder / f"clip_{frames}_{height}.mp4", frames=frames, height=height, width=width)
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(clip), str(folder / f"out_{frames}_{height}.mp4"), str(chunk)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def seams(folder: Path) -> dict | None:
    if not SAMPLE.exists():
        return None
    import cv2
    import numpy as np

    from s2vg.cli import main
    from s2vg.io import VideoWriter, read_frames
    from s2vg.metrics.seams import video_seams

    frames, info = read_frames(SAMPLE, max_frames=40)
    small = np.stack([cv2.resize(f, (240, 136), interpolation=cv2.INTER_AREA) for f in frames])
    clip = folder / "dolphins_small.mp4"
    with VideoWriter(clip, fps=info.fps, width=240, height=136, crf=10, preset="veryfast") as writer:
        writer.write(small)
    out = folder / "dolphins_sbs.mp4"
    assert main(["convert", str(clip), "-o", str(out), "--depth", "heuristic", "--chunk-frames", "8", "--quiet"]) == 0
    return video_seams(out, 8, "sbs").as_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=_size, default=(128, 192), help="HxW of the length series (default 128x192)")
    parser.add_argument("--chunk", type=int, default=8, help="chunk frames N (default 8)")
    parser.add_argument("--lengths", default="1,4,10", help="lengths in chunks (default 1,4,10)")
    parser.add_argument("--sizes", default="64x96,128x192,256x384", help="HxW list of the resolution series")
    parser.add_argument("--no-seams", action="store_true", help="skip the real-clip seam measure")
    args = parser.parse_args()
    h, w = args.size
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"1. peak RSS against length ({h}x{w}, chunk {args.chunk}, heuristic depth, classical fill, V = 2)")
        print(f"{'length':>8}{'frames':>8}{'peak MiB':>10}{'above base':>12}{'bound MiB':>11}{'s':>8}")
        peaks = []
        for factor in (int(v) for v in args.lengths.split(",")):
            r = measure(folder, factor * args.chunk, h, w, args.chunk)
            peaks.append(r["peak"])
            print(f"{factor:>7}x{factor * args.chunk:>8}{r['peak']:>10.1f}{r['peak'] - r['base']:>12.1f}"
                  f"{r['summary']['memory']['mib']:>11.1f}{r['seconds']:>8.1f}")
        print(f"largest / smallest peak: {max(peaks) / min(peaks):.3f}")
        print(f"\n2. peak RSS above the base against frame size (length 3 chunks of {args.chunk})")
        print(f"{'size':>10}{'pixels':>9}{'above base':>12}{'bound MiB':>11}")
        for size in args.sizes.split(","):
            sh, sw = _size(size)
            r = measure(folder, 3 * args.chunk, sh, sw, args.chunk)
            print(f"{size:>10}{sh * sw:>9}{r['peak'] - r['base']:>12.1f}{r['summary']['memory']['mib']:>11.1f}")
        print(f"   formula: {r['summary']['memory']['formula']}")
        if not args.no_seams:
            report = seams(folder)
            if report is None:
                print("\n3. seams: ../shared/samples/videos is absent; skipped")
            else:
                print("\n3. seams of davis_dolphins (240x136, 40 frames, chunk 8; boundaries 8, 16, 24, 32)")
                for name in ("colour", "disparity"):
                    m = report[name]
                    print(f"   {name:<10} boundary {m['boundary']}  interior mean {m['interior_mean']} "
                          f"std {m['interior_std']} max {m['interior_max']}  within spread: {m['within_spread']}")


if __name__ == "__main__":
    main()
