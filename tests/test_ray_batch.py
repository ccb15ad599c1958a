"""``--executor ray``: a batch (one input corrupt) on a local Ray instance with 2 CPUs.

The good inputs must come out identical to the single-process run (each chunk is a pure
function of the state folder and the input, whichever worker renders it); the corrupt one
fails inside a Ray task, is reported in the table, and the exit code is 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from test_stream_clips import write_clip
from s2vg.cli import main
from s2vg.io import read_frames

ray = pytest.importorskip("ray")

OPTIONS = ["--depth", "heuristic", "--chunk-frames", "6", "--context-frames", "2", "--preset", "ultrafast", "--quiet"]


@pytest.fixture(scope="module")
def local_ray():
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="error")
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[Path]:
    from s2vg.io import VideoWriter

    folder = tmp_path_factory.mktemp("ray")
    good = [write_clip(folder / "a.mp4", frames=12, seed=1, audio=True), write_clip(folder / "b.mp4", frames=12, seed=2)]
    # A file whose header promises 24 frames (index first, +faststart) but whose data stops early:
    # it probes fine on the driver and fails while a Ray task decodes it.
    rng = np.random.default_rng(3)
    whole = folder / "whole.mp4"
    with VideoWriter(whole, fps=24, width=96, height=64, crf=0, preset="ultrafast") as writer:
        writer.write(rng.random((24, 64, 96, 3), dtype=np.float32))
    data = whole.read_bytes()
    (folder / "broken.mp4").write_bytes(data[: int(len(data) * 0.4)])
    whole.unlink()
    return [good[0], folder / "broken.mp4", good[1]]


def test_ray_batch_equals_single_process_and_reports_the_failure(local_ray, clips, tmp_path, capsys):
    good = [clips[0], clips[2]]
    single = tmp_path / "single"
    assert main(["convert", *map(str, good), "-o", str(single), *OPTIONS]) == 0
    capsys.readouterr()

    distributed = tmp_path / "ray"
    code = main(["convert", *map(str, clips), "-o", str(distributed), "--executor", "ray", "--keep-going", *OPTIONS, "--json"])
    captured = capsys.readouterr()
    assert code == 1
    summary = json.loads(captured.out)
    assert summary["executor"] == "ray"
    assert [r["status"] for r in summary["rows"]] == ["done", "failed", "done"]
    assert "broken.mp4" in summary["rows"][1]["reason"] and "truncated" in summary["rows"][1]["reason"]
    assert "1 of 3 inputs failed" in captured.err
    for clip in good:
        name = f"{clip.stem}_LRF_Full_SBS.mp4"
        ours, _ = read_frames(distributed / name)
        theirs, _ = read_frames(single / name)
        np.testing.assert_array_equal(ours, theirs)
    assert sorted(p.name for p in distributed.iterdir()) == ["a_LRF_Full_SBS.mp4", "b_LRF_Full_SBS.mp4"]
    assert all(r["job"]["executor"] == "ray" for r in summary["results"])
