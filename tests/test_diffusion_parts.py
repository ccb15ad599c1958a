"""Scheduler adapters, latent masks and time windows of the diffusion inpainter."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

pytest.importorskip("diffusers")

from diffusers import DDIMScheduler, DDPMScheduler, EulerDiscreteScheduler, FlowMatchEulerDiscreteScheduler  # noqa: E402

from s2vg.errors import InputError, OptionError  # noqa: E402
from s2vg.inpaint.diffusion.masks import latent_masks  # noqa: E402
from s2vg.inpaint.diffusion.schedulers import adapter_for, make_scheduler  # noqa: E402
from s2vg.inpaint.diffusion.windows import frame_windows, window_weights  # noqa: E402

ZEROSCOPE_BETAS = dict(num_train_timesteps=1000, beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012)
SCHEDULERS = {
    "ddpm-epsilon": lambda: DDPMScheduler(**ZEROSCOPE_BETAS, clip_sample=False),
    "ddim-v": lambda: DDIMScheduler(**ZEROSCOPE_BETAS, clip_sample=False, prediction_type="v_prediction"),
    "ddim-sample": lambda: DDIMScheduler(**ZEROSCOPE_BETAS, clip_sample=False, prediction_type="sample"),
    "flow-shift3": lambda: FlowMatchEulerDiscreteScheduler(shift=3.0),
}


@pytest.mark.parametrize("name", SCHEDULERS)
def test_renoise_matches_noising_straight_to_t(name):
    adapter = adapter_for(SCHEDULERS[name]())
    timesteps = adapter.set_timesteps(10)
    one, zero = torch.ones(1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    for t, t_prev in zip(timesteps[:-1], timesteps[1:]):
        a_prev, s_prev = adapter.signal_and_noise(t_prev)
        a_t, s_t = adapter.signal_and_noise(t)
        keep = float(adapter.renoise(one, zero, t_prev, t))
        add = float(adapter.renoise(zero, one, t_prev, t))
        assert keep * a_prev == pytest.approx(a_t, rel=1e-6, abs=1e-9)
        assert keep**2 * s_prev**2 + add**2 == pytest.approx(s_t**2, rel=1e-6, abs=1e-9)
        assert a_t < a_prev  # t is the noisier one


@pytest.mark.parametrize("name", SCHEDULERS)
def test_x0_round_trip_and_step_agree(name):
    adapter = adapter_for(SCHEDULERS[name]())
    timesteps = adapter.set_timesteps(10)
    g = torch.Generator().manual_seed(0)
    x0, sample = torch.randn(2, 4, 3, 5, 5, generator=g), torch.randn(2, 4, 3, 5, 5, generator=g)
    t = timesteps[3]
    output = adapter.output_from_x0(x0, sample, t)
    assert torch.allclose(adapter.x0_from_output(output, sample, t), x0, atol=1e-4)
    step = adapter.step(output, t, sample, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(step.x0, x0, atol=1e-4)
    # A sample exactly on the forward process of x0 steps to one on the forward process at t_prev
    # (deterministic schedulers only: DDPM adds fresh noise).
    if name != "ddpm-epsilon":
        eps = torch.randn(x0.shape, generator=g)
        noisy = adapter.noise_to(x0, eps, t)
        out = adapter.output_from_x0(x0, noisy, t)
        prev = adapter.step(out, t, noisy).prev_sample
        assert torch.allclose(prev, adapter.noise_to(x0, eps, timesteps[4]), atol=1e-4)


@pytest.mark.parametrize("name", ["ddim-v", "flow-shift3"])
def test_step_twice_at_one_timestep_is_identical(name):
    adapter = adapter_for(SCHEDULERS[name]())
    timesteps = adapter.set_timesteps(10)
    g = torch.Generator().manual_seed(0)
    sample, output = torch.randn(1, 4, 2, 3, 3, generator=g), torch.randn(1, 4, 2, 3, 3, generator=g)
    first = adapter.step(output, timesteps[2], sample).prev_sample
    second = adapter.step(output, timesteps[2], sample).prev_sample
    assert torch.equal(first, second)


def test_flow_scheduler_itself_moves_on_without_pinning():
    """Why the adapter pins: the raw scheduler steps a different sigma on the second call."""
    scheduler = FlowMatchEulerDiscreteScheduler(shift=3.0)
    scheduler.set_timesteps(10)
    sample, output = torch.ones(1, 2, 1, 2, 2), torch.ones(1, 2, 1, 2, 2)
    t = scheduler.timesteps[2]
    first = scheduler.step(output, t, sample).prev_sample
    second = scheduler.step(output, t, sample).prev_sample
    assert not torch.equal(first, second)


def test_unsupported_schedulers_rejected():
    with pytest.raises(OptionError, match="EulerDiscreteScheduler"):
        adapter_for(EulerDiscreteScheduler())
    with pytest.raises(OptionError, match="native"):
        make_scheduler(FlowMatchEulerDiscreteScheduler(), "ddim")


def test_make_scheduler_builds_from_the_model_config():
    native = DDIMScheduler(**ZEROSCOPE_BETAS, clip_sample=False)
    auto = make_scheduler(native, "auto")
    assert isinstance(auto, DDPMScheduler) and auto is not native
    assert torch.allclose(auto.alphas_cumprod, native.alphas_cumprod)
    assert isinstance(make_scheduler(native, "ddim"), DDIMScheduler)
    flow = FlowMatchEulerDiscreteScheduler(shift=3.0)
    assert isinstance(make_scheduler(flow, "auto"), FlowMatchEulerDiscreteScheduler)


# -- masks ------------------------------------------------------------------------------------


def test_latent_mask_of_a_vertical_edge_closed_form():
    """Known columns [0, 20) of 32, factor 4, erosion 3, threshold 0.7."""
    known = torch.zeros(1, 16, 32, dtype=torch.bool)
    known[..., :20] = True
    masks = latent_masks(known, factor=4, erode=3, threshold=0.7, soft_kernel=5)
    # Erosion by a 3x3 square removes one column at the edge; the image border stays known.
    assert torch.equal(masks.pixel[0, 0], torch.arange(32) < 19)
    assert masks.pixel[0].all(dim=1)[:].tolist() == [False] * 16  # every row has unknown pixels
    # Box 4 (anchor 2): x = 18 sees 16..19 -> 3/4 >= 0.7 kept; cells [16, 20) lack pixel 19.
    assert masks.hard.shape == (1, 4, 8)
    assert torch.equal(masks.hard[0], (torch.arange(8) < 4).expand(4, 8))
    # Soft: Gaussian of side 5 (OpenCV sigma 1.1) of the 0/1 step, BORDER_REFLECT_101, times hard.
    w = cv2.getGaussianKernel(5, 0).ravel()
    expected = np.zeros(8, np.float32)
    for x in range(4):
        for k, offset in enumerate(range(-2, 3)):
            src = abs(x + offset)  # reflect 101 at the left border
            expected[x] += w[k] * (src < 4)
    expected[expected > 1 - 1e-6] = 1.0
    assert np.allclose(masks.soft[0].numpy(), np.broadcast_to(expected, (4, 8)), atol=1e-6)


def test_latent_mask_threshold_and_wholly_known_cells():
    known = torch.ones(1, 8, 8, dtype=torch.bool)
    known[0, 5, 5] = False  # one hole pixel: erosion grows it to rows/cols 4..6
    masks = latent_masks(known, factor=2, erode=3, threshold=0.7, soft_kernel=1)
    assert masks.pixel[0, 4:7, 4:7].sum() == 0 and masks.pixel[0].sum() == 64 - 9
    # Cells (2,2), (2,3), (3,2), (3,3) hold pixels of the eroded hole; the box keeps no others out.
    expected = torch.ones(4, 4, dtype=torch.bool)
    expected[2:4, 2:4] = False
    assert torch.equal(masks.hard[0], expected)
    assert torch.equal(masks.soft[0], expected.float())


def test_fully_known_soft_mask_is_exactly_one_and_bad_size_rejected():
    masks = latent_masks(torch.ones(2, 16, 24, dtype=torch.bool), factor=8)
    assert torch.equal(masks.soft, torch.ones(2, 2, 3))
    with pytest.raises(InputError, match="divisible"):
        latent_masks(torch.ones(1, 12, 16, dtype=torch.bool), factor=8)


# -- windows ----------------------------------------------------------------------------------


def test_windows_cover_and_weights_sum_to_one():
    assert frame_windows(16, 16, 4) == [(0, 16)]
    assert frame_windows(24, None, 4) == [(0, 24)]
    spans = frame_windows(28, 16, 4)
    assert spans == [(0, 16), (12, 28)]
    weights = window_weights(28, spans, 4)
    total = torch.zeros(28)
    for (a, b), w in zip(spans, weights):
        total[a:b] += w
    assert torch.allclose(total, torch.ones(28))
    # the hand-over ramps in overlap + 1 equal steps
    assert torch.allclose(weights[1][:4], torch.tensor([0.2, 0.4, 0.6, 0.8]))
    spans = frame_windows(30, 16, 4)
    assert spans == [(0, 16), (12, 28), (14, 30)]
    with pytest.raises(OptionError):
        frame_windows(30, 16, 16)
