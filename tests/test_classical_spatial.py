"""Background-side diffusion fill (s2vg.inpaint.classical.spatial)."""

import numpy as np
import pytest

from s2vg.errors import InputError
from s2vg.inpaint.classical.spatial import background_inpaint, background_mean_fill, foreground_band, pyramid_mean


def _depth_edge(width: int = 48, height: int = 24, gap: int = 10):
    """Foreground (red, 1 m) on the left, a revealed gap, background (blue, 4 m) on the right."""
    colors = np.zeros((1, height, width, 3), np.float32)
    depth = np.zeros((1, height, width), np.float32)
    edge = width // 3
    colors[0, :, :edge] = (1.0, 0.0, 0.0)
    depth[0, :, :edge] = 1.0
    colors[0, :, edge + gap:] = (0.0, 0.0, 1.0)
    depth[0, :, edge + gap:] = 4.0
    avail = depth > 0
    return colors, avail, depth


def test_no_foreground_copied_into_background_hole():
    """A thin pole (red, 1 m) in front of a blue wall (4 m), the gap it reveals beside it unknown."""
    height, width = 24, 48
    colors = np.zeros((1, height, width, 3), np.float32)
    colors[..., 2] = 1.0
    depth = np.full((1, height, width), 4.0, np.float32)
    colors[0, :, 14:20] = (1.0, 0.0, 0.0)
    depth[0, :, 14:20] = 1.0
    depth[0, :, 20:30] = 0.0
    avail = depth > 0
    out = background_inpaint(colors, avail, depth, radius=9, band=8, depth_tolerance=0.1)
    hole = ~avail
    # Closed form: with the pole hidden the wall is all the diffusion reads, so the gap is blue.
    np.testing.assert_allclose(out[hole], np.tile([0.0, 0.0, 1.0], (int(hole.sum()), 1)), atol=0.5 / 255 + 1e-6)
    # Plain Telea (band 0) reads the red pole as well.
    plain = background_inpaint(colors, avail, depth, radius=9, band=0)
    assert plain[hole][:, 0].max() > 0.2


def test_known_pixels_unchanged_and_deterministic():
    rng = np.random.default_rng(0)
    colors, avail, depth = _depth_edge()
    colors = np.where(avail[..., None], rng.random(colors.shape, dtype=np.float32), 0.5).astype(np.float32)
    a = background_inpaint(colors, avail, depth)
    b = background_inpaint(colors, avail, depth)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[avail], colors[avail])
    assert np.isfinite(a).all() and (a >= 0).all() and (a <= 1).all()


def test_foreground_band_marks_only_nearer_pixels_near_holes():
    colors, avail, depth = _depth_edge(width=60, gap=6)
    fg = foreground_band(avail, depth, band=3, depth_tolerance=0.1)
    edge = 20
    assert fg[0, :, edge - 3:edge].all()          # foreground within the band
    assert not fg[0, :, :edge - 3].any()          # beyond the band
    assert not fg[0, :, edge:].any()              # holes and background never


def test_empty_and_full_frames_pass_through():
    colors, avail, depth = _depth_edge()
    colors2 = np.concatenate([colors, colors])
    avail2 = np.stack([np.zeros_like(avail[0]), np.ones_like(avail[0])])
    depth2 = np.concatenate([depth, depth])
    out = background_inpaint(colors2, avail2, depth2)
    np.testing.assert_array_equal(out, colors2)


def test_bad_input():
    colors, avail, depth = _depth_edge()
    with pytest.raises(InputError, match="T, H, W, 3"):
        background_inpaint(colors[0], avail, depth)
    with pytest.raises(InputError, match="radius"):
        background_inpaint(colors, avail, depth, radius=0)


def test_pyramid_mean_of_a_constant_is_that_constant():
    """Closed form: every normalised average of one colour is that colour, at any scale."""
    rng = np.random.default_rng(1)
    readable = rng.random((37, 53)) < 0.2
    colors = np.where(readable[..., None], np.float32([0.2, 0.5, 0.9]), rng.random((37, 53, 3), dtype=np.float32))
    out = pyramid_mean(colors.astype(np.float32), readable)
    np.testing.assert_allclose(out, np.broadcast_to(np.float32([0.2, 0.5, 0.9]), out.shape), atol=1e-5)


def test_pyramid_mean_keeps_readable_pixels_and_stays_within_their_range():
    rng = np.random.default_rng(2)
    colors = rng.random((40, 64, 3), dtype=np.float32)
    readable = np.zeros((40, 64), bool)
    readable[:, :20] = True
    out = pyramid_mean(colors, readable)
    np.testing.assert_array_equal(out[readable], colors[readable])
    low, high = colors[readable].min(axis=0), colors[readable].max(axis=0)
    assert (out >= low - 1e-6).all() and (out <= high + 1e-6).all()  # a mean, never an extrapolation
    # Deep in the unread part the estimate is a wide mean: much closer to the readable
    # pixels' mean than any single pixel is.
    far = out[:, 60]
    assert np.abs(far - colors[readable].mean(axis=0)).max() < 0.1
    np.testing.assert_array_equal(pyramid_mean(colors, np.zeros_like(readable)), colors)


def test_mean_fill_never_reads_a_wide_nearer_surface():
    """A wide red foreground (1 m) next to a gap whose background is a blue wall (4 m): even
    without hiding anything, the mean reads only pixels as far as the hole's background."""
    colors, avail, depth = _depth_edge(width=96, gap=12)
    t, y, x = np.nonzero(~avail)
    out = background_mean_fill(colors, avail, depth, t, y, x, np.full(t.shape, 4.0, np.float32))
    np.testing.assert_allclose(out, np.tile([0.0, 0.0, 1.0], (t.shape[0], 1)), atol=1e-5)
    again = background_mean_fill(colors, avail, depth, t, y, x, np.full(t.shape, 4.0, np.float32))
    np.testing.assert_array_equal(out, again)


def test_mean_fill_bad_input():
    colors, avail, depth = _depth_edge()
    t, y, x = np.nonzero(~avail)
    z = np.full(t.shape, 4.0, np.float32)
    with pytest.raises(InputError, match="T, H, W, 3"):
        background_mean_fill(colors[0], avail, depth, t, y, x, z)
    with pytest.raises(InputError, match="depth_tolerance"):
        background_mean_fill(colors, avail, depth, t, y, x, z, depth_tolerance=1.0)
    with pytest.raises(InputError, match="max_layers"):
        background_mean_fill(colors, avail, depth, t, y, x, z, max_layers=0)
