"""The sliding render window and the classical fill of a frame range.

Both are optimisations that must not change a single output value: a window advanced
chunk by chunk holds exactly the matrix a fresh warp of its frames gives, also after the
chunk's frames were filled in place, and a fill of some frames equals, on those frames,
the fill of all of them.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from s2vg.geometry.build import build_frame_matrix
from s2vg.inpaint.classical import ClassicalInpainter
from s2vg.jobs.window import MatrixWindow
from s2vg.metrics.cases import scene_case
from s2vg.metrics.scenes import make_scene, render_scene, scene_rig


def _clip(frames: int = 10):
    scene = make_scene("occluder", height=40, width=72, seed=3)
    rig = scene_rig(scene, views=3, mode="left2right", divergence_pct=4.0)
    shot = render_scene(scene, rig, frames)
    if shot.margin:
        shot = shot.crop()
        rig = scene_rig(make_scene("occluder", height=shot.colors.shape[2], width=shot.colors.shape[3], seed=3),
                        views=3, mode="left2right", divergence_pct=4.0)
    src = rig.source_index
    return rig, shot.colors[src].astype(np.float32), shot.depth[src].astype(np.float32)


def _assert_same(window_matrix, fresh):
    assert torch.equal(window_matrix.known, fresh.known)
    assert torch.equal(window_matrix.colors, fresh.colors)
    assert torch.equal(window_matrix.depth, fresh.depth)


@pytest.mark.parametrize("chunk,context", [(1, 2), (2, 3), (3, 1), (4, 0)])
def test_window_advanced_chunk_by_chunk_equals_a_fresh_warp_even_after_in_place_fills(chunk, context):
    rig, frames, depth = _clip(10)
    total = len(frames)
    window = MatrixWindow(rig, chunk + 2 * context)
    fill = ClassicalInpainter()
    for start in range(0, total, chunk):
        stop = min(total, start + chunk)
        lo, hi = max(0, start - context), min(total, stop + context)
        first = lo + window.shared(lo)
        window.advance(lo, hi, frames[first:hi], torch.from_numpy(depth[first:hi]))
        fresh = build_frame_matrix(torch.from_numpy(frames[lo:hi]), torch.from_numpy(depth[lo:hi]), rig)
        core = slice(start - lo, stop - lo)
        matrix = window.matrix()
        _assert_same(matrix, fresh)
        filled = fill(matrix, in_place=True, frames=core)  # writes into the window
        reference = fill(fresh, frames=core)
        assert torch.equal(filled.colors[:, core], reference.colors[:, core])
        assert torch.equal(window.frames(), torch.from_numpy(frames[lo:hi]))


def test_window_refuses_a_window_it_cannot_hold_or_that_skips_its_new_frames():
    rig, frames, depth = _clip(6)
    window = MatrixWindow(rig, 3)
    with pytest.raises(ValueError, match="capacity"):
        window.advance(0, 4, frames[:4], torch.from_numpy(depth[:4]))
    window.advance(0, 3, frames[:3], torch.from_numpy(depth[:3]))
    assert window.shared(1) == 2 and window.shared(3) == 0
    with pytest.raises(ValueError, match="new frames"):
        window.advance(1, 4, frames[1:4], torch.from_numpy(depth[1:4]))  # 2 are shared: 1 new frame expected
    with pytest.raises(ValueError):
        MatrixWindow(rig, 0)
    frames_only = MatrixWindow(rig, 2, warp=False)
    frames_only.advance(0, 2, frames[:2], torch.from_numpy(depth[:2]))
    assert torch.equal(frames_only.source_depth(), torch.from_numpy(depth[:2]))
    with pytest.raises(ValueError, match="source frames only"):
        frames_only.matrix()


def test_fill_of_a_frame_range_equals_the_full_fill_there_and_invents_nothing_elsewhere():
    case = scene_case(make_scene("pan-reveal", height=40, width=80, seed=2), frames=8, views=2)
    matrix = case.matrix
    full = ClassicalInpainter()(matrix)
    part = ClassicalInpainter()(matrix, frames=slice(3, 5))
    assert torch.equal(part.colors[:, 3:5], full.colors[:, 3:5])
    assert torch.equal(part.depth[:, 3:5], full.depth[:, 3:5])
    # Outside the range only real pixels of other frames were copied: holes remain there.
    outside = torch.cat([part.depth[:, :3], part.depth[:, 5:]], dim=1)
    known = torch.cat([matrix.known[:, :3], matrix.known[:, 5:]], dim=1)
    assert (outside[~known] == 0).any()
    assert torch.equal(part.colors[matrix.known], matrix.colors[matrix.known])
    with pytest.raises(ValueError, match="step 1"):
        ClassicalInpainter()(matrix, frames=slice(0, 8, 2))
