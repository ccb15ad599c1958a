"""Bounded memory: the peak RSS of a conversion does not grow with the length of the video.

Synthetic clips of 1x, 4x and 10x the chunk size are converted, each in a fresh
interpreter whose peak resident set size (``ru_maxrss``) is read at the end. Holding the
10x clip whole (frames, depth and a two-view frame matrix, about 200 B per pixel and
frame) would add about 50 MB to a peak of about 300 MB, so 10 % is a real margin.
About 12 s of CPU time; measured peaks here: 300, 307 and 309 MiB.
"""

from __future__ import annotations

import json
import subprocess
import sys

from test_stream_clips import write_clip

CHUNK = 4
H, W = 64, 96

# Converts argv[1] -> argv[2] and prints the peak RSS (MiB) and the JSON summary.
_MEASURE = r"""
import contextlib, io, json, resource, sys
import av, cv2, torch
import s2vg.jobs.assemble, s2vg.jobs.depth_pass, s2vg.jobs.render, s2vg.inpaint.classical
from s2vg.cli import main
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(["convert", sys.argv[1], "-o", sys.argv[2], "--depth", "heuristic", "--chunk-frames", sys.argv[3], "--context-frames", "2", "--json"])
assert code == 0
print(json.dumps({"base_mib": base, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "summary": json.loads(out.getvalue())}))
"""


def _peak(tmp_path, frames: int) -> tuple[float, dict]:
    clip = write_clip(tmp_path / f"clip_{frames}.mp4", frames=frames, height=H, width=W)
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(clip), str(tmp_path / f"out_{frames}.mp4"), str(CHUNK)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # The stated bound (frame buffers + fixed native buffers) covers the peak above the imports.
    assert result["peak_mib"] - result["base_mib"] <= result["summary"]["memory"]["mib"], result
    return result["peak_mib"], result["summary"]


def test_peak_rss_does_not_grow_with_length(tmp_path):
    peaks = {}
    for factor in (1, 4, 10):
        peaks[factor], summary = _peak(tmp_path, factor * CHUNK)
        assert summary["output_frames"] == factor * CHUNK and summary["chunks"]["count"] == factor
    print({f"{k}x": round(v, 1) for k, v in peaks.items()}, "MiB; bound above the imports", summary["memory"]["mib"], "MiB")
    assert peaks[10] <= 1.10 * peaks[1], peaks
    assert peaks[10] <= 1.10 * peaks[4], peaks
    assert peaks[4] <= 1.10 * peaks[1], peaks
