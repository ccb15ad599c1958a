"""Resumable jobs: a conversion killed part-way and resumed gives the frames of an uninterrupted run.

The conversion runs in a subprocess that sends itself SIGKILL (no clean-up of any kind)
as soon as its manifest records a given number of finished chunks, in the depth pass or
in the render pass. ``--resume`` then continues it; the decoded output must equal an
uninterrupted run's exactly (x264 is deterministic for identical input and settings).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from test_stream_clips import write_clip
from s2vg.io import probe, read_frames
from s2vg.jobs import state_dir_for

# Runs `s2vg` in a fresh interpreter and kills itself once the manifest shows `count`
# finished chunks under `key` ("depth_chunks" for the depth pass, "segments" for rendering).
_DRIVER = r"""
import json, os, signal, sys
kill = json.loads(sys.argv[1])
if kill:
    import s2vg.jobs.job as job_module, s2vg.jobs.depth_pass as depth_pass
    original = job_module.update_progress
    def update_progress(spec, **changes):
        original(spec, **changes)
        value = spec.state.load_manifest()["progress"].get(kill["key"]) or 0
        if (len(value) if isinstance(value, list) else value) >= kill["count"]:
            os.kill(os.getpid(), signal.SIGKILL)
    job_module.update_progress = depth_pass.update_progress = update_progress
from s2vg.cli import main
sys.exit(main(sys.argv[2:]))
"""

OPTIONS = ["--depth", "heuristic", "--chunk-frames", "6", "--context-frames", "2", "--crf", "23", "--quiet"]


def _run(args: list[str], kill: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _DRIVER, json.dumps(kill), "convert", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def clip_and_reference(tmp_path_factory) -> tuple[Path, np.ndarray]:
    folder = tmp_path_factory.mktemp("resume")
    clip = write_clip(folder / "clip.mp4", frames=24, audio=True)
    reference = folder / "reference.mp4"
    done = _run([str(clip), "-o", str(reference), *OPTIONS])
    assert done.returncode == 0, done.stderr
    frames, _ = read_frames(reference)
    assert not state_dir_for(reference).exists()
    return clip, frames


@pytest.mark.parametrize("key,count", [("depth_chunks", 2), ("segments", 2)])
def test_killed_job_resumes_to_identical_frames(clip_and_reference, tmp_path, key, count):
    clip, reference = clip_and_reference
    out = tmp_path / "out.mp4"
    killed = _run([str(clip), "-o", str(out), *OPTIONS], kill={"key": key, "count": count})
    assert killed.returncode == -signal.SIGKILL
    state = state_dir_for(out)
    assert not out.exists() and state.is_dir()
    progress = json.loads((state / "manifest.json").read_text())["progress"]
    assert progress["segments" if key == "segments" else "depth_chunks"]  # killed after a finished chunk

    resumed = _run([str(clip), "-o", str(out), *OPTIONS, "--resume", "--json"])
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["job"]["resumed"] is True
    frames, _ = read_frames(out)
    np.testing.assert_array_equal(frames, reference)
    info = probe(out)
    assert info.frames == 24 and len(info.audio) == 1
    assert not state.exists()  # state files are removed once the output is complete


def test_changed_option_or_input_is_refused(clip_and_reference, tmp_path):
    clip, _ = clip_and_reference
    source = tmp_path / "in.mp4"
    source.write_bytes(clip.read_bytes())
    out = tmp_path / "out.mp4"
    assert _run([str(source), "-o", str(out), *OPTIONS], kill={"key": "depth_chunks", "count": 1}).returncode == -signal.SIGKILL

    changed_option = _run([str(source), "-o", str(out), *OPTIONS, "--divergence", "3", "--resume"])
    assert changed_option.returncode == 2
    assert "other options" in changed_option.stderr and "divergence" in changed_option.stderr
    assert len(changed_option.stderr.strip().splitlines()) == 1

    write_clip(source, frames=24, seed=5)  # same path, other content
    changed_input = _run([str(source), "-o", str(out), *OPTIONS, "--resume"])
    assert changed_input.returncode == 2
    assert "another input" in changed_input.stderr and len(changed_input.stderr.strip().splitlines()) == 1
    assert not out.exists() and state_dir_for(out).is_dir()  # refusing touches nothing


@pytest.mark.slow
def test_real_clip_resumes_to_identical_frames(tmp_path):
    """The same on real content (the dolphins sample at a quarter size), killed in the render pass."""
    import cv2

    from s2vg.io import VideoWriter

    source = Path(__file__).resolve().parents[2] / "shared" / "samples" / "videos" / "davis_dolphins.mp4"
    if not source.exists():
        pytest.skip("../shared/samples/videos is not present next to the repository")
    frames, info = read_frames(source, max_frames=32)
    clip = tmp_path / "dolphins.mp4"
    with VideoWriter(clip, fps=info.fps, width=240, height=136, crf=10, preset="veryfast") as writer:
        writer.write(np.stack([cv2.resize(f, (240, 136), interpolation=cv2.INTER_AREA) for f in frames]))
    options = ["--depth", "heuristic", "--chunk-frames", "8", "--quiet"]
    assert _run([str(clip), "-o", str(tmp_path / "whole.mp4"), *options]).returncode == 0
    out = tmp_path / "resumed.mp4"
    assert _run([str(clip), "-o", str(out), *options], kill={"key": "segments", "count": 2}).returncode == -signal.SIGKILL
    assert _run([str(clip), "-o", str(out), *options, "--resume"]).returncode == 0
    assert out.read_bytes() == (tmp_path / "whole.mp4").read_bytes()
