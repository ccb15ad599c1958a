"""The batched sampler against a slow, obvious one-call-per-column/row loop (STYLE.md).

The denoiser here mixes frames causally along its video's frame axis, so that its output
depends on which frames share a video and in which order: batching rows and columns into
one call, or reversing the rows, must not change anything. Deterministic schedulers
(DDIM with eta 0, flow-matching Euler) and the same seeded draws in the same order make
both runs comparable to float precision.
"""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("diffusers")

from diffusers import DDIMScheduler, FlowMatchEulerDiscreteScheduler  # noqa: E402

from s2vg.config import DiffusionConfig  # noqa: E402
from s2vg.inpaint.diffusion import FrameMatrixSampler, latent_masks  # noqa: E402
from s2vg.inpaint.diffusion.schedulers import adapter_for, make_scheduler  # noqa: E402

from test_diffusion_sampler import make_matrix  # noqa: E402


class MixingDenoiser:
    """Output = 0.5 x + 0.3 (causal running mean of x along frames) + 0.05 * cond."""

    name = "mixing"
    temporal_factor = 1
    spatial_factor = 2
    latent_channels = 12
    max_frames = None
    device = torch.device("cpu")

    def __init__(self, scheduler) -> None:
        self.scheduler = scheduler
        self.calls = 0

    def encode(self, frames):
        b, f, h, w, _ = frames.shape
        x = torch.nn.functional.pixel_unshuffle(frames.reshape(b * f, h, w, 3).permute(0, 3, 1, 2), 2)
        return x.reshape(b, f, *x.shape[1:]).transpose(1, 2)

    def decode(self, latents):
        b, c, f, h, w = latents.shape
        x = torch.nn.functional.pixel_shuffle(latents.transpose(1, 2).reshape(b * f, c, h, w), 2)
        return x.permute(0, 2, 3, 1).reshape(b, f, *x.shape[2:], 3)

    def encode_prompt(self, prompt, negative_prompt):
        return torch.full((1, 1), 1.0), torch.full((1, 1), -1.0)

    def predict(self, latents, timestep, cond):
        self.calls += 1
        counts = torch.arange(1, latents.shape[2] + 1, dtype=latents.dtype).view(1, 1, -1, 1, 1)
        running = latents.cumsum(dim=2) / counts
        return 0.5 * latents + 0.3 * running + 0.05 * cond.view(-1, 1, 1, 1, 1)


def reference_loop(model, matrix, cfg: DiffusionConfig) -> torch.Tensor:
    """The method written plainly: one model call (uncond + cond) per column or row."""
    v_count, t_count, h, w = matrix.known.shape
    masks = latent_masks(matrix.known.reshape(-1, h, w), 2, cfg.mask_erode, cfg.mask_threshold, cfg.soft_mask_kernel)
    pixel = masks.pixel.reshape(v_count, t_count, h, w)
    soft = masks.soft.reshape(v_count, t_count, h // 2, w // 2)
    unknown = ~masks.hard.reshape(v_count, t_count, h // 2, w // 2).all(dim=(2, 3))
    real = matrix.colors * pixel.unsqueeze(-1)
    source = torch.stack([model.encode(real[v][None])[0] for v in range(v_count)])  # (V, C, T, h, w)
    m = soft.unsqueeze(1)
    adapter = adapter_for(make_scheduler(model.scheduler, cfg.scheduler))
    timesteps = adapter.set_timesteps(cfg.steps)
    g = torch.Generator().manual_seed(cfg.seed)
    cond, uncond = model.encode_prompt("", "")

    def blend(x, t):
        return x * (1 - m) + adapter.noise_to(source, torch.randn(source.shape, generator=g), t) * m

    def guided(video, t):  # video (1, C, F, h, w)
        out = model.predict(torch.cat([video, video]), t, torch.cat([uncond, cond]))
        return out[:1] + cfg.guidance_scale * (out[1:] - out[:1])

    def column(x, v, t):
        step = adapter.step(guided(x[v][None], t), t, x[v][None])
        return step.prev_sample[0], step.x0[0]

    def row(x, i, t, reverse):
        video = x[:, :, i].permute(1, 0, 2, 3).unsqueeze(0)  # (1, C, V, h, w)
        out = guided(video.flip(2), t).flip(2) if reverse else guided(video, t)
        return adapter.step(out, t, video).prev_sample[0].permute(1, 0, 2, 3)

    views = [v for v in range(v_count) if unknown[v].any()]
    rows = [i for i in range(t_count) if unknown[:, i].any()]
    targets = [v for v in matrix.rig.target_indices if v in views]
    state = torch.randn(source.shape, generator=g) * adapter.init_noise_sigma
    state = blend(state, timesteps[0])
    x0_latest = torch.zeros_like(state)
    for k, t in enumerate(timesteps):
        matrix_phase = float(t) > cfg.frame_matrix_end
        prev = state.clone()
        for v in views if matrix_phase else targets:
            prev[v], x0_latest[v] = column(state, v, t)
            if not (cfg.reinject and float(t) > cfg.reinject_end):
                continue
            decoded = model.decode(x0_latest[v][None])[0]
            decoded = torch.where(pixel[v].unsqueeze(-1), real[v], decoded)
            source[v] = torch.where(unknown[v].view(1, -1, 1, 1), model.encode(decoded[None])[0], source[v])
        if k + 1 == len(timesteps):
            return x0_latest * (1 - m) + source * m
        t_prev = timesteps[k + 1]
        state = prev
        rounds = range(cfg.resample) if matrix_phase else range(cfg.target_resample)
        for r in rounds:
            noisy = blend(adapter.renoise(state, torch.randn(state.shape, generator=g), t_prev, t), t)
            kind = ("columns", "rows", "columns", "rows_reversed")[r % 4] if matrix_phase else "columns"
            if kind == "columns":
                for v in views if matrix_phase else targets:
                    state[v] = column(noisy, v, t)[0]
            else:
                for i in rows:
                    state[:, :, i] = row(noisy, i, t, kind == "rows_reversed")
        state = blend(state, t_prev)
    raise AssertionError("unreachable")


@pytest.mark.parametrize("scheduler, choice", [
    (DDIMScheduler(num_train_timesteps=1000, beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
                   clip_sample=False), "ddim"),
    (FlowMatchEulerDiscreteScheduler(shift=3.0), "native"),
])
def test_batched_sampler_equals_one_call_per_video_loop(scheduler, choice):
    matrix, _ = make_matrix(3, 5, 16, seed=2)
    cfg = DiffusionConfig(steps=6, scheduler=choice, resample=4, target_resample=2, seed=5)
    model = MixingDenoiser(scheduler)
    expected = reference_loop(model, matrix, cfg)
    reference_calls = model.calls
    model.calls = 0
    sampler = FrameMatrixSampler(model, cfg)
    result = sampler(matrix)
    assert model.calls < reference_calls
    # the reference's final latents, decoded and pasted as the sampler does
    decoded_ref = torch.stack([model.decode(expected[v][None])[0] for v in range(3)])
    pixel = latent_masks(matrix.known.reshape(-1, 16, 16), 2).pixel.reshape(matrix.known.shape)
    decoded_ref = torch.where(pixel.unsqueeze(-1), matrix.colors, decoded_ref)
    decoded_ref[0] = matrix.colors[0]
    assert torch.allclose(result.frames, decoded_ref, atol=1e-4), float((result.frames - decoded_ref).abs().max())
