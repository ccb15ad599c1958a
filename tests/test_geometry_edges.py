"""Spoiled border lines (s2vg.geometry.edges) and their drop from the warp."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from s2vg.config import RigConfig
from s2vg.geometry.build import build_frame_matrix
from s2vg.geometry.edges import default_edge_band, edge_drop_mask, spoiled_edge_lines
from s2vg.geometry.rig import CameraRig


def _texture(t: int = 2, h: int = 60, w: int = 96, seed: int = 0) -> torch.Tensor:
    """A photograph-like texture: smooth mid-grey shading (0.3-0.7) with fine grain; no
    line stands out anywhere."""
    rng = np.random.default_rng(seed)
    coarse = torch.from_numpy(rng.uniform(0.3, 0.7, (t, 3, h // 16 + 2, w // 16 + 2)).astype(np.float32))
    smooth = torch.nn.functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=True)
    grain = torch.from_numpy(rng.uniform(-0.02, 0.02, (t, 3, h, w)).astype(np.float32))
    return (smooth + grain).permute(0, 2, 3, 1).contiguous()


def test_dark_and_bright_border_lines_are_counted_from_the_border():
    frames = _texture()
    frames[:, :, -1] -= 0.25   # two darkened columns at the right, as a scaler leaves them
    frames[:, :, -2] -= 0.10
    frames[:, :, 0] += 0.2     # one bright column at the left
    np.testing.assert_array_equal(spoiled_edge_lines(frames).numpy(), [[1, 2], [1, 2]])
    mask = edge_drop_mask(frames, spoiled_edge_lines(frames))
    assert mask[:, :, [0, -2, -1]].all() and not mask[:, :, 1:-2].any()


def test_clean_pictures_have_none():
    # Shaded grain, and a strong gradient toward the border (the picture's own, not a line).
    shaded = _texture()
    gradient = _texture() * 0.2 + torch.linspace(0.0, 0.8, 96)[None, None, :, None]
    for frames in (shaded, gradient):
        assert not spoiled_edge_lines(frames).any()


def test_a_line_inside_the_border_is_not_a_border_line():
    frames = _texture()
    frames[:, :, -3] -= 0.3   # clean outermost columns: the run must start at the border
    assert not spoiled_edge_lines(frames).any()


def test_band_follows_the_width_and_caps_the_count():
    assert (default_edge_band(576), default_edge_band(1920), default_edge_band(3840)) == (4, 8, 16)
    frames = _texture(w=96)
    frames[:, :, -4:] -= 0.3   # as wide as the band: all of it
    assert spoiled_edge_lines(frames)[:, 1].tolist() == [4, 4]
    frames = _texture(w=96)
    frames[:, :, -10:] -= 0.3  # a bar wider than the band is the picture (a pillarbox), not lines
    assert not spoiled_edge_lines(frames).any()


def test_warp_drops_the_lines_from_new_views_only():
    """Closed form: constant depth shifts every pixel 5 px left; the source's two dark right
    columns would land at x = W-7, W-6 in the right view. Dropped, those pixels are holes."""
    h, w, shift = 60, 96, 5
    frames = _texture(t=1, h=h, w=w)
    frames[:, :, -2:] -= 0.25
    rig = CameraRig.from_config(RigConfig(views=2, baseline=0.05, focal=100.0), h, w)
    depth = torch.full((1, h, w), 100.0 * 0.05 / shift)
    kept = build_frame_matrix(frames, depth, rig, drop_spoiled_edges=False)
    dropped = build_frame_matrix(frames, depth, rig)
    lines = slice(w - 2 - shift, w - shift)
    assert kept.known[1, 0, :, lines].all()
    torch.testing.assert_close(kept.colors[1, 0, :, lines], frames[0, :, -2:])
    assert not dropped.known[1, 0, :, lines].any()
    # Everything else is the same warp, and the source view keeps its lines.
    others = torch.ones(w, dtype=torch.bool)
    others[lines] = False
    assert torch.equal(dropped.known[1, 0][:, others], kept.known[1, 0][:, others])
    assert torch.equal(dropped.colors[0], frames)


def test_vertical_rig_drops_rows():
    h, w, shift = 96, 60, 4
    frames = _texture(t=1, h=h, w=w)
    frames[:, -1] -= 0.3      # a dark bottom row
    rig = CameraRig(width=w, height=h, focal=100.0, positions=np.array([[0.0, 0.0, 0.0], [0.0, 0.05, 0.0]]))
    depth = torch.full((1, h, w), 100.0 * 0.05 / shift)
    kept = build_frame_matrix(frames, depth, rig, drop_spoiled_edges=False)
    dropped = build_frame_matrix(frames, depth, rig)
    assert int(kept.known[1].sum() - dropped.known[1].sum()) == w


def test_bad_input():
    with pytest.raises(ValueError, match="T, H, W, 3"):
        spoiled_edge_lines(torch.zeros(8, 8, 3))
    with pytest.raises(ValueError, match="band"):
        spoiled_edge_lines(_texture(), band=0)
