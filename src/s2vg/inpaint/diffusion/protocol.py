"""What the frame-matrix sampler needs from a video diffusion model: :class:`VideoDenoiser`.

Any object with these members can be plugged into
:class:`~s2vg.inpaint.diffusion.sampler.FrameMatrixSampler`: a diffusers text-to-video
model (:mod:`s2vg.inpaint.diffusion.backends.zeroscope`), a flow-matching transformer,
or a test oracle. The protocol carries no algorithm: the sampler owns the loop, the
scheduler adapter (:mod:`s2vg.inpaint.diffusion.schedulers`) owns the algebra.

Conventions:
    frames: ``(B, F, H, W, 3)`` float32 in [0, 1] (RGB).
    latents: ``(B, C, F', h, w)`` as diffusers holds video latents, with
    ``C = latent_channels``, ``h = H / spatial_factor``, ``w = W / spatial_factor`` and
    ``F' = F / temporal_factor`` (1 for per-frame VAEs such as Zeroscope's), already
    normalised for the denoiser (scaled by the VAE's scaling factor, or by its latent
    mean and std).
    conditioning: a tensor, or a dict of tensors, whose first dimension is the batch
    (1 as returned by :meth:`VideoDenoiser.encode_prompt`). The sampler repeats it for
    every video of a call and concatenates unconditional and conditional halves.
"""

from __future__ import annotations

from typing import Any, Protocol, Union, runtime_checkable

import torch

Conditioning = Union[torch.Tensor, dict[str, torch.Tensor]]
"""Prompt conditioning with a leading batch dimension: a tensor or a dict of tensors."""


@runtime_checkable
class VideoDenoiser(Protocol):
    """A video diffusion model seen as encode, decode and one denoising prediction.

    Attributes:
        name: short name of the model for reports.
        scheduler: a diffusers scheduler configured for this model (its training
            schedule and prediction type). The sampler may build another scheduler of the
            same family from ``scheduler.config`` (DDPM or DDIM for the DDPM family).
        spatial_factor: pixels per latent cell along H and W (8 for Zeroscope), read from
            the VAE's config.
        temporal_factor: frames per latent frame (1 for per-frame VAEs such as Zeroscope's).
        latent_channels: ``C`` of the latents (4 for Zeroscope).
        max_frames: the longest video the model denoises at once (16 for Zeroscope);
            None means any length. Longer columns or rows are cut into overlapping windows.
        device: where :meth:`predict`, :meth:`encode` and :meth:`decode` run.
    """

    name: str
    scheduler: Any
    spatial_factor: int
    temporal_factor: int
    latent_channels: int
    max_frames: int | None
    device: torch.device

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """Frames ``(B, F, H, W, 3)`` float32 in [0, 1] to normalised latents ``(B, C, F', h, w)`` float32."""
        ...

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Normalised latents ``(B, C, F', h, w)`` to frames ``(B, F, H, W, 3)`` float32 in [0, 1]."""
        ...

    def encode_prompt(self, prompt: str, negative_prompt: str) -> tuple[Conditioning, Conditioning]:
        """Conditioning ``(cond, uncond)`` for a prompt and its negative prompt, batch 1 each."""
        ...

    def predict(self, latents: torch.Tensor, timestep: torch.Tensor, cond: Conditioning) -> torch.Tensor:
        """The model output for a batch of noisy latent videos at one timestep.

        Args:
            latents: ``(B, C, F', h, w)`` float32 noisy latents, already passed through
                the scheduler's ``scale_model_input``.
            timestep: a 0-d tensor, one of ``scheduler.timesteps``.
            cond: conditioning with batch ``B`` (the sampler repeats and concatenates).

        Returns:
            ``(B, C, F', h, w)`` float32: what the model predicts (noise, velocity or
            sample, as ``scheduler.config.prediction_type`` or the scheduler family says).
        """
        ...
