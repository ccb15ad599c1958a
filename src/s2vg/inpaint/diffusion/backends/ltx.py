"""LTX-Video (diffusers ``LTXPipeline`` layout) as a VideoDenoiser.

Folder: ``transformer/`` (``LTXVideoTransformer3DModel``), ``vae/``
(``AutoencoderKLLTXVideo``), ``text_encoder/`` (``T5EncoderModel``), ``tokenizer/`` and
``scheduler/`` (flow-matching Euler with resolution-dependent shifting: the sampler passes
the latent sequence length, :func:`~s2vg.inpaint.diffusion.schedulers.dynamic_shift_mu`).

Geometry from the VAE: ``spatial_compression_ratio`` and ``temporal_compression_ratio``
(32 and 8 for LTX-Video: frames ``8 n + 1``; both derived by diffusers from the VAE's
patch sizes and scaling blocks), channels ``vae.config.latent_channels``, normalisation
``(z - latents_mean) * scaling_factor / latents_std`` with the VAE's buffers. The
transformer takes packed tokens (``LTXPipeline._pack_latents``: patch sizes from its
config), the latent grid and RoPE scales ``(k / frame_rate, f, f)``; prompts are T5
embeddings of up to 128 tokens with their attention mask. VAEs with timestep conditioning
(0.9.1 and later) decode at ``decode_timestep`` 0 with no added noise, ``LTXPipeline``'s
default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from s2vg.inpaint.diffusion.backends.common import (
    CpuOffload,
    TransformerVideoDenoiser,
    apply_memory_options,
    dtype_for,
    load_scheduler,
    load_text_encoder,
    resolve_device,
    vae_location,
)
from s2vg.inpaint.diffusion.backends.weights import resolve_model_folder, weights_present

DEFAULT_MODEL = "Lightricks/LTX-Video"
SUBFOLDERS = ("transformer", "vae", "text_encoder", "tokenizer", "scheduler")
_ALLOW = ["model_index.json", *(f"{name}/*" for name in SUBFOLDERS)]


class LTXDenoiser(TransformerVideoDenoiser):
    """A loaded LTX-Video model; see :class:`TransformerVideoDenoiser` and the module docstring.

    Extra args:
        frame_rate: frames per second the RoPE time scale assumes; defaults to 25.
    """

    def __init__(self, *args: Any, frame_rate: float = 25.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        config = self.transformer.config
        self._p, self._pt = int(config.patch_size), int(config.patch_size_t)
        self._rope = (self.temporal_factor / frame_rate, self.spatial_factor, self.spatial_factor)
        self._timestep_conditioning = bool(getattr(self.vae.config, "timestep_conditioning", False))

    def encode_prompt(self, prompt: str, negative_prompt: str) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """T5 embeddings ``(1, L, D)`` and bool masks ``(1, L)`` of the prompt and the negative prompt."""
        ids, mask = self._tokens([prompt, negative_prompt])
        embeds = self.text_encoder(ids.to(self.device))[0].float()
        mask = mask.bool().to(embeds.device)
        return {"embeds": embeds[:1], "mask": mask[:1]}, {"embeds": embeds[1:], "mask": mask[1:]}

    def forward(self, latents: torch.Tensor, timestep: torch.Tensor, cond: dict[str, torch.Tensor]) -> torch.Tensor:
        b, c, f, h, w = latents.shape
        p, pt = self._p, self._pt
        # LTXPipeline._pack_latents: (B, C, F, H, W) -> (B, F/pt * H/p * W/p, C pt p p).
        tokens = latents.reshape(b, c, f // pt, pt, h // p, p, w // p, p)
        tokens = tokens.permute(0, 2, 4, 6, 1, 3, 5, 7).flatten(4, 7).flatten(1, 3)
        out = self.transformer(
            hidden_states=tokens, encoder_hidden_states=cond["embeds"].to(latents.dtype),
            timestep=timestep.reshape(1).expand(b), encoder_attention_mask=cond["mask"],
            num_frames=f // pt, height=h // p, width=w // p, rope_interpolation_scale=self._rope, return_dict=False,
        )[0]
        # LTXPipeline._unpack_latents.
        out = out.reshape(b, f // pt, h // p, w // p, -1, pt, p, p)
        return out.permute(0, 4, 1, 5, 2, 6, 3, 7).flatten(6, 7).flatten(4, 5).flatten(2, 3)

    def _vae_decode(self, z: torch.Tensor) -> torch.Tensor:
        if not self._timestep_conditioning:
            return self.vae.decode(z).sample
        temb = torch.zeros(z.shape[0], device=z.device, dtype=z.dtype)  # decode_timestep 0, no decode noise
        return self.vae.decode(z, temb).sample

    def sequence_length(self, frames: int, height: int, width: int) -> int:
        return (frames // self._pt) * (height // self._p) * (width // self._p)


def ltx_available(model: str | Path | None = None) -> bool:
    """True when the model's weights are a local folder or cached (no network is used)."""
    return weights_present(model or DEFAULT_MODEL, SUBFOLDERS, allow_patterns=_ALLOW)


def load_ltx(model: str | Path | None = None, device: str | torch.device | None = None,
             dtype: str | torch.dtype | None = None, vae_dtype: str | torch.dtype | None = None,
             max_frames: int | None = 161, max_sequence_length: int = 128, frame_rate: float = 25.0,
             cpu_offload: CpuOffload | None = None, vae_tiling: bool = False, vae_slicing: bool = True,
             attention_backend: str | None = None, vae: str | Path | None = None) -> LTXDenoiser:
    """Load an LTX-Video model from a hub id or a local folder.

    Args:
        model: hub id or folder in the ``LTXPipeline`` layout; defaults to ``Lightricks/LTX-Video``.
        device: defaults to CUDA when available, else the CPU.
        dtype: transformer and text encoder dtype; defaults to bfloat16 on CUDA, float32 on the CPU.
        vae_dtype: VAE dtype; defaults to ``dtype``.
        max_frames: frames denoised at once; defaults to 161 (``LTXPipeline``'s default length).
        max_sequence_length: prompt tokens; defaults to 128.
        frame_rate: frame rate of the RoPE time scale; defaults to 25.
        cpu_offload, vae_tiling, vae_slicing, attention_backend, vae: as :func:`~s2vg.inpaint.diffusion.backends.wan.load_wan`.

    Raises:
        MissingWeightsError: the weights are neither a local folder nor cached nor reachable.
    """
    from diffusers import AutoencoderKLLTXVideo, LTXVideoTransformer3DModel

    device = resolve_device(device)
    torch_dtype = dtype_for(device, dtype)
    torch_vae_dtype = dtype_for(device, vae_dtype, default_cuda=torch_dtype)
    folder = resolve_model_folder(model or DEFAULT_MODEL, SUBFOLDERS, "LTX-Video model", allow_patterns=_ALLOW)
    transformer = LTXVideoTransformer3DModel.from_pretrained(folder, subfolder="transformer", torch_dtype=torch_dtype,
                                                             local_files_only=True)
    vae_path, vae_sub = vae_location(folder, vae)
    vae_model = AutoencoderKLLTXVideo.from_pretrained(vae_path, torch_dtype=torch_vae_dtype, local_files_only=True,
                                                      **({"subfolder": vae_sub} if vae_sub else {}))
    text_encoder, tokenizer = load_text_encoder(folder, torch_dtype)
    scheduler = load_scheduler(folder, default="FlowMatchEulerDiscreteScheduler")
    # Read the normalisation buffers before offloading (sequential offload leaves meta tensors).
    mean, std = vae_model.latents_mean.detach().cpu().clone(), vae_model.latents_std.detach().cpu().clone()
    apply_memory_options([text_encoder, transformer, vae_model], vae_model, device, cpu_offload, vae_tiling,
                         vae_slicing, attention_backend)
    spatial = int(vae_model.spatial_compression_ratio)
    return LTXDenoiser(
        transformer, vae_model, text_encoder, tokenizer, scheduler,
        device=device, dtype=torch_dtype, vae_dtype=torch_vae_dtype, spatial_factor=spatial,
        temporal_factor=int(vae_model.temporal_compression_ratio),
        size_multiple=spatial * int(transformer.config.patch_size),
        latent_mean=mean, latent_std=std,
        latent_scale=float(vae_model.config.scaling_factor), max_frames=max_frames,
        max_sequence_length=max_sequence_length, name=str(model or DEFAULT_MODEL), frame_rate=frame_rate,
    )
