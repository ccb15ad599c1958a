"""The ground-truth scene renderer: determinism, geometry consistent with the project's warp,
exact motion, margins, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from s2vg.config import SCENE_KINDS, RigConfig
from s2vg.errors import InputError, OptionError
from s2vg.geometry.rig import CameraRig
from s2vg.geometry.warp import forward_warp
from s2vg.metrics.scenes import Shape, make_scene, render_scene, scene_rig

H, W, T = 48, 80, 4


@pytest.fixture(scope="module")
def shots():
    out = {}
    for kind in SCENE_KINDS:
        scene = make_scene(kind, height=H, width=W, seed=1)
        rig = scene_rig(scene, views=4, divergence_pct=8.0)
        out[kind] = (scene, rig, render_scene(scene, rig, T))
    return out


def test_render_shapes_dtypes_and_ranges(shots):
    for kind, (scene, rig, shot) in shots.items():
        assert shot.colors.shape == (4, T, H, W, 3) and shot.colors.dtype == np.float32
        assert shot.depth.shape == (4, T, H, W) and shot.ids.shape == (4, T, H, W)
        assert 0.0 <= shot.colors.min() and shot.colors.max() <= 1.0
        assert set(np.unique(shot.depth)) <= {np.float32(c.depth_m) for c in scene.cards}, kind
        assert len(np.unique(shot.ids)) >= min(3, len(scene.cards)), kind  # several cards visible in every kind


def test_scenes_are_deterministic_by_seed():
    a = render_scene(make_scene("crossing", height=H, width=W, seed=7), np.zeros((1, 3)), 3)
    b = render_scene(make_scene("crossing", height=H, width=W, seed=7), np.zeros((1, 3)), 3)
    c = render_scene(make_scene("crossing", height=H, width=W, seed=8), np.zeros((1, 3)), 3)
    assert np.array_equal(a.colors, b.colors) and np.array_equal(a.depth, b.depth)
    assert not np.array_equal(a.colors, c.colors)


def test_warping_the_source_with_true_depth_reproduces_the_other_views(shots):
    """Known pixels of a nearest-pixel forward warp equal the true render exactly, except where
    a nearer surface is itself hidden in the source (a warp cannot know it): there the truth is
    nearer than what the warp shows. Holes are exactly where the truth shows unseen content."""
    for kind, (scene, rig, shot) in shots.items():
        K, tgt = rig.intrinsics(torch.float64), rig.tgt_from_src(torch.float64)
        src = rig.source_index
        for view in range(1, rig.views):
            warped, known, depth = forward_warp(torch.from_numpy(shot.colors[src]), torch.from_numpy(shot.depth[src]), K, tgt[view])
            warped, known, depth = warped.numpy(), known.numpy(), depth.numpy()
            same = known & (depth == shot.depth[view])
            assert np.array_equal(warped[same], shot.colors[view][same]), (kind, view)
            hidden_occluder = known & ~same
            assert (shot.depth[view][hidden_occluder] < depth[hidden_occluder]).all(), (kind, view)
            assert hidden_occluder.mean() < 0.005, (kind, view, hidden_occluder.mean())
            assert 0 < (~known).mean() < 0.3, (kind, view)


def test_backward_flow_is_exact(shots):
    for kind, (scene, rig, shot) in shots.items():
        for view in (0, rig.views - 1):
            flow, valid = shot.backward_flow(view).astype(np.int64), shot.flow_valid(view)
            t, y, x = np.nonzero(valid)
            assert len(t) > 0.5 * valid[1:].size, kind
            prev = shot.colors[view, t - 1, y + flow[t, y, x, 1], x + flow[t, y, x, 0]]
            assert np.array_equal(prev, shot.colors[view, t, y, x]), kind


def test_margin_render_crops_to_the_plain_render():
    scene = make_scene("border", height=H, width=W, seed=2)
    rig = scene_rig(scene, views=3)
    plain = render_scene(scene, rig, 3)
    wide = render_scene(scene, rig, 3, margin=12)
    assert wide.colors.shape == (3, 3, H + 24, W + 24, 3)
    cropped = wide.crop()
    assert np.array_equal(cropped.colors, plain.colors) and np.array_equal(cropped.depth, plain.depth)
    # The margin holds real content beyond the border (the near pillar continues to the right).
    assert (wide.depth[0, 0, :, -12:] == np.float32(scene.nearest_depth)).mean() > 0.5


def test_scene_rig_sets_the_nearest_disparity():
    scene = make_scene("cards", height=H, width=W)
    rig = scene_rig(scene, views=5, divergence_pct=4.0)
    baseline = np.ptp(rig.positions[:, 0])
    assert scene.focal * baseline / scene.nearest_depth == pytest.approx(0.04 * W)
    assert rig.views == 5 and rig.source_index == 0
    middle = scene_rig(scene, views=3, mode="middle2leftright")
    shot = render_scene(scene, middle, 2)
    assert np.array_equal(shot.colors[1], render_scene(scene, np.zeros((1, 3)), 2).colors[0])


def test_resolution_scales_the_scene():
    small = make_scene("pan", height=64, width=112)
    large = make_scene("pan", height=128, width=224)
    assert large.focal == pytest.approx(2 * small.focal)
    assert [c.depth_m for c in small.cards] == [c.depth_m for c in large.cards]


def test_shapes_closed_forms():
    x = np.arange(10, dtype=np.float64)[None]
    y = np.arange(8, dtype=np.float64)[:, None]
    assert Shape("rect", (2, 1, 5, 3)).mask(x, y).sum() == 3 * 2
    tri = Shape("polygon", (0, 0, 8, 0, 0, 8)).mask(x, y)
    assert tri[0, 0] and tri[0, 8] and not tri[7, 7]
    assert np.array_equal(tri, Shape("polygon", (0, 0, 0, 8, 8, 0)).mask(x, y))  # either winding
    wire = Shape("wire", (0, 10, 2, 4, 1)).mask(x, y)
    assert wire[2, 0] and wire[6, 5] and not wire[2, 5]


def test_bad_input_is_rejected():
    with pytest.raises(OptionError, match="scene kind"):
        make_scene("forest")
    with pytest.raises(OptionError, match="16 x 16"):
        make_scene("cards", height=8, width=8)
    scene = make_scene("cards", height=H, width=W)
    with pytest.raises(InputError, match="positions"):
        render_scene(scene, np.zeros((3,)), 2)
    with pytest.raises(OptionError, match="margin"):
        render_scene(scene, np.zeros((1, 3)), 2, margin=-1)
    wrong = CameraRig.from_config(RigConfig(views=2), H, W + 2)
    with pytest.raises(InputError, match="scene_rig"):
        render_scene(scene, wrong, 2)
