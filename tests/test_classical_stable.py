"""Stability of invented pixels (s2vg.inpaint.classical.stable) and the pixels the
temporal accumulation trusts (s2vg.inpaint.classical.accumulate.trusted_pixels)."""

import numpy as np

from s2vg.config import ClassicalFillConfig
from s2vg.inpaint.classical.accumulate import trusted_pixels
from s2vg.inpaint.classical.fill import classical_fill
from s2vg.inpaint.classical.stable import stabilise_invented
from s2vg.metrics.score import persisting_holes

T, H, W = 4, 10, 20


def _invented_clip(seed: int = 0):
    rng = np.random.default_rng(seed)
    colors = rng.random((T, H, W, 3), dtype=np.float32)
    depth = np.full((T, H, W), 5.0, np.float32)
    invented = np.zeros((T, H, W), bool)
    invented[:, 3:7, 8:12] = True
    return colors, depth, invented


def test_static_camera_carries_the_first_frames_fill_at_full_weight():
    colors, depth, invented = _invented_clip()
    out = colors.copy()
    n = stabilise_invented(out, depth, invented, np.zeros((T, 2, 2)), weight=1.0, depth_tolerance=0.1)
    assert n == 16 * (T - 1)
    for t in range(T):
        np.testing.assert_array_equal(out[t][invented[t]], colors[0][invented[0]])
    np.testing.assert_array_equal(out[~invented], colors[~invented])


def test_partial_weight_is_an_exponential_average():
    colors, depth, invented = _invented_clip(1)
    out = colors.copy()
    stabilise_invented(out, depth, invented, np.zeros((T, 2, 2)), weight=0.25, depth_tolerance=0.1)
    expect = colors[0].copy()
    for t in range(1, T):
        expect = 0.25 * expect + 0.75 * colors[t]
        np.testing.assert_allclose(out[t][invented[t]], expect[invented[t]], atol=1e-6)


def test_carried_along_the_background_motion_and_only_on_the_same_layer():
    colors, depth, _ = _invented_clip(2)
    invented = np.zeros((T, H, W), bool)
    for t in range(T):
        invented[t, 2:8, 4 + 2 * t:8 + 2 * t] = True  # the hole moves with the background
    motion = np.zeros((T, 2, 2))
    motion[:, 0, 0] = 2.0 * np.arange(T)  # 2 px a frame along x, any depth
    depth[2, :, :] = 1.0  # frame 2 holds another layer: nothing carried into or out of it
    out = colors.copy()
    stabilise_invented(out, depth, invented, motion, weight=1.0, depth_tolerance=0.1)
    np.testing.assert_array_equal(out[1, 2:8, 6:10], colors[0, 2:8, 4:8])
    np.testing.assert_array_equal(out[2], colors[2])
    np.testing.assert_array_equal(out[3], colors[3])


def test_zero_weight_or_one_frame_changes_nothing():
    colors, depth, invented = _invented_clip(3)
    out = colors.copy()
    assert stabilise_invented(out, depth, invented, np.zeros((T, 2, 2)), weight=0.0, depth_tolerance=0.1) == 0
    assert stabilise_invented(out[:1], depth[:1], invented[:1], np.zeros((1, 2, 2)), weight=1.0, depth_tolerance=0.1) == 0
    np.testing.assert_array_equal(out, colors)


def test_persisting_hole_filled_identically_over_frames_by_the_whole_fill():
    """Static camera, a hole that never closes, its background edge changing every frame:
    with full stability weight every frame's invented pixels equal the first frame's."""
    rng = np.random.default_rng(4)
    n_t, h, w = 5, 16, 32
    colors = np.zeros((2, n_t, h, w, 3), np.float32)
    colors[:] = rng.random((h, w, 3), dtype=np.float32)
    colors[:, :, :, 18:] += rng.random((n_t, 1, 1, 3), dtype=np.float32) * 0.3  # the background side changes
    known = np.ones((2, n_t, h, w), bool)
    known[1, :, :, 12:18] = False
    depth = np.where(known, np.float32(6.0), np.float32(0.0))
    depth[:, :, :, :12] = 1.5
    depth[~known] = 0.0
    positions = np.array([[0.0, 0.0, 0.0], [0.05, 0.0, 0.0]])
    config = ClassicalFillConfig(motion="static", stable_weight=1.0)
    out, _ = classical_fill(colors, known, depth, positions, 300.0, 0, config)
    hole = ~known[1, 0]
    for t in range(1, n_t):
        np.testing.assert_array_equal(out[1, t][hole], out[1, 0][hole])
    loose, _ = classical_fill(colors, known, depth, positions, 300.0, 0, ClassicalFillConfig(motion="static", stable_weight=0.0))
    assert not np.array_equal(loose[1, 1][hole], loose[1, 0][hole])
    np.testing.assert_array_equal(out[known], colors[known])


def test_trusted_pixels_are_the_interior_of_the_known_region():
    known = np.ones((2, 9, 12), bool)
    known[0, 4, 6] = False
    known[1, :, 10:] = False
    trusted = trusted_pixels(known)
    expect = known.copy()
    expect[0, 3:6, 5:8] = False  # the hole and its ring
    expect[1, :, 9:] = False
    np.testing.assert_array_equal(trusted, expect)


def test_accumulation_prefers_interior_pixels_but_falls_back_to_any_real_one():
    """Static camera. Column 8 of the hole is seen in frame 0 only beside a hole there; in
    rows 0-2 frame 3 sees it in its interior (copied from frame 3, one frame farther in
    time: within the default interior lead), in rows 5-7 frame 3 does not see it (copied
    from frame 0 after all)."""
    from s2vg.inpaint.classical.accumulate import accumulate_background
    from s2vg.inpaint.classical.scan import find_anchors

    rng = np.random.default_rng(5)
    n_t, h, w = 4, 8, 16
    colors = np.repeat(rng.random((1, h, w, 3), dtype=np.float32) * 0.5, n_t, axis=0)
    colors[3, :, 6:9] += 0.25  # tell the frames apart inside the hole only
    known = np.ones((n_t, h, w), bool)
    known[1, :, 6:9] = False  # the hole to fill, frame 1
    known[0, :, 9] = False  # frame 0 sees columns 6-8, column 8 only beside a hole
    known[2] = False  # frame 2 sees nothing
    known[3, :, 5:7] = False  # frame 3 sees column 8 in its interior ...
    known[3, 4:, 5:10] = False  # ... except in the lower rows
    depth = np.where(known, np.float32(5.0), np.float32(0.0))
    avail = known.copy()
    avail[[0, 2, 3]] = True
    anchors = find_anchors(avail, np.where(avail, np.float32(5.0), np.float32(0.0)), 0.05)
    ok, values, _ = accumulate_background(colors, known, depth, anchors, np.zeros((n_t, 2, 2)), depth_tolerance=0.1)
    assert ok.all()
    y, x = anchors.y, anchors.x
    top, low = (x == 8) & (y <= 2), (x == 8) & (y >= 5)
    np.testing.assert_array_equal(values[top], colors[3, y[top], 8])
    np.testing.assert_array_equal(values[low], colors[0, y[low], 8])
    rest = x < 8
    np.testing.assert_array_equal(values[rest], colors[0, y[rest], x[rest]])
    # With no lead the nearest frame wins, beside a hole or not.
    ok, values, _ = accumulate_background(colors, known, depth, anchors, np.zeros((n_t, 2, 2)), depth_tolerance=0.1,
                                          interior_lead=0)
    np.testing.assert_array_equal(values[top], colors[0, y[top], 8])
