"""The classical inpainter on rendered layered scenes with known true backgrounds.

Scenes come from benchmarks/classical_scenes.py (closed-form renders of textured planes
from any parallel camera; whole-pixel parallax, so the warped matrix's known pixels equal
the truth and every hole has a known true colour).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from s2vg.config import ClassicalFillConfig
from s2vg.errors import InputError, OptionError
from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.geometry.rig import CameraRig
from s2vg.inpaint import get_inpainter
from s2vg.inpaint.classical import ClassicalInpainter
from s2vg.inpaint.classical.scan import find_anchors


def _load_scenes():
    path = Path(__file__).parents[1] / "benchmarks" / "classical_scenes.py"
    spec = importlib.util.spec_from_file_location("classical_scenes", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["classical_scenes"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


scenes = _load_scenes()

H, W, FOCAL = 64, 96, 100.0
FAR, NEAR = 8.0, 2.0
# Views at 0, 0.08 and 0.16 m: the background (8 m) moves 1 and 2 px, the rectangle 4 and 8 px.
OFFSETS = np.array([[0.0, 0.0], [0.08, 0.0], [0.16, 0.0]])


def _case(frames: int = 4, fg_velocity: float = 0.0, pan: float = 0.0, offsets: np.ndarray = OFFSETS):
    layers = scenes.two_layer_scene(H, W, fg_velocity=fg_velocity, far=FAR, near=NEAR)
    return scenes.render_case(layers, offsets, frames, H, W, FOCAL, pan=pan)


def _holes(case) -> np.ndarray:
    return ~case.matrix.known.numpy()


def _red_in_holes(colors: np.ndarray, holes: np.ndarray) -> float:
    """Fraction of hole pixels that look like the red foreground (the background has R <= 0.3)."""
    return float((colors[..., 0][holes] > 0.5).mean())


def test_fills_every_pixel_and_keeps_known_pixels():
    case = _case(frames=3, fg_velocity=2.0)
    matrix = case.matrix
    out = ClassicalInpainter()(matrix)
    known = matrix.known.numpy()
    assert (~known).sum() > 0
    assert torch.equal(out.known, matrix.known)
    assert np.array_equal(out.colors.numpy()[known], matrix.colors.numpy()[known])
    assert np.array_equal(out.depth.numpy()[known], matrix.depth.numpy()[known])
    assert torch.equal(out.colors[matrix.source_index], matrix.colors[matrix.source_index])
    colors = out.colors.numpy()
    assert np.isfinite(colors).all() and colors.min() >= 0.0 and colors.max() <= 1.0
    # Invented pixels get the depth of the background they were taken from.
    filled_depth = out.depth.numpy()[~known]
    assert filled_depth.min() > 0
    assert np.allclose(filled_depth, FAR, rtol=0.1)
    assert out.colors.dtype == torch.float32 and out.rig is matrix.rig


def test_output_is_deterministic():
    case = _case(frames=4, fg_velocity=3.0, pan=0.08)
    a = ClassicalInpainter()(case.matrix)
    b = ClassicalInpainter()(case.matrix)
    assert torch.equal(a.colors, b.colors) and torch.equal(a.depth, b.depth)


def test_single_frame_fill_is_background_without_foreground_smear():
    case = _case(frames=1)
    holes = _holes(case)
    out = ClassicalInpainter()(case.matrix).colors.numpy()
    err = np.abs(out - case.truth).mean(axis=-1)[holes]
    assert err.mean() < 0.05  # measured 0.03 (smooth background, holes 6 px wide)
    assert _red_in_holes(out, holes) == 0.0
    assert _red_in_holes(case.truth, holes) == 0.0  # the truth there is background, as assumed
    # The foreground side of every disocclusion is red and touches the hole: it was not read.
    assert (case.matrix.colors.numpy()[..., 0] > 0.5).any()


def _visible_elsewhere(case) -> np.ndarray:
    """Hole pixels whose true background is a real pixel of the same view, same position, another frame."""
    known = case.matrix.known.numpy()
    background_seen = known & (case.truth_depth >= FAR * 0.99)
    seen_count = background_seen.sum(axis=1, keepdims=True)
    return ~known & (seen_count > 0)


@pytest.mark.parametrize("motion", ["static", "flow"])
def test_temporal_propagation_copies_background_seen_at_another_time(motion):
    # Static camera, the rectangle moves 3 px per frame: the background behind a hole is
    # seen at the same position at other times.
    case = _case(frames=6, fg_velocity=3.0)
    target = _visible_elsewhere(case)
    assert target.sum() > 100
    out = ClassicalInpainter(motion=motion)(case.matrix).colors.numpy()
    exact = np.all(out == case.truth, axis=-1)
    assert exact[target].all()


def test_temporal_propagation_without_it_is_not_exact():
    case = _case(frames=6, fg_velocity=3.0)
    target = _visible_elsewhere(case)
    out = ClassicalInpainter(temporal=False)(case.matrix).colors.numpy()
    assert np.all(out == case.truth, axis=-1)[target].mean() < 0.2


def test_temporal_propagation_follows_a_panning_camera():
    # The camera moves 0.16 m per frame: the background moves 2 px per frame, the rectangle
    # (also moving itself) 5 px. Flow-compensated copies must find the background exactly.
    frames, step = 8, -2
    case = _case(frames=frames, fg_velocity=3.0, pan=0.16)
    known = case.matrix.known.numpy()
    seen = known & (case.truth_depth >= FAR * 0.99)
    recoverable = np.zeros_like(known)
    for t in range(frames):
        for t2 in range(frames):
            if t2 != t:
                shift = step * (t2 - t)  # background at x in frame t is at x + shift in frame t2
                moved = np.zeros_like(seen[:, t2])
                if shift >= 0:
                    moved[..., : W - shift] = seen[:, t2, :, shift:]
                else:
                    moved[..., -shift:] = seen[:, t2, :, : W + shift]
                recoverable[:, t] |= moved
    recoverable &= ~known
    assert recoverable.sum() > 1000
    out = ClassicalInpainter(motion="flow")(case.matrix).colors.numpy()
    exact = np.all(out == case.truth, axis=-1)
    assert exact[recoverable].mean() > 0.95  # measured 1.0
    static = ClassicalInpainter(motion="static")(case.matrix).colors.numpy()
    assert np.all(static == case.truth, axis=-1)[recoverable].mean() < 0.1


def test_inner_view_takes_the_outer_views_fill():
    case = _case(frames=1)
    # Blacken view 1's background pixels beside its holes: filled on its own, view 1 would
    # copy them; filled from view 2 (the outer neighbour), it never reads them.
    matrix = case.matrix
    colors = matrix.colors.clone()
    anchors = find_anchors(matrix.known[1].numpy(), matrix.depth[1].numpy(), 0.05)
    colors[1, anchors.t, anchors.y, anchors.anchor] = 0.0
    matrix = matrix.replace(colors=colors)
    holes = ~matrix.known[1, 0].numpy()
    ys, xs = np.nonzero(holes)
    inside = xs - 1 >= 0
    ys, xs = ys[inside], xs[inside]

    out = ClassicalInpainter()(matrix).colors.numpy()
    # A background point at x in view 1 is at x - f*(0.16 - 0.08)/8 = x - 1 in view 2.
    same = np.all(out[1, 0, ys, xs] == out[2, 0, ys, xs - 1], axis=-1)
    assert same.mean() > 0.9  # measured 1.0
    assert out[1, 0, ys, xs, 1].mean() > 0.3  # green background, not the blackened edge

    # (border runs read past their end column; give them the plain rule here too)
    alone = ClassicalInpainter(views=False, border_skip=0, border_window=1, spatial_weight=0.0, mean_weight=0.0)(matrix).colors.numpy()
    assert alone[1, 0, ys, xs, 1].mean() < 0.1


def test_vertical_rig_fills_from_the_background_side():
    offsets = np.array([[0.0, 0.0], [0.0, 0.16]])  # the view moves down; holes open below the rectangle
    case = _case(frames=1, offsets=offsets)
    holes = _holes(case)
    assert holes.sum() > 100
    out = ClassicalInpainter()(case.matrix).colors.numpy()
    assert _red_in_holes(out, holes) == 0.0
    assert np.abs(out - case.truth).mean(axis=-1)[holes].mean() < 0.05


def _hand_matrix(colors, known, depth, positions):
    v, t, h, w = known.shape
    rig = CameraRig(width=w, height=h, focal=10.0, positions=np.asarray(positions, np.float64))
    return FrameMatrix(torch.from_numpy(colors), torch.from_numpy(known), torch.from_numpy(depth), rig)


def test_rows_and_frames_with_nothing_known_are_still_filled():
    rng = np.random.default_rng(0)
    v, t, h, w = 2, 2, 6, 8
    colors = rng.random((v, t, h, w, 3)).astype(np.float32)
    known = np.ones((v, t, h, w), bool)
    known[1, 0, 2] = False  # a whole row: filled from the columns
    known[1, 1] = False  # a whole frame: the source frame's mean colour
    colors[~known] = 0
    depth = np.where(known, 5.0, 0.0).astype(np.float32)
    matrix = _hand_matrix(colors, known, depth, [[0, 0, 0], [0.1, 0, 0]])
    # (stable_weight=0: the carried values of frame 0's invented row would otherwise mix
    # into the empty frame; this test is about the fallbacks alone)
    out = ClassicalInpainter(smooth_sigma=0.0, stable_weight=0.0)(matrix).colors.numpy()
    assert np.isfinite(out).all()
    assert np.allclose(out[1, 1], colors[0, 1].mean(axis=(0, 1)), atol=1e-6)
    # One surface above and below (same depth): the midpoint of the two neighbours.
    assert np.allclose(out[1, 0, 2], 0.5 * (colors[1, 0, 1] + colors[1, 0, 3]), atol=1e-6)


def test_float64_known_pixels_survive_exactly():
    case = _case(frames=2, fg_velocity=2.0)
    matrix = case.matrix
    colors = matrix.colors.double() + 1e-12 * matrix.known[..., None]  # not representable in float32
    out = ClassicalInpainter()(matrix.replace(colors=colors))
    assert out.colors.dtype == torch.float64
    assert torch.equal(out.colors[matrix.known], colors[matrix.known])


def test_matrix_without_holes_is_returned_unchanged():
    colors = np.random.default_rng(1).random((2, 2, 5, 7, 3)).astype(np.float32)
    known = np.ones((2, 2, 5, 7), bool)
    depth = np.full((2, 2, 5, 7), 3.0, np.float32)
    matrix = _hand_matrix(colors, known, depth, [[0, 0, 0], [0.1, 0, 0]])
    out = ClassicalInpainter()(matrix)
    assert torch.equal(out.colors, matrix.colors) and torch.equal(out.depth, matrix.depth)


def test_anchor_is_the_farther_end_and_cracks_interpolate():
    # Row: near (2 m) | hole | far (8 m) | hole | far (8 m)
    avail = np.array([[[1, 1, 0, 0, 1, 1, 0, 1]]], bool)
    depth = np.array([[[2, 2, 0, 0, 8, 8, 0, 8.2]]], np.float32)
    a = find_anchors(avail, depth, same_surface_ratio=0.05)
    assert a.x.tolist() == [2, 3, 6]
    assert a.anchor.tolist() == [4, 4, 7]
    assert a.direction.tolist() == [1, 1, 1]
    assert a.other.tolist() == [-1, -1, 5]  # 8 vs 8.2 m: one surface, interpolated
    assert np.allclose(a.background_depth(), [8.0, 8.0, 8.1])


def test_options_and_errors():
    assert ClassicalFillConfig().motion == "flow"
    with pytest.raises(OptionError, match="fill motion"):
        ClassicalFillConfig(motion="sideways")
    with pytest.raises(OptionError, match="temporal window"):
        ClassicalFillConfig(temporal_window=0)
    with pytest.raises(OptionError, match="depth tolerance"):
        ClassicalFillConfig(depth_tolerance=1.5)
    with pytest.raises(OptionError, match="mean weight"):
        ClassicalFillConfig(mean_weight=1.5)
    with pytest.raises(OptionError, match="unknown option"):
        ClassicalInpainter(blur=3)
    inpainter = get_inpainter("classical", smooth_sigma=0.0)
    assert inpainter.name == "classical" and inpainter.config.smooth_sigma == 0.0
    with pytest.raises(InputError, match="FrameMatrix"):
        ClassicalInpainter()(torch.zeros(2, 2, 4, 4, 3))


def test_border_strip_ignores_the_sources_edge_columns():
    """The strip beyond the source's border is filled from inside, not from a bad edge column."""
    h, w = 12, 40
    colors = torch.full((2, 1, h, w, 3), 0.6)
    colors[:, :, :, :, 2] = 0.9
    known = torch.ones((2, 1, h, w), dtype=torch.bool)
    known[1, :, :, w - 6 :] = False  # the strip a view to the right shows beyond the border
    colors[1, :, :, w - 6 :] = 0.0
    colors[1, :, :, w - 8 : w - 6] = 0.05  # the source's dark outermost columns, warped
    depth = torch.full((2, 1, h, w), 3.0) * known
    from s2vg.geometry.rig import CameraRig

    rig = CameraRig(width=w, height=h, focal=50.0, positions=np.array([[0.0, 0, 0], [0.02, 0, 0]]))
    matrix = FrameMatrix(colors=colors, known=known, depth=depth, rig=rig)
    out = ClassicalInpainter(temporal=False)(matrix).colors.numpy()
    # (within 2 8-bit levels: the background-side Telea diffusion blended in works on 8-bit
    # colour and its gradient term is not exact on a flat colour; the dark columns would be 0.3 off)
    np.testing.assert_allclose(out[1, 0, :, w - 6 :], 0.6 * np.ones((h, 6)).reshape(h, 6, 1) * [1, 1, 1.5], atol=2 / 255)
