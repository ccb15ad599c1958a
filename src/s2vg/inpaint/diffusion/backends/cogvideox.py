"""CogVideoX text-to-video (diffusers ``CogVideoXPipeline`` layout) as a VideoDenoiser.

Folder: ``transformer/`` (``CogVideoXTransformer3DModel``), ``vae/``
(``AutoencoderKLCogVideoX``), ``text_encoder/`` (``T5EncoderModel``), ``tokenizer/`` and
``scheduler/`` (``CogVideoXDDIMScheduler``: v-prediction, zero terminal SNR, SNR-shifted
table; the sampler keeps that table for DDPM, DDIM or native sampling, see
:func:`~s2vg.inpaint.diffusion.schedulers.make_scheduler`).

Geometry from the configs: spatial factor ``2 ** (len(vae.config.block_out_channels) - 1)``
(8), temporal factor ``vae.config.temporal_compression_ratio`` (4: frames ``4 n + 1``),
channels ``vae.config.latent_channels``, normalisation ``(z - shift_factor) *
scaling_factor`` (``CogVideoXPipeline`` multiplies by ``scaling_factor``; the shift is 0
where unset), H and W multiples of the spatial factor times the transformer's patch size.
The transformer takes latents frames-first ``(B, F', C, h, w)``; 3D rotary embeddings are
built as ``CogVideoXPipeline._prepare_rotary_positional_embeddings`` builds them, and
CogVideoX 1.5 (``patch_size_t``) gets its latent frames padded at the front to a multiple
of ``patch_size_t`` (repeating the first) and cropped after. Prompts are T5 embeddings of
``transformer.config.max_text_seq_length`` (226) tokens, which its positional embedding needs.
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

DEFAULT_MODEL = "THUDM/CogVideoX-2b"
SUBFOLDERS = ("transformer", "vae", "text_encoder", "tokenizer", "scheduler")
_ALLOW = ["model_index.json", *(f"{name}/*" for name in SUBFOLDERS)]


class CogVideoXDenoiser(TransformerVideoDenoiser):
    """A loaded CogVideoX model; see :class:`TransformerVideoDenoiser` and the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        config = self.transformer.config
        self._p = int(config.patch_size)
        self._pt = int(config.patch_size_t) if config.patch_size_t is not None else None
        self._rotary = bool(config.use_rotary_positional_embeddings)

    def encode_prompt(self, prompt: str, negative_prompt: str) -> tuple[torch.Tensor, torch.Tensor]:
        """T5 embeddings ``(1, L, D)`` of the prompt and the negative prompt (L = the transformer's text length)."""
        ids, _ = self._tokens([prompt, negative_prompt])
        embeds = self.text_encoder(ids.to(self.device))[0].float()
        return embeds[:1], embeds[1:]

    def forward(self, latents: torch.Tensor, timestep: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        b, _, f, h, w = latents.shape
        x = latents.transpose(1, 2)  # (B, F', C, h, w), the transformer's layout
        extra = 0
        if self._pt is not None and f % self._pt:
            extra = self._pt - f % self._pt
            x = torch.cat([x[:, :1].expand(-1, extra, -1, -1, -1), x], dim=1)
        rotary = self._rotary_embeddings(x.shape[1], h, w, x.device) if self._rotary else None
        out = self.transformer(hidden_states=x, encoder_hidden_states=cond.to(x.dtype),
                               timestep=timestep.reshape(1).expand(b), image_rotary_emb=rotary, return_dict=False)[0]
        return out[:, extra:].transpose(1, 2)

    def _rotary_embeddings(self, frames: int, h: int, w: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """``CogVideoXPipeline._prepare_rotary_positional_embeddings`` for a latent grid of ``frames x h x w``."""
        from diffusers.models.embeddings import get_3d_rotary_pos_embed
        from diffusers.pipelines.cogvideo.pipeline_cogvideox import get_resize_crop_region_for_grid

        config = self.transformer.config
        grid_h, grid_w = h // self._p, w // self._p
        base_w, base_h = config.sample_width // self._p, config.sample_height // self._p
        if self._pt is None:
            crops = get_resize_crop_region_for_grid((grid_h, grid_w), base_w, base_h)
            return get_3d_rotary_pos_embed(embed_dim=config.attention_head_dim, crops_coords=crops,
                                           grid_size=(grid_h, grid_w), temporal_size=frames, device=device)
        return get_3d_rotary_pos_embed(embed_dim=config.attention_head_dim, crops_coords=None, grid_size=(grid_h, grid_w),
                                       temporal_size=(frames + self._pt - 1) // self._pt, grid_type="slice",
                                       max_size=(base_h, base_w), device=device)

    def sequence_length(self, frames: int, height: int, width: int) -> int:
        return -(-frames // (self._pt or 1)) * (height // self._p) * (width // self._p)


def cogvideox_available(model: str | Path | None = None) -> bool:
    """True when the model's weights are a local folder or cached (no network is used)."""
    return weights_present(model or DEFAULT_MODEL, SUBFOLDERS, allow_patterns=_ALLOW)


def load_cogvideox(model: str | Path | None = None, device: str | torch.device | None = None,
                   dtype: str | torch.dtype | None = None, vae_dtype: str | torch.dtype | None = None,
                   max_frames: int | None = 49, cpu_offload: CpuOffload | None = None, vae_tiling: bool = False,
                   vae_slicing: bool = True, attention_backend: str | None = None,
                   vae: str | Path | None = None) -> CogVideoXDenoiser:
    """Load a CogVideoX text-to-video model from a hub id or a local folder.

    Args:
        model: hub id or folder in the ``CogVideoXPipeline`` layout; defaults to ``THUDM/CogVideoX-2b``.
        device: defaults to CUDA when available, else the CPU.
        dtype: transformer and text encoder dtype; defaults to bfloat16 on CUDA, float32 on the CPU
            (CogVideoX-2b was trained in float16: pass ``"float16"`` for it).
        vae_dtype: VAE dtype; defaults to ``dtype``.
        max_frames: frames denoised at once; defaults to 49 (CogVideoX's length).
        cpu_offload, vae_tiling, vae_slicing, attention_backend, vae: as :func:`~s2vg.inpaint.diffusion.backends.wan.load_wan`.

    Raises:
        MissingWeightsError: the weights are neither a local folder nor cached nor reachable.
    """
    from diffusers import AutoencoderKLCogVideoX, CogVideoXTransformer3DModel

    device = resolve_device(device)
    torch_dtype = dtype_for(device, dtype)
    torch_vae_dtype = dtype_for(device, vae_dtype, default_cuda=torch_dtype)
    folder = resolve_model_folder(model or DEFAULT_MODEL, SUBFOLDERS, "CogVideoX model", allow_patterns=_ALLOW)
    transformer = CogVideoXTransformer3DModel.from_pretrained(folder, subfolder="transformer", torch_dtype=torch_dtype,
                                                              local_files_only=True)
    vae_path, vae_sub = vae_location(folder, vae)
    vae_model = AutoencoderKLCogVideoX.from_pretrained(vae_path, torch_dtype=torch_vae_dtype, local_files_only=True,
                                                       **({"subfolder": vae_sub} if vae_sub else {}))
    text_encoder, tokenizer = load_text_encoder(folder, torch_dtype)
    scheduler = load_scheduler(folder, default="CogVideoXDDIMScheduler")
    apply_memory_options([text_encoder, transformer, vae_model], vae_model, device, cpu_offload, vae_tiling,
                         vae_slicing, attention_backend)
    config = vae_model.config
    spatial = 2 ** (len(config.block_out_channels) - 1)
    channels = int(config.latent_channels)
    shift = float(config.shift_factor or 0.0)
    return CogVideoXDenoiser(
        transformer, vae_model, text_encoder, tokenizer, scheduler,
        device=device, dtype=torch_dtype, vae_dtype=torch_vae_dtype, spatial_factor=spatial,
        temporal_factor=int(config.temporal_compression_ratio), size_multiple=spatial * int(transformer.config.patch_size),
        latent_mean=torch.full((channels,), shift), latent_std=torch.ones(channels),
        latent_scale=float(config.scaling_factor), max_frames=max_frames,
        max_sequence_length=int(transformer.config.max_text_seq_length), name=str(model or DEFAULT_MODEL),
    )
