"""One model, loaded once: the generator's modules as the frame-matrix denoiser.

The diffusion inpainter's backends (:mod:`s2vg.inpaint.diffusion.backends`) load their
modules from a folder; here the same denoiser classes are built around the modules of an
already loaded generator pipeline, with the latent geometry and normalisation read from
the same configs the backends' loaders read. Nothing is loaded or copied: the denoiser
holds the pipeline's very modules, and a fresh scheduler from the pipeline's config.

A pipeline whose transformer takes extra image channels (Wan and CogVideoX
image-to-video) cannot denoise a text-to-video frame matrix: :func:`denoiser_from_pipeline`
returns None for it, and the inpainter loads its own model.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import torch


def denoiser_from_pipeline(pipe: Any, family: str, *, image_to_video: bool, name: str, fps: Fraction | float,
                           max_frames: int | None = None) -> Any | None:
    """The :class:`~s2vg.inpaint.diffusion.protocol.VideoDenoiser` over ``pipe``'s modules, or None.

    Args:
        pipe: a loaded generator pipeline.
        family: ``"zeroscope"``, ``"wan"``, ``"ltx"`` or ``"cogvideox"``.
        image_to_video: whether ``pipe`` is the family's image-to-video pipeline.
        name: the model's name for reports.
        fps: frame rate of the video (LTX-Video's positional time scale).
        max_frames: frames denoised at once; defaults to each backend loader's default.
    """
    if image_to_video and family in ("wan", "cogvideox"):
        return None
    scheduler = type(pipe.scheduler).from_config(pipe.scheduler.config)  # the pipeline's has been stepped
    device = getattr(pipe, "_execution_device", None) or pipe.device
    vae = pipe.vae
    if family == "zeroscope":
        from s2vg.inpaint.diffusion.backends.zeroscope import ZeroscopeDenoiser

        return ZeroscopeDenoiser(pipe.unet, vae, pipe.text_encoder, pipe.tokenizer, scheduler, device, pipe.unet.dtype,
                                 max_frames=max_frames or 16, name=name)
    transformer = pipe.transformer
    common = dict(device=device, dtype=transformer.dtype, vae_dtype=vae.dtype, name=name)
    if family == "wan":
        from s2vg.inpaint.diffusion.backends.wan import WanDenoiser

        spatial = int(vae.config.scale_factor_spatial)
        boundary = pipe.config.get("boundary_ratio")
        return WanDenoiser(
            transformer, vae, pipe.text_encoder, pipe.tokenizer, scheduler, spatial_factor=spatial,
            temporal_factor=int(vae.config.scale_factor_temporal),
            size_multiple=spatial * int(max(transformer.config.patch_size[1:])),
            latent_mean=torch.tensor(vae.config.latents_mean), latent_std=torch.tensor(vae.config.latents_std),
            latent_scale=1.0, max_frames=max_frames or 81, max_sequence_length=512,
            transformer_2=getattr(pipe, "transformer_2", None),
            boundary_timestep=None if boundary is None else float(boundary) * scheduler.config.num_train_timesteps,
            expand_timesteps=bool(pipe.config.get("expand_timesteps", False)), **common,
        )
    if family == "ltx":
        from s2vg.inpaint.diffusion.backends.ltx import LTXDenoiser

        spatial = int(vae.spatial_compression_ratio)
        return LTXDenoiser(
            transformer, vae, pipe.text_encoder, pipe.tokenizer, scheduler, spatial_factor=spatial,
            temporal_factor=int(vae.temporal_compression_ratio), size_multiple=spatial * int(transformer.config.patch_size),
            latent_mean=vae.latents_mean.detach().cpu().clone(), latent_std=vae.latents_std.detach().cpu().clone(),
            latent_scale=float(vae.config.scaling_factor), max_frames=max_frames or 161, max_sequence_length=128,
            frame_rate=float(fps), **common,
        )
    if family == "cogvideox":
        from s2vg.inpaint.diffusion.backends.cogvideox import CogVideoXDenoiser

        config = vae.config
        spatial = 2 ** (len(config.block_out_channels) - 1)
        channels = int(config.latent_channels)
        return CogVideoXDenoiser(
            transformer, vae, pipe.text_encoder, pipe.tokenizer, scheduler, spatial_factor=spatial,
            temporal_factor=int(config.temporal_compression_ratio), size_multiple=spatial * int(transformer.config.patch_size),
            latent_mean=torch.full((channels,), float(config.shift_factor or 0.0)), latent_std=torch.ones(channels),
            latent_scale=float(config.scaling_factor), max_frames=max_frames or 49,
            max_sequence_length=int(transformer.config.max_text_seq_length), **common,
        )
    return None
