"""The off-frame strip: the frame's edge continued (s2vg.inpaint.classical.border) and its split in the scores."""

import numpy as np

from s2vg.config import ClassicalFillConfig
from s2vg.inpaint.classical.border import continue_border
from s2vg.inpaint.classical.fill import classical_fill
from s2vg.inpaint.classical.scan import find_anchors
from s2vg.metrics.score import offframe_mask


def _strip(image: np.ndarray, width: int, side: str = "right"):
    """A one-frame view of ``image`` whose last (or first) ``width`` columns are unknown."""
    colors = image[None].astype(np.float32).copy()
    avail = np.ones(colors.shape[:3], bool)
    if side == "right":
        avail[..., -width:] = False
    else:
        avail[..., :width] = False
    depth = np.where(avail, np.float32(5.0), np.float32(0.0))
    anchors = find_anchors(avail, depth, 0.05)
    colors[~avail] = 0.0
    return colors, avail, depth, anchors


def test_ramp_across_rows_is_continued_exactly():
    """Content that changes linearly across rows and not along them: the strip equals the truth."""
    height, width = 40, 32
    ramp = np.linspace(0.1, 0.9, height, dtype=np.float32)
    image = np.repeat(np.stack([ramp, 1.0 - ramp, 0.5 * ramp], axis=1)[:, None, :], width, axis=1)
    for side in ("right", "left"):
        colors, avail, _, a = _strip(image, 9, side)
        values = continue_border(colors, avail, a.t, a.y, a.x, a.anchor, a.direction, spread=1.5)
        np.testing.assert_allclose(values, image[a.y, a.x], atol=1e-6)


def test_box_mean_matches_its_definition():
    """Each value is the mean of the available pixels of the cone's box behind the edge."""
    rng = np.random.default_rng(3)
    image = rng.random((30, 40, 3), dtype=np.float32)
    colors, avail, _, a = _strip(image, 12)
    avail[0, 10:14, 25:28] = False  # a hole inside the box is not read
    spread = 1.0
    values = continue_border(colors, avail, a.t, a.y, a.x, a.anchor, a.direction, spread=spread)
    for i in np.random.default_rng(0).choice(a.count, 40, replace=False):
        k = abs(a.x[i] - a.anchor[i])
        r = min(int(np.rint(spread * k)), a.y[i], 29 - a.y[i])
        m = 1 + int(np.rint(0.25 * spread * k))
        box = (slice(a.y[i] - r, a.y[i] + r + 1), slice(a.anchor[i] - m + 1, a.anchor[i] + 1))
        expect = colors[0][box][avail[0][box]].mean(axis=0)
        np.testing.assert_allclose(values[i], expect, atol=1e-5)


def test_zero_spread_repeats_the_edge_pixel():
    rng = np.random.default_rng(1)
    colors, avail, _, a = _strip(rng.random((16, 20, 3), dtype=np.float32), 5)
    values = continue_border(colors, avail, a.t, a.y, a.x, a.anchor, a.direction, spread=0.0)
    np.testing.assert_array_equal(values, colors[0, a.y, a.anchor])


def test_fill_blends_the_continuation_only_in_the_strip():
    """A disocclusion in mid-row is untouched by the border weight; the strip is, and known pixels never."""
    rng = np.random.default_rng(2)
    height, width = 24, 48
    colors = np.zeros((2, 1, height, width, 3), np.float32)
    colors[0, 0] = rng.random((height, width, 3), dtype=np.float32)
    colors[1, 0] = colors[0, 0]
    known = np.ones((2, 1, height, width), bool)
    known[1, 0, :, 20:26] = False  # a disocclusion: near (1 m) left of it, far (4 m) right
    known[1, 0, :, -7:] = False  # the off-frame strip
    depth = np.where(known, np.float32(4.0), np.float32(0.0))
    depth[1, 0, :, :20] = 1.0
    positions = np.array([[0.0, 0.0, 0.0], [0.05, 0.0, 0.0]])
    base = ClassicalFillConfig(temporal=False, border_weight=0.0)
    off, _ = classical_fill(colors, known, depth, positions, 300.0, 0, base)
    on, _ = classical_fill(colors, known, depth, positions, 300.0, 0, ClassicalFillConfig(temporal=False))
    again, _ = classical_fill(colors, known, depth, positions, 300.0, 0, ClassicalFillConfig(temporal=False))
    np.testing.assert_array_equal(on, again)
    np.testing.assert_array_equal(on[known], colors[known])
    np.testing.assert_array_equal(on[1, 0, :, 20:26], off[1, 0, :, 20:26])
    assert not np.array_equal(on[1, 0, :, -7:], off[1, 0, :, -7:])


def test_offframe_mask_is_the_runs_that_reach_a_border():
    holes = np.zeros((2, 5, 10), bool)
    holes[0, :, 7:] = True  # strip on the right
    holes[0, 1, 3:5] = True  # disocclusion
    holes[1, 2, :2] = True  # strip on the left
    holes[1, 3, 4:10] = True  # reaches the right end: off-frame
    off = offframe_mask(holes)
    expect = holes.copy()
    expect[0, 1, 3:5] = False
    np.testing.assert_array_equal(off, expect)
