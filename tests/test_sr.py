"""Stereo super-resolution: closed forms, conditions, layouts and bad input."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from s2vg.config import SuperResolutionConfig
from s2vg.errors import OptionError
from s2vg.sr import StereoUpscaler, estimate_disparity, upscale_stereo
from s2vg.sr.conditions import cross_view_condition
from s2vg.sr.resample import downscale


def texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Smooth random colour texture ``(h, w, 3)`` in [0, 1] (blurred noise: matchable, not flat)."""
    rng = np.random.default_rng(seed)
    noise = rng.random((h, w, 3), dtype=np.float32)
    return np.clip(cv2.GaussianBlur(noise, (0, 0), 1.5) * 3 - 1, 0, 1).astype(np.float32)


def shift_left(image: np.ndarray, d: int) -> np.ndarray:
    """What a camera to the right sees of a fronto-parallel plane at disparity d: x shows x + d."""
    out = np.empty_like(image)
    out[:, : image.shape[1] - d] = image[:, d:]
    out[:, image.shape[1] - d:] = image[:, -1:]
    return out


@pytest.mark.parametrize("scale", [2, 4])
def test_constant_image_stays_constant(scale):
    frames = np.full((3, 12, 20, 3), 0.37, np.float32)
    left, right, _ = upscale_stereo(frames, frames.copy(), scale, disparity=np.zeros((3, 12, 20), np.float32))
    assert left.shape == (3, 12 * scale, 20 * scale, 3)
    np.testing.assert_allclose(left, 0.37, atol=1e-5)
    np.testing.assert_allclose(right, 0.37, atol=1e-5)


@pytest.mark.parametrize("scale", [2, 4])
def test_cross_view_reproduces_a_fronto_parallel_plane_exactly(scale):
    d_low = 3  # disparity of the plane in low-resolution pixels
    left_hr = texture(24 * scale, 40 * scale)
    right_hr = shift_left(left_hr, d_low * scale)
    view = cross_view_condition(left_hr, np.full((24, 40), d_low, np.float32), downscale(right_hr, scale), scale,
                                tolerance=0.03, erode=2)
    sure = view.weight == 1.0
    assert sure.mean() > 0.6  # all but the strip only the right eye sees and the eroded edges
    np.testing.assert_allclose(view.frame[sure], right_hr[sure], atol=1e-5)
    assert not sure[:, -d_low * scale:].any()  # the right border strip is not seen by the left eye


def test_cross_view_weight_one_makes_the_eyes_agree_exactly():
    scale, d_low = 2, 2
    left_hr = texture(32, 48)
    left, right = downscale(left_hr, scale)[None], downscale(shift_left(left_hr, d_low * scale), scale)[None]
    config = SuperResolutionConfig(scale=scale, cross_view_weight=1.0, temporal=False)
    up_left, up_right, stats = upscale_stereo(left, right, config=config,
                                              disparity=np.full((1, 16, 24), d_low, np.float32))
    assert stats["cross_view"] > 0.5
    shift = d_low * scale  # right pixel x shows left pixel x + shift
    np.testing.assert_allclose(up_right[0, 6:-6, 6:-6 - shift], up_left[0, 6:-6, 6 + shift:-6], atol=1e-5)


def test_cross_view_improves_left_right_consistency():
    from s2vg.metrics.metrics import lr_consistency

    scale, d_high = 2, 5  # 2.5 low-resolution pixels: the eyes sample the plane at different phases
    hr = np.stack([texture(64, 96, seed=s) for s in range(2)])
    left = np.stack([downscale(f, scale) for f in hr])
    right = np.stack([downscale(shift_left(f, d_high), scale) for f in hr])
    base = SuperResolutionConfig(scale=scale, temporal=False)
    results = {}
    for cross in (False, True):  # disparity estimated from the pair, as `s2vg upscale` does
        up_l, up_r, _ = upscale_stereo(left, right, config=dataclasses.replace(base, cross_view=cross))
        valid = np.zeros((2, 64, 96), bool)
        valid[:, 8:-8, 8:-16] = True
        results[cross] = lr_consistency(up_l, up_r, np.full((2, 64, 96), d_high, np.float32), valid=valid)["mae"]
    assert results[True] < 0.7 * results[False]


def test_disparity_estimate_of_a_plane():
    left_hr = texture(64, 96)
    left, right = left_hr, shift_left(left_hr, 4)
    d = estimate_disparity(left, right, max_disparity=10)
    inner = d[8:-8, 8:-16]
    assert np.isfinite(inner).mean() > 0.9
    assert abs(np.nanmedian(inner) - 4.0) < 0.1


def test_temporal_condition_follows_motion_and_steadies_a_pan():
    from s2vg.metrics.metrics import flicker

    scale = 2
    wide = texture(40, 120)
    hr = np.stack([wide[:, 2 * t: 2 * t + 80] for t in range(5)])  # a pan of 2 px per frame at high resolution
    low = np.stack([downscale(f, scale) for f in hr])
    flow = np.zeros(hr.shape[:3] + (2,), np.float32)
    flow[1:, ..., 0] = 2.0  # where each pixel was one frame earlier (x + 2)
    out = {}
    for temporal in (False, True):
        config = SuperResolutionConfig(scale=scale, temporal=temporal, cross_view=False)
        up, _, stats = upscale_stereo(low, low.copy(), config=config)
        out[temporal] = flicker(up[:, :, :-8], flow=flow[:, :, :-8])
        if temporal:
            assert stats["temporal_left"] > 0.5
    assert out[True] < out[False]


def test_scale_other_than_2_or_4_is_refused():
    with pytest.raises(OptionError, match="scale must be 2 or 4") as error:
        SuperResolutionConfig(scale=3)
    assert error.value.exit_code == 2
    frames = np.zeros((1, 8, 8, 3), np.float32)
    with pytest.raises(OptionError, match="scale must be 2 or 4"):
        upscale_stereo(frames, frames, 3)


def test_streaming_equals_one_call():
    left = np.stack([texture(16, 24, seed=s) for s in range(3)])
    right = np.stack([shift_left(f, 2) for f in left])
    one_l, one_r, _ = upscale_stereo(left, right, 2)
    runner = StereoUpscaler(SuperResolutionConfig(scale=2))
    for t in range(3):
        step_l, step_r = runner.step(left[t], right[t])
        np.testing.assert_array_equal(step_l, one_l[t])
        np.testing.assert_array_equal(step_r, one_r[t])
