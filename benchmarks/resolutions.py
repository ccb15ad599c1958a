"""Real resolutions: frames/s per stage, peak RSS and the chosen chunk size, 576x320 to 3840x2160.

Run: python3 benchmarks/resolutions.py [--sizes 576x320,1280x720,1920x1080,3840x2160]
         [--frames 59,24,24,12] [--lengths 1,4] [--extra "--chunk-frames 32"] [--keep DIR]

Each clip is a real sample (``../shared/samples/videos/davis_dolphins.mp4``, 960x540, 59
frames) resized to the size with OpenCV (INTER_AREA down, INTER_CUBIC up) and made longer
by playing it forwards and backwards (no cut), encoded at CRF 12. Every conversion is
``s2vg convert CLIP -o OUT.mp4 --views 2 --json`` plus ``--extra``, run in a fresh
process whose peak resident set size is read with ``os.wait4`` (the whole process, so
interpreter and libraries included). ``--lengths 1,4`` converts each clip at its frame
count and at four times it, for the scaling of the peak with the length.

Stage frames/s are frames divided by the seconds the job spent in that stage (``--json``
``seconds``); timings are wall-clock on whatever machine runs it (a shared 2-core one is
noisy; peak RSS is not affected by contention).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "samples" / "videos" / "davis_dolphins.mp4"
if not SAMPLE.exists():
    SAMPLE = Path("/work/shared/samples/videos/davis_dolphins.mp4")


def _size(text: str) -> tuple[int, int]:
    w, h = (int(v) for v in text.lower().split("x"))
    return w, h


def make_clip(path: Path, width: int, height: int, frames: int) -> Path:
    """The sample resized to ``width x height``, ping-ponged to ``frames`` frames (cached)."""
    if path.exists():
        return path
    import cv2
    import numpy as np

    from s2vg.io import VideoWriter, read_frames

    source, info = read_frames(SAMPLE)
    src_h, src_w = source.shape[1:3]
    interp = cv2.INTER_AREA if width * height <= src_w * src_h else cv2.INTER_CUBIC
    order = list(range(len(source))) + list(range(len(source) - 2, 0, -1))  # forwards, backwards, no repeat
    tmp = path.with_suffix(".tmp.mp4")
    with VideoWriter(tmp, fps=info.fps, width=width, height=height, crf=12, preset="veryfast") as writer:
        for i in range(frames):
            frame = cv2.resize(source[order[i % len(order)]], (width, height), interpolation=interp)
            writer.write(np.clip(frame, 0.0, 1.0)[None])
    os.replace(tmp, path)
    return path


def _run(cmd: list[str]) -> tuple[int, str, str, float, float]:
    """``(returncode, stdout, stderr, peak RSS MiB, seconds)`` of a command, via ``os.wait4``."""
    import tempfile

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return proc.returncode, out.read(), err.read(), usage.ru_maxrss / 1024, seconds


def measure(clip: Path, out: Path, extra: list[str]) -> dict:
    cmd = [sys.executable, "-m", "s2vg.cli", "convert", str(clip), "-o", str(out), "--views", "2", "--json", "--overwrite", *extra]
    code, stdout, stderr, peak, seconds = _run(cmd)
    if code != 0:
        raise SystemExit(f"conversion failed ({code}): {' '.join(cmd)}\n{stderr[-2000:]}")
    summary = json.loads(stdout)
    return {"summary": summary, "peak_mib": peak, "seconds": seconds}


def stage_fps(summary: dict) -> dict[str, float]:
    frames = summary["output_frames"]
    return {k: frames / v for k, v in summary["seconds"].items() if v > 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="576x320,1280x720,1920x1080,3840x2160", help="WxH list")
    parser.add_argument("--frames", default="59,24,24,12", help="frames per size (one value or one per size)")
    parser.add_argument("--lengths", default="1,4", help="length factors (default 1,4)")
    parser.add_argument("--extra", default="", help="more convert options, e.g. '--chunk-frames 32'")
    parser.add_argument("--keep", default=None, help="folder for clips and outputs (kept); default a temporary one")
    args = parser.parse_args()
    import shlex
    import tempfile

    sizes = [_size(s) for s in args.sizes.split(",")]
    frames = [int(v) for v in args.frames.split(",")]
    frames = frames * len(sizes) if len(frames) == 1 else frames
    factors = [int(v) for v in args.lengths.split(",")]
    extra = shlex.split(args.extra)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="s2vg-res-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"s2vg convert CLIP -o OUT.mp4 --views 2 {args.extra}  (clips and outputs in {folder})")
    rows = []
    for (w, h), n in zip(sizes, frames):
        base_peak = None
        for factor in factors:
            count = n * factor
            clip = make_clip(folder / f"clip_{w}x{h}_{count}.mp4", w, h, count)
            r = measure(clip, folder / f"out_{w}x{h}_{count}.mp4", extra)
            s = r["summary"]
            fps = stage_fps(s)
            base_peak = base_peak or r["peak_mib"]
            row = {
                "size": f"{w}x{h}", "frames": count, "chunk": s["chunks"]["chunk_frames"],
                "peak_mib": round(r["peak_mib"], 1), "peak_ratio": round(r["peak_mib"] / base_peak, 3),
                "fps": round(count / r["seconds"], 3),
                "stage_fps": {k: round(v, 2) for k, v in fps.items()},
                "budget": s.get("memory", {}).get("budget_mib"),
                "device": s.get("device"),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    print()
    stages = ["decode", "depth", "stabilize depth", "frame matrix", "inpaint", "encode"]
    head = f"{'size':>10}{'frames':>7}{'chunk':>6}{'peak MiB':>10}{'xpeak':>7}{'fps':>7}" + "".join(f"{s[:12]:>14}" for s in stages)
    print(head)
    for r in rows:
        print(f"{r['size']:>10}{r['frames']:>7}{r['chunk']:>6}{r['peak_mib']:>10.0f}{r['peak_ratio']:>7.3f}{r['fps']:>7.2f}"
              + "".join(f"{r['stage_fps'].get(s, float('nan')):>14.2f}" for s in stages))
    print("(stage columns: frames / seconds spent in that stage; fps: frames / wall seconds of the whole process)")


if __name__ == "__main__":
    main()
