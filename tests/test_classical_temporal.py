"""The flow-following step (s2vg.inpaint.classical.temporal.propagate_in_time) in the strip beyond the border."""

from __future__ import annotations

import numpy as np

from s2vg.inpaint.classical.parallax import Parallax
from s2vg.inpaint.classical.scan import find_anchors
from s2vg.inpaint.classical.temporal import propagate_in_time

T, H, W, STRIP = 2, 12, 24, 3


def _panning_view(entering: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """A camera panning one pixel a frame over a green textured wall, all at one depth (as a
    weak depth estimate gives it). Frame 0 lacks the strip beyond its right border; frame 1
    sees it, painted ``entering`` ((3,) colour) where given: a surface that came in from
    beyond the border, which frame 0's strip did not show."""
    rng = np.random.default_rng(0)
    world = np.zeros((H, W + 1, 3), np.float32)
    world[..., 1] = 0.35 + 0.15 * rng.random((H, W + 1))  # green, varying
    world[..., 0] = world[..., 2] = 0.2
    colors = np.stack([world[:, t:t + W] for t in range(T)])
    if entering is not None:
        colors[1, :, W - STRIP - 1:] = entering
    known = np.ones((T, H, W), bool)
    known[0, :, W - STRIP:] = False
    depth = np.full((T, H, W), 5.0, np.float32)
    to_next = np.zeros((T, H, W, 2), np.float32)
    to_prev = np.zeros_like(to_next)
    to_next[0, ..., 0] = -1.0  # pixel x of frame 0 is at x - 1 in frame 1
    to_prev[1, ..., 0] = 1.0
    truth = world[:, :W]
    return colors, known, depth, to_prev, to_next, truth


def _propagate(colors, known, depth, to_prev, to_next):
    anchors = find_anchors(known, depth, 1.05)
    ok, values, _ = propagate_in_time(
        colors, known, depth, anchors, to_prev, to_next, Parallax(0.0),
        window=5, depth_tolerance=0.05, colour_tolerance=0.01,
    )
    return anchors, ok, values


def test_strip_is_copied_from_the_next_frame_where_the_same_wall_continues():
    colors, known, depth, to_prev, to_next, truth = _panning_view(None)
    anchors, ok, values = _propagate(colors, known, depth, to_prev, to_next)
    assert anchors.open_end.all() and ok.all()
    np.testing.assert_array_equal(values, truth[anchors.y, anchors.x])


def test_a_surface_that_came_in_from_beyond_the_border_is_not_copied_into_the_strip():
    """Same depth, background beside the edge unchanged: only its colour tells it apart."""
    colors, known, depth, to_prev, to_next, _ = _panning_view(np.array([0.8, 0.15, 0.1], np.float32))
    _, ok, _ = _propagate(colors, known, depth, to_prev, to_next)
    assert not ok.any()
