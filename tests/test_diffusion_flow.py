"""The frame-matrix sampler with flow matching, v-prediction and time-compressing VAEs,
against oracle denoisers (exact answers, no weights)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

pytest.importorskip("diffusers")

from diffusers import DDIMScheduler, DDPMScheduler, FlowMatchEulerDiscreteScheduler  # noqa: E402

from s2vg.config import DiffusionConfig  # noqa: E402
from s2vg.inpaint.diffusion import FrameMatrixSampler  # noqa: E402
from s2vg.inpaint.diffusion.exchange import PixelExchangeSampler  # noqa: E402
from s2vg.inpaint.diffusion.layout import group_frames, pad_frames, valid_frames  # noqa: E402

from test_diffusion_sampler import GUIDANCE, LATENT_SCALE, OracleDenoiser, make_matrix  # noqa: E402

ZEROSCOPE_BETAS = dict(num_train_timesteps=1000, beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
                       clip_sample=False)
FAMILIES = {
    "ddpm-epsilon": (lambda: DDPMScheduler(**ZEROSCOPE_BETAS), "ddpm"),
    "ddim-epsilon": (lambda: DDPMScheduler(**ZEROSCOPE_BETAS), "ddim"),
    # CogVideoX's kind of model: v-prediction, trailing timesteps, zero terminal SNR.
    "ddim-v": (lambda: DDIMScheduler(**ZEROSCOPE_BETAS, prediction_type="v_prediction", timestep_spacing="trailing",
                                     rescale_betas_zero_snr=True, set_alpha_to_one=True), "native"),
    "flow-euler": (lambda: FlowMatchEulerDiscreteScheduler(shift=3.0), "native"),
}


class TimePackingOracle(OracleDenoiser):
    """The oracle of test_diffusion_sampler with a VAE that compresses time by ``k``.

    Encoding is exactly invertible: pixel-unshuffle by the spatial factor, then latent frame
    0 holds frame 0 (repeated ``k`` times along channels, as a causal VAE pads its first
    frame) and latent frame ``j`` holds frames ``k (j - 1) + 1 .. k j`` stacked along
    channels. Decoding unstacks (frame 0 is the mean of its copies). Frame counts must be
    ``k n + 1``; anything else is the sampler's bug. A latent frame groups ``k`` frames, so
    more of it is unknown than of a single frame: unsure frames get the uninformed answer
    (rule ``"gated"``).
    """

    def __init__(self, scheduler, factor: int, k: int, choice: str, steps: int) -> None:
        super().__init__(scheduler, None, factor, choice, steps, rule="gated")
        self.temporal_factor = k
        self.latent_channels = 3 * factor * factor * k

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        b, f, h, w, _ = frames.shape
        k = self.temporal_factor
        assert (f - 1) % k == 0, f"{f} frames is not k n + 1 for k = {k}"
        x = F.pixel_unshuffle(frames.reshape(b * f, h, w, 3).permute(0, 3, 1, 2), self.spatial_factor)
        x = x.reshape(b, f, *x.shape[1:]) * LATENT_SCALE  # (b, f, c, h', w')
        first = x[:, :1].repeat(1, 1, k, 1, 1)
        rest = x[:, 1:].reshape(b, (f - 1) // k, k * x.shape[2], *x.shape[3:])
        return torch.cat([first, rest], dim=1).transpose(1, 2)  # (b, k c, F', h', w')

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        b, kc, n, h, w = latents.shape
        k = self.temporal_factor
        c = kc // k
        x = latents.transpose(1, 2) / LATENT_SCALE  # (b, F', k c, h, w)
        first = x[:, :1].reshape(b, 1, k, c, h, w).mean(dim=2)
        rest = x[:, 1:].reshape(b, (n - 1) * k, c, h, w)
        frames = torch.cat([first, rest], dim=1)
        images = F.pixel_shuffle(frames.reshape(-1, c, h, w), self.spatial_factor)
        return images.permute(0, 2, 3, 1).reshape(b, frames.shape[1], *images.shape[2:], 3)


def candidates_of(oracle: TimePackingOracle, truth: torch.Tensor) -> torch.Tensor:
    """Every distinct latent frame of the true matrix in the three directions' grids: ``(N, C, h, w)``."""
    k = oracle.temporal_factor
    videos = [truth, truth.transpose(0, 1), truth.transpose(0, 1).flip(1)]
    out = []
    for v in videos:
        padded = pad_frames(v, valid_frames(v.shape[1], k), dim=1)
        latents = oracle.encode(padded)  # (n, C, F', h, w)
        out.append(latents.transpose(1, 2).reshape(-1, *latents.shape[1:2], *latents.shape[3:]))
    # Directions share latent frames (all of them for k = 1; the source frames otherwise):
    # keep one of each, so that the runner-up of a recognised frame is another frame.
    return torch.unique(torch.cat(out), dim=0)


def run(family: str, k: int, *, views=3, frames=4, size=32, factor=2, max_frames=None, **overrides):
    make, choice = FAMILIES[family]
    matrix, truth = make_matrix(views, frames, size, seed=1)
    config = DiffusionConfig(**{"steps": 8, "scheduler": choice, "resample": 4, "guidance_scale": GUIDANCE,
                                "window_overlap": 1, "seed": 3, **overrides})
    oracle = TimePackingOracle(make(), factor, k, choice, config.steps)
    oracle.max_frames = max_frames
    oracle.candidates = candidates_of(oracle, truth)
    result = FrameMatrixSampler(oracle, config)(matrix, "a prompt")
    return matrix, truth, result, oracle


@pytest.mark.parametrize("k", [1, 4, 8])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_oracle_exact_for_every_family_and_time_compression(family, k):
    matrix, truth, result, oracle = run(family, k)
    out = result.frames
    unknown = ~matrix.known
    assert torch.allclose(out[unknown], truth[unknown], atol=1e-4), float((out - truth)[unknown].abs().max())
    assert torch.equal(out[0], matrix.colors[0])
    assert torch.allclose(out[matrix.known], matrix.colors[matrix.known], atol=1e-4)
    assert result.stats.model_calls == oracle.calls > 0
    if k > 1:
        assert result.stats.vae_frames_encoded > 0 and result.stats.vae_frames_decoded > 0


@pytest.mark.parametrize("extra", [{"multiview": True}, {"max_frames": 5}, {"resample": 2}, {"paste_known": False},
                                   {"reinject": False}])
def test_pixel_exchange_options_stay_exact(extra):
    """(Columns alone are not enough for this oracle: a latent frame of 4 frames is mostly
    unknown, so it stays unsure until a row pass shows it through other views.)"""
    matrix, truth, result, _ = run("flow-euler", 4, frames=6, **extra)
    other = slice(1, None)
    assert torch.allclose(result.frames[other], truth[other], atol=1e-4), float((result.frames - truth)[other].abs().max())


def test_time_compressing_model_gets_the_pixel_exchange_sampler_and_padded_counts():
    """Frame counts the VAE cannot take (T = 4 and V = 3 for k = 4) are padded, never rejected;
    the encoder asserts it only ever sees k n + 1 frames."""
    _, _, result, oracle = run("ddpm-epsilon", 4, steps=4)
    assert isinstance(FrameMatrixSampler(oracle), PixelExchangeSampler)
    # every encoded video is padded: columns of 4 -> 5 frames, rows of 3 -> 5 frames
    assert result.stats.vae_frames_encoded % 5 == 0


def test_frame_evaluations_count_latent_frames():
    """One model call per pass as in the latent sampler; frames counted on the latent axis."""
    _, _, latent, _ = run("flow-euler", 1, steps=4)
    _, _, packed, _ = run("flow-euler", 4, steps=4)
    assert packed.stats.model_calls == latent.stats.model_calls
    assert packed.stats.frame_evaluations < latent.stats.frame_evaluations


def test_group_frames_and_padding():
    cells = torch.ones(1, 9, 2, 2, dtype=torch.bool)
    cells[0, 3, 0, 0] = False  # frame 3 belongs to latent frame 1 (frames 1..4)
    grouped = group_frames(cells, 4)
    assert grouped.shape == (1, 3, 2, 2)
    assert not grouped[0, 1, 0, 0] and grouped[0, 0].all() and grouped[0, 2].all()
    assert [valid_frames(n, 4) for n in (1, 2, 5, 6, 16)] == [1, 5, 5, 9, 17]
    assert [valid_frames(n, 8) for n in (3, 9, 16)] == [9, 9, 17]
    x = torch.arange(3.0).view(1, 3)
    assert pad_frames(x, 5).tolist() == [[0.0, 1.0, 2.0, 2.0, 2.0]]


def test_odd_frame_size_is_padded_and_cropped():
    """A 30x30 matrix with a model that needs multiples of 4 (factor 2 x patch 2)."""
    make, choice = FAMILIES["flow-euler"]
    matrix, truth = make_matrix(2, 5, 30, seed=4)
    oracle = TimePackingOracle(make(), 2, 4, choice, 6)
    oracle.size_multiple = 4
    padded = F.pad(truth.reshape(-1, 30, 30, 3).permute(0, 3, 1, 2), (0, 2, 0, 2), mode="replicate")
    oracle.candidates = candidates_of(oracle, padded.permute(0, 2, 3, 1).reshape(2, 5, 32, 32, 3))
    result = FrameMatrixSampler(oracle, DiffusionConfig(steps=6, scheduler=choice, resample=2, seed=1))(matrix)
    assert result.frames.shape == matrix.colors.shape
    unknown = ~matrix.known
    assert torch.allclose(result.frames[unknown], truth[unknown], atol=1e-4)


# -- scheduler algebra for the newer families ---------------------------------------------------


def test_noise_of_inverts_the_forward_process_and_refresh_matches_renoise():
    from s2vg.inpaint.diffusion.schedulers import adapter_for

    for make, _ in FAMILIES.values():
        adapter = adapter_for(make())
        timesteps = adapter.set_timesteps(10)
        g = torch.Generator().manual_seed(0)
        x0, eps, fresh = (torch.randn(2, 3, 4, generator=g, dtype=torch.float64) for _ in range(3))
        t_prev, t = timesteps[5], timesteps[4]
        sample = adapter.noise_to(x0, eps, t_prev)
        assert torch.allclose(adapter.noise_of(sample, x0, t_prev), eps, atol=1e-6)
        # re-noising the sample with fresh noise == composing x0 with the refreshed unit noise
        renoised = adapter.renoise(sample, fresh, t_prev, t)
        composed = adapter.noise_to(x0, adapter.refresh_noise(eps, fresh, t_prev, t), t)
        assert torch.allclose(renoised, composed, atol=1e-6)


def test_model_schedulers_map_to_single_step_samplers():
    from diffusers import CogVideoXDDIMScheduler, CogVideoXDPMScheduler, UniPCMultistepScheduler

    from s2vg.errors import OptionError
    from s2vg.inpaint.diffusion.schedulers import adapter_for, make_scheduler, scheduler_family

    # Wan's folder names a flow-configured UniPC: sampled with flow-matching Euler, same shift.
    unipc = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=5.0)
    assert scheduler_family(unipc) == "flow"
    euler = make_scheduler(unipc, "auto")
    assert isinstance(euler, FlowMatchEulerDiscreteScheduler) and euler.config.shift == 5.0
    with pytest.raises(OptionError, match="make_scheduler"):
        adapter_for(unipc)
    with pytest.raises(OptionError, match="native"):
        make_scheduler(unipc, "ddpm")
    # CogVideoX: SNR-shifted, zero-terminal-SNR v-prediction table kept by DDPM, DDIM and native.
    cog = dict(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, prediction_type="v_prediction",
               rescale_betas_zero_snr=True, snr_shift_scale=3.0, timestep_spacing="trailing", set_alpha_to_one=True,
               clip_sample=False)
    native = CogVideoXDDIMScheduler(**cog)
    for choice, cls in (("auto", DDPMScheduler), ("ddim", DDIMScheduler), ("native", CogVideoXDDIMScheduler)):
        built = make_scheduler(native, choice)
        assert isinstance(built, cls) and built.config.prediction_type == "v_prediction"
        assert torch.allclose(built.alphas_cumprod.double(), native.alphas_cumprod.double(), atol=1e-6)
    assert isinstance(make_scheduler(CogVideoXDPMScheduler(**cog), "native"), CogVideoXDDIMScheduler)


def test_dynamic_shift_takes_mu_from_the_sequence_length():
    from s2vg.inpaint.diffusion.schedulers import adapter_for, dynamic_shift_mu

    ltx = dict(use_dynamic_shifting=True, base_shift=0.95, max_shift=2.05, base_image_seq_len=1024,
               max_image_seq_len=4096, shift_terminal=0.1)
    adapter = adapter_for(FlowMatchEulerDiscreteScheduler(**ltx))
    config = adapter.scheduler.config
    assert dynamic_shift_mu(config, 1024) == pytest.approx(0.95) and dynamic_shift_mu(config, 4096) == pytest.approx(2.05)
    short = adapter.set_timesteps(8, seq_len=1024).clone()
    long = adapter.set_timesteps(8, seq_len=4096)
    assert (long[1:-1] > short[1:-1]).all()  # a longer video is shifted towards more noise
    with pytest.raises(ValueError, match="seq_len"):
        adapter.set_timesteps(8)
