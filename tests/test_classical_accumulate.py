"""Temporal background accumulation (``s2vg.inpaint.classical.accumulate``): closed-form
two-layer cases under a static camera, the depth check at depth edges, the background
motion fit, and determinism of the whole classical fill with it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from s2vg.inpaint.classical import ClassicalInpainter
from s2vg.inpaint.classical.accumulate import accumulate_background, background_motion, on_moving_surface
from s2vg.inpaint.classical.parallax import Parallax
from s2vg.inpaint.classical.scan import find_anchors
from s2vg.metrics.cases import scene_case
from s2vg.metrics.scenes import make_scene

T, H, W = 6, 12, 48
FG_W, HOLE_W, SPEED, X0 = 8, 3, 4, 4
Z_FG, Z_BG = 1.0, 10.0


def _two_layers(seed: int = 0):
    """A still textured background and a foreground card moving ``SPEED`` px a frame;
    beside its right edge ``HOLE_W`` pixels are unknown (the background a new view sees)."""
    rng = np.random.default_rng(seed)
    background = rng.random((H, W, 3), dtype=np.float32)
    foreground = rng.random((H, W, 3), dtype=np.float32)
    colors = np.repeat(background[None], T, axis=0).copy()
    depth = np.full((T, H, W), Z_BG, np.float32)
    known = np.ones((T, H, W), bool)
    for t in range(T):
        a = X0 + SPEED * t
        colors[t, :, a:a + FG_W] = foreground[:, a:a + FG_W]
        depth[t, :, a:a + FG_W] = Z_FG
        known[t, :, a + FG_W:a + FG_W + HOLE_W] = False
    colors[~known] = 0.0
    depth[~known] = 0.0
    return colors, known, depth, background


def test_static_camera_revealed_background_equals_the_earlier_frames_pixels():
    colors, known, depth, background = _two_layers()
    anchors = find_anchors(known.copy(), depth, 0.9)
    ok, values, found = accumulate_background(
        colors, known, depth, anchors, np.zeros((T, 2, 2)), depth_tolerance=0.1,
    )
    assert ok.all()  # every hole pixel was background in the frame before or after
    np.testing.assert_array_equal(values, background[anchors.y, anchors.x])
    np.testing.assert_array_equal(found, np.full(anchors.count, Z_BG, np.float32))


def test_nearest_frame_wins_and_earlier_on_ties():
    colors, known, depth, background = _two_layers()
    # Make every frame's background distinguishable: frame s adds s/2000 to its background
    # (below the colour tolerance of the stretch match, as a slow exposure drift would be).
    stamp = np.arange(T, dtype=np.float32)[:, None, None, None] / 2000.0
    marked = colors + stamp * (depth[..., None] == Z_BG)
    anchors = find_anchors(known.copy(), depth, 0.9)
    ok, values, _ = accumulate_background(marked, known, depth, anchors, np.zeros((T, 2, 2)), depth_tolerance=0.1)
    # Reference by brute force: the nearest frame where the pixel is real background.
    expected = []
    for t, y, x in zip(anchors.t, anchors.y, anchors.x):
        seen = [s for s in sorted(range(T), key=lambda s: (abs(s - t), s)) if s != t and known[s, y, x] and depth[s, y, x] == Z_BG]
        expected.append(seen[0])
    assert ok.all()
    np.testing.assert_allclose(values, background[anchors.y, anchors.x] + np.asarray(expected, np.float32)[:, None] / 2000.0, atol=1e-6)


def test_no_foreground_pixel_is_copied_into_background_at_a_depth_edge():
    # A still foreground card; in frame 2 only, a strip beside it is unknown, and in
    # every other frame that strip is covered by the (nearer) card.
    rng = np.random.default_rng(3)
    colors = rng.random((T, H, W, 3), dtype=np.float32)
    depth = np.full((T, H, W), Z_BG, np.float32)
    depth[:, :, 10:24] = Z_FG
    known = np.ones((T, H, W), bool)
    known[2, :, 20:24] = False  # the card's right part, seen as background-side hole in frame 2
    depth[2, :, 20:24] = 0.0
    depth[2, :, 10:20] = Z_FG
    anchors = find_anchors(known.copy(), depth, 0.9)
    ok, _, _ = accumulate_background(colors, known, depth, anchors, np.zeros((T, 2, 2)), depth_tolerance=0.1)
    assert not ok.any()


def test_background_motion_recovers_a_translating_camera():
    # Flow of a camera moving right by b: a point at depth z moves by -f*b/z pixels.
    h, w = 64, 96
    depth = np.where(np.arange(w)[None, None, :] < w // 2, 2.0, 8.0).astype(np.float32) * np.ones((T, h, 1), np.float32)
    fb = 6.0
    to_next = np.zeros((T, h, w, 2), np.float32)
    to_next[:-1, ..., 0] = -fb / depth[:-1]
    motion = background_motion(to_next, depth)
    np.testing.assert_allclose(motion[:, 0, 1], -fb * np.arange(T), atol=1e-6)
    np.testing.assert_allclose(motion[:, 0, 0], 0.0, atol=1e-6)
    np.testing.assert_allclose(motion[:, 1], 0.0, atol=1e-9)
    assert not background_motion(None, depth).any()


def test_classical_fill_with_accumulation_is_deterministic_and_keeps_known_pixels():
    case = scene_case(make_scene("occluder", height=48, width=96, seed=1), frames=6, views=2)
    first = ClassicalInpainter()(case.matrix)
    second = ClassicalInpainter()(case.matrix)
    assert torch.equal(first.colors, second.colors) and torch.equal(first.depth, second.depth)
    known = case.matrix.known
    assert torch.equal(first.colors[known], case.matrix.colors[known])


def test_holes_on_a_surface_that_moves_on_its_own_are_not_copied_from_other_times():
    """Static camera (zero model motion). The hole's background is a surface whose flow is
    3 px a frame: its pixels at another time are another point, so nothing is copied; a
    still wall whose flow is dragged along by a passing card next to the hole only (the
    first pixels of the stretch) is still searched, and copied exactly."""
    colors, known, depth, background = _two_layers()
    anchors = find_anchors(known.copy(), depth, 0.9)
    still = np.zeros((T, 2, 2))
    flow = np.zeros((T, H, W, 2), np.float32)
    assert on_moving_surface(anchors, None, None, still, depth, Parallax(0.0)) is None
    flow[..., 0] = 3.0
    moving = on_moving_surface(anchors, -flow, flow, still, depth, Parallax(0.0))
    assert moving.all()
    ok, _, _ = accumulate_background(colors, known, depth, anchors, still, depth_tolerance=0.1, skip=moving)
    assert not ok.any()
    dragged = np.zeros_like(flow)
    for t in range(T):  # the card's motion smeared into the wall beyond its hole
        a = X0 + SPEED * t + FG_W
        dragged[t, :, a:a + 10, 0] = SPEED
    moving = on_moving_surface(anchors, -dragged, dragged, still, depth, Parallax(0.0))
    assert not moving.any()
    ok, values, _ = accumulate_background(colors, known, depth, anchors, still, depth_tolerance=0.1, skip=moving)
    assert ok.all()
    np.testing.assert_array_equal(values, background[anchors.y, anchors.x])


@pytest.mark.parametrize("changed", [False, True])
def test_copy_is_judged_on_the_rows_beside_the_hole_too(changed):
    # Two frames of a still camera: a hole on row 6 of frame 0 beside a nearer card, real
    # background there in frame 1. Where frame 1's background beside the hole changed on the
    # rows above and below (not on the hole's own row), the copy is not trusted.
    rng = np.random.default_rng(4)
    colors = np.repeat(rng.random((1, 12, 40, 3), dtype=np.float32), 2, axis=0)
    depth = np.full((2, 12, 40), Z_BG, np.float32)
    depth[:, :, :20] = Z_FG
    known = np.ones((2, 12, 40), bool)
    known[0, 6, 20:23] = False
    depth[0, 6, 20:23] = 0.0
    if changed:
        colors[1, [4, 5, 7, 8], 24:30] += 0.3
    anchors = find_anchors(known.copy(), depth, 0.05)
    assert (anchors.anchor == 23).all() and (anchors.direction == 1).all()
    ok, values, _ = accumulate_background(colors, known, depth, anchors, np.zeros((2, 2, 2)), depth_tolerance=0.1)
    assert ok.all() != changed
    if not changed:
        np.testing.assert_array_equal(values, colors[1, 6, 20:23])
