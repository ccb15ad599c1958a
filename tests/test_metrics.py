"""Quality measures on cases with known answers (closed forms, identities, reference implementations)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from s2vg.errors import InputError, OptionError
from s2vg.metrics import depth_error, flicker, flicker_against_truth, lr_consistency, mse, psnr, ssim, ssim_map
from s2vg.metrics.metrics import compensated_difference, estimate_backward_flow

H, W, PERIOD = 24, 48, 8


def _sine_image(height: int = H, width: int = W, period: int = PERIOD) -> np.ndarray:
    """0.5 + 0.25 sin(2 pi x / period) in all channels; periodic in x over the width."""
    x = np.arange(width)
    row = 0.5 + 0.25 * np.sin(2 * np.pi * x / period)
    return np.repeat(np.broadcast_to(row, (height, width))[..., None], 3, axis=-1).astype(np.float64)


def _textured(seed: int = 0, shape=(H, W)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    import cv2

    return np.clip(cv2.GaussianBlur(rng.random((*shape, 3)).astype(np.float32), (0, 0), 1.5) * 1.5 - 0.25, 0, 1)


def test_identical_images_give_infinite_psnr_and_unit_ssim():
    img = _textured()
    assert psnr(img, img) == math.inf
    assert psnr(torch.from_numpy(img), img, np.ones((H, W), bool)) == math.inf
    assert ssim(img, img) == pytest.approx(1.0, abs=1e-9)
    assert mse(img, img) == 0.0


def test_one_pixel_shift_psnr_closed_form():
    truth = _sine_image()
    shifted = np.roll(truth, 1, axis=1)  # periodic, so every pixel moves exactly one step
    # sin(a) - sin(a - w) has mean square 2 sin^2(w/2) = 1 - cos(w) over a full period.
    expected_mse = 0.25**2 * (1 - math.cos(2 * math.pi / PERIOD))
    assert mse(shifted, truth) == pytest.approx(expected_mse, rel=1e-12)
    assert psnr(shifted, truth) == pytest.approx(-10 * math.log10(expected_mse), rel=1e-12)
    assert psnr(shifted, truth, peak=2.0) == pytest.approx(10 * math.log10(4 / expected_mse), rel=1e-12)


def test_masked_psnr_uses_only_selected_pixels():
    truth = np.zeros((2, 4, 4, 3))
    result = truth.copy()
    result[0, 1, 1] = 0.1  # one wrong pixel
    mask = np.zeros((2, 4, 4), bool)
    mask[0, :2, :2] = True  # 4 pixels, one wrong
    assert psnr(result, truth, mask) == pytest.approx(-10 * math.log10(0.01 / 4))
    assert psnr(result, truth, ~mask) == math.inf
    assert math.isnan(psnr(result, truth, np.zeros((2, 4, 4), bool)))
    with pytest.raises(InputError, match="mask"):
        psnr(result, truth, np.ones((4, 4), bool))
    with pytest.raises(InputError, match="shape"):
        psnr(result, truth[0])


def test_ssim_matches_the_gaussian_formula_of_wang_et_al():
    import cv2

    a, b = _textured(1, (32, 40)), _textured(2, (32, 40))
    # Reference: Wang et al. 2004 with an 11x11 Gaussian window (sigma 1.5) on 8-bit values,
    # evaluated in the interior where no border handling is involved.
    x, y = a.astype(np.float64) * 255, b.astype(np.float64) * 255
    blur = lambda z: cv2.GaussianBlur(z, (11, 11), 1.5, borderType=cv2.BORDER_REPLICATE)  # noqa: E731
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = blur(x), blur(y)
    sxx, syy, sxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    ref = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    ours = ssim_map(a, b)
    inner = (slice(6, -6), slice(6, -6))
    assert np.allclose(ours[inner], ref.mean(axis=-1)[inner], atol=1e-4)
    mask = np.zeros((32, 40), bool)
    mask[10:20, 5:15] = True
    assert ssim(a, b, mask) == pytest.approx(float(ours[mask].mean()))


def test_static_and_identical_videos_have_zero_flicker():
    video = np.repeat(_textured()[None], 5, axis=0)
    assert flicker(video) == 0.0
    rng = np.random.default_rng(3)
    moving = rng.random((5, H, W, 3)).astype(np.float32)
    flow = rng.normal(size=(5, H, W, 2)).astype(np.float32)
    region = rng.random((5, H, W)) > 0.5
    scores = flicker_against_truth(moving, moving, region, flow)
    assert scores["excess"] == 0.0 and scores["result"] == scores["truth"] > 0


def test_one_pixel_motion_flicker_closed_form_and_compensation():
    frame = _sine_image().astype(np.float32)
    video = np.stack([np.roll(frame, t, axis=1) for t in range(4)])
    # Without compensation: |s(x) - s(x-1)| = 0.25 * 2 sin(pi/P) |cos(2 pi (x - 1/2) / P)|, averaged
    # over the P sample positions of a period.
    phases = 2 * np.pi * (np.arange(PERIOD) - 0.5) / PERIOD
    expected = 0.5 * math.sin(math.pi / PERIOD) * float(np.abs(np.cos(phases)).mean())
    assert flicker(video) == pytest.approx(expected, rel=1e-6)
    # The true motion (each point was one pixel to the left a frame earlier) removes it.
    flow = np.zeros((4, H, W, 2), np.float32)
    flow[..., 0] = -1.0
    assert flicker(video, flow=flow) == pytest.approx(0.0, abs=1e-6)
    diff, inside = compensated_difference(video, flow)
    assert not inside[:, :, 0].any() and inside[1:, :, 1:].all()


def test_estimated_flow_recovers_a_translation():
    base = _textured(4, (64, 96))
    video = np.stack([np.roll(base, 2 * t, axis=1) for t in range(3)]).astype(np.float32)
    flow, valid = estimate_backward_flow(video)
    inner = (slice(1, None), slice(8, -8), slice(12, -12))
    assert np.median(flow[inner][..., 0]) == pytest.approx(-2.0, abs=0.1)
    assert valid[1:].mean() > 0.8 and not valid[0].any()
    assert flicker(video, flow=flow, valid=valid) < 0.1 * flicker(video)


def test_lr_consistency_of_an_exact_two_layer_pair():
    rng = np.random.default_rng(5)
    left = rng.random((20, 40, 3)).astype(np.float32)
    disp = np.full((20, 40), 2.0)
    disp[5:15, 15:25] = 6.0  # a near square
    # Forward-splat the left image to the right view with integer disparities (nearest wins).
    right = np.zeros_like(left)
    order = np.argsort(disp.reshape(-1), kind="stable")  # far first, near overwrites
    ys, xs = np.unravel_index(order, disp.shape)
    tx = xs - disp[ys, xs].astype(int)
    ok = tx >= 0
    right[ys[ok], tx[ok]] = left[ys[ok], xs[ok]]
    out = lr_consistency(left, right, disp)
    assert out["mae"] == 0.0 and out["psnr"] == math.inf
    # Hidden: the 2 leftmost columns (they leave the frame) and, in the square's 10 rows, the 4
    # background pixels left of it (x = 11..14 land on 9..12, where the square lands too).
    hidden = 20 * 2 + 10 * 4
    assert out["checked"] == pytest.approx(1 - hidden / 800)
    worse = lr_consistency(left, np.roll(right, 1, axis=1), disp)
    assert worse["mae"] > 0.1
    with pytest.raises(InputError, match="disparity"):
        lr_consistency(left, right, np.full((20, 40), np.nan))


def test_depth_error_exact_and_affine_inverse_depth():
    rng = np.random.default_rng(6)
    z = rng.uniform(1.0, 10.0, size=(3, 8, 8))
    exact = depth_error(z, z, kind="metric")
    assert exact == {"abs_rel": 0.0, "rmse_m": 0.0, "delta1": 1.0}
    # A relative estimate that is an affine function of inverse depth aligns exactly.
    aligned = depth_error(3.0 / z + 2.0, z, kind="relative")
    assert aligned["abs_rel"] < 1e-9 and aligned["delta1"] == 1.0
    doubled = depth_error(2 * z, z, kind="metric")
    assert doubled["abs_rel"] == pytest.approx(1.0) and doubled["delta1"] == 0.0
    with pytest.raises(OptionError):
        depth_error(z, z, kind="disparity")
