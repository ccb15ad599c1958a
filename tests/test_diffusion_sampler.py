"""The frame-matrix sampler against oracle denoisers (exact answers, no weights)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

pytest.importorskip("diffusers")

from diffusers import DDPMScheduler, FlowMatchEulerDiscreteScheduler  # noqa: E402

from s2vg.config import DiffusionConfig  # noqa: E402
from s2vg.errors import OptionError  # noqa: E402
from s2vg.geometry.frame_matrix import FrameMatrix  # noqa: E402
from s2vg.geometry.rig import CameraRig  # noqa: E402
from s2vg.inpaint.diffusion import FrameMatrixSampler, build_svg_inpainter  # noqa: E402
from s2vg.inpaint.diffusion.schedulers import adapter_for, make_scheduler  # noqa: E402

GUIDANCE = 7.5
LATENT_SCALE = 8.0  # a power of two: scaling is exact in floating point


def ddpm_family() -> DDPMScheduler:
    """Zeroscope's training schedule (scaled linear betas, epsilon prediction)."""
    return DDPMScheduler(num_train_timesteps=1000, beta_schedule="scaled_linear", beta_start=0.00085,
                         beta_end=0.012, clip_sample=False)


class OracleDenoiser:
    """A denoiser that knows clean candidate frames and recognises each input frame.

    The encoder is pixel-unshuffle times 8 (exactly invertible, ``factor`` pixels per latent
    cell, ``3 factor^2`` channels; the large latent scale keeps frames recognisable at high
    noise, so that an early wrong guess cannot lock in). For every frame of every input video the oracle picks the
    candidate clean latent nearest to the noisy frame (least squares after scaling by the
    forward process's signal coefficient) and answers with the model output that implies
    it, through the scheduler adapter. Guidance is checked too: the unconditional half is
    answered with an offset that the guidance formula removes only when the halves are
    paired and weighted correctly.

    ``rule``: ``"frame"`` answers each frame with its own nearest candidate; ``"gated"``
    does the same but answers unsure frames with the uninformed x0 = 0 rather than a guess
    (needed where a latent frame is mostly unknown, so that a wrong early guess cannot
    outweigh the known cells and lock in). ``"row"``
    (for matrices with V != T) answers every frame of a V-frame video with the candidate
    that the best-matching frame of that video recognises: a model that only knows what
    one moment looks like and copies it across the views.
    """

    name = "oracle"
    temporal_factor = 1
    device = torch.device("cpu")

    def __init__(self, scheduler, candidates: torch.Tensor, factor: int, choice: str, steps: int,
                 rule: str = "frame", views: int | None = None, max_frames: int | None = None) -> None:
        self.scheduler = scheduler
        self.spatial_factor = factor
        self.latent_channels = 3 * factor * factor
        self.max_frames = max_frames
        self.candidates = candidates  # (N, C, h, w)
        self.rule, self.views = rule, views
        self.adapter = adapter_for(make_scheduler(scheduler, choice))
        self.adapter.set_timesteps(steps)
        self.calls = 0

    @property
    def candidates(self) -> torch.Tensor:
        return self._candidates

    @candidates.setter
    def candidates(self, value: torch.Tensor | None) -> None:
        self._candidates = value
        if value is not None and len(value) > 1:  # mean squared distance to the nearest other candidate
            flat = value.flatten(1).double()
            dist = torch.cdist(flat, flat).pow(2) / flat.shape[1]
            self._gap = dist.fill_diagonal_(float("inf")).min(dim=1).values.float()

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        b, f, h, w, _ = frames.shape
        x = F.pixel_unshuffle(frames.reshape(b * f, h, w, 3).permute(0, 3, 1, 2), self.spatial_factor) * LATENT_SCALE
        return x.reshape(b, f, *x.shape[1:]).transpose(1, 2)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        b, c, f, h, w = latents.shape
        x = F.pixel_shuffle(latents.transpose(1, 2).reshape(b * f, c, h, w) / LATENT_SCALE, self.spatial_factor)
        return x.permute(0, 2, 3, 1).reshape(b, f, *x.shape[2:], 3)

    def encode_prompt(self, prompt: str, negative_prompt: str):
        return torch.ones(1, 2), torch.zeros(1, 2)

    def _nearest(self, frames: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per frame: the nearest candidate and its confidence (the distance margin to the
        runner-up over the least margin a true noisy sample of that candidate has, its
        distance to the nearest other candidate; >= ~1 for a noisy candidate, ~0 for a frame
        that shows none of them)."""
        a, _ = self.adapter.signal_and_noise(t)
        dist = ((frames[:, None] - a * self.candidates[None]) ** 2).flatten(2).mean(-1)  # (n, N)
        two = dist.topk(2, dim=1, largest=False)
        confidence = (two.values[:, 1] - two.values[:, 0]) / (a * a * self._gap[two.indices[:, 0]])
        return confidence, two.indices[:, 0]

    def predict(self, latents: torch.Tensor, timestep: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        b, c, f, h, w = latents.shape
        frames = latents.transpose(1, 2).reshape(b * f, c, h, w)
        confidence, index = self._nearest(frames, timestep)
        commit = torch.ones_like(confidence, dtype=torch.bool)
        if self.rule == "row":
            # Unsure frames get the uninformed answer (x0 = 0) instead of a guess, and a row
            # copies the moment its most confident frame recognises to all its frames.
            if f == self.views:
                confidence, index = confidence.view(b, f), index.view(b, f)
                best = confidence.argmax(dim=1, keepdim=True)
                index = index.gather(1, best).expand(b, f).reshape(-1)
                confidence = confidence.gather(1, best).expand(b, f).reshape(-1)
            commit = confidence > 0.5
        elif self.rule == "gated":
            commit = confidence > 0.5
        x0 = (self.candidates[index] * commit.view(-1, 1, 1, 1)).reshape(b, f, c, h, w).transpose(1, 2)
        out = self.adapter.output_from_x0(x0, latents, timestep)
        is_uncond = (cond[:, 0] == 0).view(b, 1, 1, 1, 1).float()
        # uncond = out + d, cond = out + d (1 - 1/s): uncond + s (cond - uncond) == out.
        return out + 0.3 * (is_uncond + (1 - is_uncond) * (1 - 1 / GUIDANCE))


def make_rig(views: int, height: int, width: int) -> CameraRig:
    positions = np.zeros((views, 3))
    positions[:, 0] = np.linspace(0.0, 0.08, views)
    return CameraRig(width=width, height=height, focal=float(width), positions=positions)


def make_matrix(views: int, frames: int, size: int, seed: int, hole: float = 0.15,
                static_views: bool = False) -> tuple[FrameMatrix, torch.Tensor]:
    """A matrix whose view 0 is fully known; other views miss a block of each frame.

    Returns the matrix and the true colours ``(V, T, H, W, 3)``. With ``static_views`` every
    view shows view 0's frames and views 1.. are wholly unknown.
    """
    g = torch.Generator().manual_seed(seed)
    # Binary colours keep candidate frames far apart, so the oracle recognises them even at mid noise.
    truth = (torch.rand(views, frames, size, size, 3, generator=g) > 0.5).float()
    known = torch.ones(views, frames, size, size, dtype=torch.bool)
    if static_views:
        truth = truth[:1].expand(views, -1, -1, -1, -1).clone()
        known[1:] = False
    else:
        width = int(size * hole)
        for v in range(1, views):
            for t in range(frames):
                x0 = (3 * v + 5 * t) % (size - width)
                known[v, t, :, x0:x0 + width] = False
    colors = truth * known.unsqueeze(-1)
    depth = torch.ones(views, frames, size, size)
    return FrameMatrix(colors=colors, known=known, depth=depth, rig=make_rig(views, size, size)), truth


CASES = {
    "ddpm": dict(scheduler=ddpm_family(), choice="ddpm"),
    "ddim": dict(scheduler=ddpm_family(), choice="ddim"),
    "flow": dict(scheduler=FlowMatchEulerDiscreteScheduler(shift=1.0), choice="native"),
}


def run_oracle(case: str, *, views=3, frames=4, size=32, factor=2, max_frames=None, rule="frame",
               static_views=False, **overrides):
    matrix, truth = make_matrix(views, frames, size, seed=1, static_views=static_views)
    config = DiffusionConfig(**{"steps": 8, "scheduler": CASES[case]["choice"], "resample": 4, "guidance_scale": GUIDANCE,
                                "window_overlap": 1, "seed": 3, **overrides})
    oracle = OracleDenoiser(CASES[case]["scheduler"], None, factor, CASES[case]["choice"], config.steps, rule=rule,
                            views=views, max_frames=max_frames)
    clean = truth[:1] if static_views else truth
    oracle.candidates = oracle.encode(clean.reshape(-1, size, size, 3).unsqueeze(0))[0].transpose(0, 1)
    result = FrameMatrixSampler(oracle, config)(matrix, "a prompt")
    return matrix, truth, result, oracle


@pytest.mark.parametrize(
    "case, extra",
    [
        ("ddpm", {}),
        ("ddim", {}),
        ("flow", {}),
        ("ddpm", {"multiview": True}),
        ("ddim", {"max_frames": 3, "batch_frames": 10}),
        ("flow", {"max_frames": 3}),
    ],
)
def test_oracle_returns_target_in_unknown_and_source_in_known(case, extra):
    matrix, truth, result, oracle = run_oracle(case, **extra)
    out = result.frames
    unknown = ~matrix.known
    assert unknown.any()
    assert torch.allclose(out[unknown], truth[unknown], atol=1e-4), float((out - truth)[unknown].abs().max())
    # Known pixels: the source view exactly; elsewhere the eroded band at hole edges is
    # the model's (here the truth), the rest pasted.
    assert torch.equal(out[0], matrix.colors[0])
    assert torch.allclose(out[matrix.known], matrix.colors[matrix.known], atol=1e-4)
    assert result.stats.model_calls == oracle.calls
    assert result.stats.reinjected_frames > 0


def test_oracle_exact_without_paste_and_with_latent_blend_only():
    """Without the final paste the known region comes from the latent blend: still exact."""
    matrix, truth, result, _ = run_oracle("ddpm", paste_known=False)
    other = slice(1, None)  # the source view is always the input
    assert torch.allclose(result.frames[other], truth[other], atol=1e-4)


def test_rows_mix_views():
    """Views 1.. are wholly unknown; the oracle only knows view 0's frames and copies the
    moment it recognises across a row. Only row passes can carry view 0 to the others."""
    _, truth, result, _ = run_oracle("ddpm", rule="row", static_views=True)
    assert torch.allclose(result.frames, truth, atol=1e-4), float((result.frames - truth).abs().max())
    _, truth, no_rows, _ = run_oracle("ddpm", rule="row", static_views=True, resample=1)  # columns only
    assert (no_rows.frames[1:] - truth[1:]).abs().max() > 0.3


def test_reversed_rows_only_still_mix_views():
    """The reversed row pass alone (resample 4 and rows V-1->0 last) keeps the rows exact."""
    _, truth, result, _ = run_oracle("flow", rule="row", static_views=True, resample=4, frame_matrix_end=-1.0)
    assert torch.allclose(result.frames, truth, atol=1e-4)


def test_call_and_frame_counts_follow_the_schedule():
    views, frames, steps, resample, target_resample = 3, 4, 8, 4, 2
    matrix, _, result, _ = run_oracle("ddpm", resample=resample, target_resample=target_resample)
    timesteps = make_scheduler(ddpm_family(), "ddpm")
    timesteps.set_timesteps(steps)
    n_matrix = int((timesteps.timesteps > 500).sum())
    n_target = steps - n_matrix
    # one call per pass; the last step has no resampling
    expected_calls = n_matrix * (1 + resample) + n_target * (1 + target_resample) - target_resample
    assert result.stats.model_calls == expected_calls
    cols_all = (views - 1) * frames * 2  # source view skipped; x2 for guidance
    rows_all = frames * views * 2
    per_matrix_step = cols_all + resample // 2 * (cols_all + rows_all)
    per_target_step = frames * 2 * (1 + target_resample)
    expected_frames = n_matrix * per_matrix_step + n_target * per_target_step - target_resample * frames * 2
    assert result.stats.frame_evaluations == expected_frames


def test_memory_budget_splits_calls_but_not_results():
    _, _, whole, _ = run_oracle("ddim")
    _, _, split, _ = run_oracle("ddim", batch_frames=8)
    assert split.stats.model_calls > whole.stats.model_calls
    assert split.stats.frame_evaluations == whole.stats.frame_evaluations
    assert torch.allclose(split.frames, whole.frames, atol=1e-5)


def test_seed_reproducible():
    _, _, a, _ = run_oracle("ddpm", rule="row", static_views=True, resample=1)
    _, _, b, _ = run_oracle("ddpm", rule="row", static_views=True, resample=1)
    assert torch.equal(a.frames, b.frames)


def test_fully_known_matrix_costs_nothing():
    matrix, truth = make_matrix(2, 3, 8, seed=0)
    matrix = matrix.replace(known=torch.ones_like(matrix.known), colors=truth)
    oracle = OracleDenoiser(ddpm_family(), truth.reshape(-1, 8, 8, 3)[:, None].permute(0, 4, 1, 2, 3)[:, :, 0], 1,
                            "ddpm", 4)
    oracle.candidates = oracle.encode(truth.reshape(1, -1, 8, 8, 3))[0].transpose(0, 1)
    result = FrameMatrixSampler(oracle, DiffusionConfig(steps=4))(matrix)
    assert result.stats.model_calls == 0 and result.stats.vae_frames_decoded == 0
    assert torch.equal(result.frames, truth)


def test_svg_inpainter_keeps_source_and_known_mask():
    matrix, truth = make_matrix(3, 4, 16, seed=1)
    oracle = OracleDenoiser(ddpm_family(), None, 2, "ddpm", 6)
    oracle.candidates = oracle.encode(truth.reshape(1, -1, 16, 16, 3))[0].transpose(0, 1)
    inpainter = build_svg_inpainter(prompt="x", denoiser=oracle, steps=6, resample=2)
    out = inpainter(matrix)
    assert inpainter.name == "svg" and inpainter.last_stats.model_calls > 0
    assert torch.equal(out.colors[0], matrix.colors[0])
    assert torch.equal(out.known, matrix.known)
    with pytest.raises(OptionError):
        build_svg_inpainter(denoiser=oracle, stepz=3)


def test_time_compressing_model_gets_pixel_exchange_and_bad_factor_rejected():
    from s2vg.inpaint.diffusion.exchange import PixelExchangeSampler

    oracle = OracleDenoiser(ddpm_family(), torch.zeros(1, 3, 2, 2), 1, "ddpm", 4)
    assert type(FrameMatrixSampler(oracle)) is FrameMatrixSampler
    oracle.temporal_factor = 4
    assert isinstance(FrameMatrixSampler(oracle), PixelExchangeSampler)
    oracle.temporal_factor = 0
    with pytest.raises(OptionError, match="temporal factor"):
        FrameMatrixSampler(oracle)
