"""The foreground's share of the first hole pixel beside a foreground edge, in closed form."""

from __future__ import annotations

import numpy as np
import pytest

from s2vg.config import ClassicalFillConfig
from s2vg.inpaint.classical.coverage import foreground_share
from s2vg.inpaint.classical.fill import classical_fill
from s2vg.inpaint.classical.parallax import Parallax
from s2vg.inpaint.classical.scan import find_anchors

FG, BG = np.array([0.9, 0.1, 0.1], np.float32), np.array([0.1, 0.2, 0.8], np.float32)
H, W = 20, 20


def _view(end_share: float = 0.0):
    """One frame: foreground (1 m) at columns 0-5, a hole at 6-9, background (4 m) from 10
    on; the background's end pixel holds ``end_share`` of the foreground's colour."""
    colors = np.zeros((1, H, W, 3), np.float32)
    colors[:, :, :6] = FG
    colors[:, :, 10:] = BG
    colors[:, :, 10] = end_share * FG + (1 - end_share) * BG
    real = np.ones((1, H, W), bool)
    real[:, :, 6:10] = False
    depth = np.where(np.arange(W) < 6, 1.0, 4.0).astype(np.float32)[None, None].repeat(H, 1)
    depth[~real] = 0.0
    return colors, real, depth


@pytest.mark.parametrize(("along", "landing"), [(10.7, 0.3), (10.3, 0.0), (10.0, 0.0), (10.5, 0.5)])
def test_share_is_where_the_warp_put_the_edge(along, landing):
    # The foreground pixel at x = 5 came from source column rint(5 + along); its exact place
    # is that column - along, so with along = 10.7 it sits 0.3 px toward the hole and covers
    # 0.3 of pixel 6; with 10.3 it sits 0.3 px away from it and covers none.
    colors, real, depth = _view()
    anchors = find_anchors(real, depth, 0.05)
    index, near, share = foreground_share(colors, real, depth, anchors, Parallax(along), depth_tolerance=0.1)
    assert (anchors.x[index] == 6).all() and (near == 5).all() and index.size == H
    np.testing.assert_allclose(share, landing, atol=1e-6)


def test_soft_edges_add_the_end_pixels_share():
    colors, real, depth = _view(end_share=0.2)
    anchors = find_anchors(real, depth, 0.05)
    _, _, share = foreground_share(colors, real, depth, anchors, Parallax(10.7), depth_tolerance=0.1)
    np.testing.assert_allclose(share, 0.3 + 0.2, atol=1e-5)
    # With fewer edges than the estimate needs, only the landing error counts.
    few = anchors.subset(anchors.y < 3)
    _, _, share = foreground_share(colors, real, depth, few, Parallax(10.7), depth_tolerance=0.1)
    np.testing.assert_allclose(share, 0.3, atol=1e-6)


def test_cracks_and_the_border_strip_get_no_share():
    colors, real, depth = _view()
    depth[:, :, :6] = 4.0  # both ends one surface: a crack, interpolated
    real[:, :, 16:] = False  # and a strip beyond the border
    anchors = find_anchors(real, depth, 0.05)
    index, _, _ = foreground_share(colors, real, depth, anchors, Parallax(10.7), depth_tolerance=0.1)
    assert index.size == 0


def test_fill_blends_the_share_into_the_first_hole_pixel_only():
    # Two views of a parallel rig: the right one (source at 0, 0.0267 m at f = 400: 10.7 px
    # at 1 m) with the test's hole. Only column 6 changes, by 0.3 of the way to the foreground.
    colors, real, depth = _view()
    c = np.stack([np.broadcast_to(colors, colors.shape).copy(), colors])
    k = np.stack([np.ones_like(real), real])
    d = np.stack([np.where(depth > 0, depth, 1.0), depth]).astype(np.float32)
    positions = np.array([[0.0, 0, 0], [10.7 / 400.0, 0, 0]])
    on, _ = classical_fill(c, k, d, positions, 400.0, 0, ClassicalFillConfig(temporal=False))
    off, _ = classical_fill(c, k, d, positions, 400.0, 0, ClassicalFillConfig(temporal=False, edge_coverage=False))
    changed = np.abs(on - off).max(axis=-1)[1, 0] > 1e-6
    assert changed[:, 6].all() and not changed[:, :6].any() and not changed[:, 7:].any()
    np.testing.assert_allclose(on[1, 0, :, 6], off[1, 0, :, 6] + 0.3 * (FG - off[1, 0, :, 6]), atol=1e-5)


def test_switch_must_be_a_bool():
    from s2vg.errors import OptionError

    with pytest.raises(OptionError, match="edge coverage must be True or False"):
        ClassicalFillConfig(edge_coverage="false")


@pytest.mark.parametrize(("along", "landing"), [(10.7, 0.3), (10.3, 0.0)])
def test_mirrored_view_gets_the_same_share(along, landing):
    # A view on the other side of the source (middle2leftright's left eye): the picture
    # mirrored, the parallax reversed; the hole now lies left of the foreground.
    colors, real, depth = _view()
    colors, real, depth = colors[:, :, ::-1].copy(), real[:, :, ::-1].copy(), depth[:, :, ::-1].copy()
    anchors = find_anchors(real, depth, 0.05)
    index, near, share = foreground_share(colors, real, depth, anchors, Parallax(-along), depth_tolerance=0.1)
    assert (anchors.x[index] == W - 1 - 6).all() and (near == W - 1 - 5).all() and index.size == H
    np.testing.assert_allclose(share, landing, atol=1e-6)
