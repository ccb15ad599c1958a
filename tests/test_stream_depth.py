"""The streamed depth pass against the in-memory depth stage of the whole clip.

The depth pass estimates in chunks (carrying the estimator's state), keeps values at
float16 and smooths the range over the whole video: without stabilisation it must give the
depth :func:`s2vg.depth.run_depth_stage` gives for the whole clip at once, up to float16
rounding. Stabilisation sees each chunk with its neighbours' frames as context, but scales
its depth tolerance by the spread of the frames it is given (the chunk and its context,
not the whole clip), so there it stays within a small fraction of the range.
"""

from __future__ import annotations

import numpy as np

from s2vg.cli import main
from s2vg.config import DepthStageConfig
from s2vg.depth.stage import run_depth_stage
from s2vg.io import read_frames
from s2vg.jobs import state_dir_for
from test_stream_clips import write_clip


def _streamed_and_whole(tmp_path, stabilize: bool):
    clip = write_clip(tmp_path / "clip.mp4", frames=24)
    out = tmp_path / f"o{stabilize}.mp4"
    extra = [] if stabilize else ["--no-stabilize"]
    assert main(["convert", str(clip), "-o", str(out), "--depth", "heuristic", "--chunk-frames", "6",
                 "--keep-state", "--preset", "ultrafast", "--quiet", *extra]) == 0
    state = state_dir_for(out)
    streamed = np.concatenate([np.load(state / "depth" / f"{k:06d}.npz")["inv_depth"].astype(np.float32) for k in range(4)])
    frames, _ = read_frames(clip)
    whole = run_depth_stage(frames, DepthStageConfig(estimator="heuristic", stabilize=stabilize))
    span = float(np.percentile(whole.inv_depth, 98) - np.percentile(whole.inv_depth, 2))
    return streamed, np.load(state / "range.npz"), whole, span


def test_streamed_depth_equals_the_whole_clip_stage(tmp_path):
    streamed, stored_range, whole, span = _streamed_and_whole(tmp_path, stabilize=False)
    error = np.abs(streamed - whole.inv_depth) / span
    assert error.mean() < 3e-4 and error.max() < 2e-3, (error.mean(), error.max())  # float16 rounding
    np.testing.assert_allclose(stored_range["lo"], whole.lo, atol=1e-3 * span)
    np.testing.assert_allclose(stored_range["hi"], whole.hi, atol=1e-3 * span)
    assert int(stored_range["frames"]) == 24


def test_streamed_stabilised_depth_stays_close_to_the_whole_clip_stage(tmp_path):
    streamed, stored_range, whole, span = _streamed_and_whole(tmp_path, stabilize=True)
    error = np.abs(streamed - whole.inv_depth) / span
    assert error.mean() < 0.01 and np.percentile(error, 99) < 0.05, (error.mean(), np.percentile(error, 99))
    np.testing.assert_allclose(stored_range["lo"], whole.lo, atol=0.01 * span)
    np.testing.assert_allclose(stored_range["hi"], whole.hi, atol=0.01 * span)
