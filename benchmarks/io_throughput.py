"""Frames per second of s2vg.io reading and writing (decode, layout, encode) on the samples.

Run: python3 benchmarks/io_throughput.py [VIDEO]   (defaults to ../shared/samples/videos/davis_dolphins.mp4)
Prints one table; timings are wall-clock on this machine and noisy when other jobs run.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from s2vg.io import VideoWriter, compose, iter_chunks, probe


def main() -> None:
    default = Path(__file__).resolve().parents[2] / "shared" / "samples" / "videos" / "davis_dolphins.mp4"
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    info = probe(src)
    start = time.perf_counter()
    chunks = [c.frames for c in iter_chunks(src, chunk_frames=16)]
    read_s = time.perf_counter() - start
    print(f"input {src.name}: {info.width}x{info.height}, {info.frames} frames")
    print(f"{'step':<34}{'frames/s':>10}")
    print(f"{'decode to float32 (iter_chunks)':<34}{info.frames / read_s:>10.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        for layout, preset in (("sbs", "medium"), ("sbs", "veryfast"), ("half-sbs", "medium"), ("anaglyph", "medium")):
            start = time.perf_counter()
            first = compose(chunks[0], chunks[0], layout)
            with VideoWriter(
                Path(tmp) / f"{layout}.mp4", fps=info.fps, width=first.shape[2], height=first.shape[1],
                preset=preset, audio_source=src,
            ) as writer:
                for frames in chunks:
                    writer.write(compose(frames, frames, layout))
            rate = info.frames / (time.perf_counter() - start)
            print(f"{f'{layout} compose + encode ({preset})':<34}{rate:>10.1f}")


if __name__ == "__main__":
    main()
