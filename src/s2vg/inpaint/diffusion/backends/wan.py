"""Wan 2.1 / 2.2 text-to-video (diffusers ``WanPipeline`` layout) as a VideoDenoiser.

Folder: ``transformer/`` (``WanTransformer3DModel``), optional ``transformer_2/`` (Wan 2.2
A14B's low-noise expert, used below ``boundary_ratio x num_train_timesteps`` from
``model_index.json``), ``vae/`` (``AutoencoderKLWan``), ``text_encoder/``
(``UMT5EncoderModel``), ``tokenizer/`` and ``scheduler/`` (a flow-configured UniPC or
flow-matching Euler; the sampler steps with flow-matching Euler of the same shift, see
:func:`~s2vg.inpaint.diffusion.schedulers.make_scheduler`).

Geometry from the configs: spatial factor ``vae.config.scale_factor_spatial`` (8 for
Wan 2.1, 16 for the Wan 2.2 VAE), temporal factor ``vae.config.scale_factor_temporal``
(4, frames ``4 n + 1``), channels ``vae.config.z_dim``, normalisation
``(z - latents_mean) / latents_std`` from the VAE config, H and W multiples of the spatial
factor times the transformer's patch size. Prompts: UMT5 embeddings of up to 512 tokens,
zeroed after the prompt's own length (as ``WanPipeline`` does). Wan 2.2 TI2V
(``expand_timesteps``) gets one timestep per token, all equal in text-to-video. The VAE
runs in float32 unless told otherwise (Wan's recommendation); the transformer in
bfloat16 on CUDA.
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
    read_index,
    resolve_device,
    vae_location,
)
from s2vg.inpaint.diffusion.backends.weights import resolve_model_folder, weights_present

DEFAULT_MODEL = "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
SUBFOLDERS = ("transformer", "vae", "text_encoder", "tokenizer", "scheduler")
_ALLOW = ["model_index.json", "transformer_2/*", *(f"{name}/*" for name in SUBFOLDERS)]


class WanDenoiser(TransformerVideoDenoiser):
    """A loaded Wan model; see :class:`TransformerVideoDenoiser` and the module docstring.

    Extra args:
        transformer_2: Wan 2.2's low-noise expert, or None.
        boundary_timestep: timestep below which ``transformer_2`` denoises.
        expand_timesteps: one timestep per token (Wan 2.2 TI2V).
    """

    def __init__(self, *args: Any, transformer_2: Any = None, boundary_timestep: float | None = None,
                 expand_timesteps: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.transformer_2 = transformer_2
        self.boundary_timestep = boundary_timestep
        self.expand_timesteps = expand_timesteps
        self._patch = tuple(int(p) for p in self.transformer.config.patch_size)

    def encode_prompt(self, prompt: str, negative_prompt: str) -> tuple[torch.Tensor, torch.Tensor]:
        """UMT5 embeddings ``(1, L, D)`` of the prompt and the negative prompt, zero after each one's tokens."""
        ids, mask = self._tokens([prompt, negative_prompt])
        embeds = self.text_encoder(ids.to(self.device), mask.to(self.device)).last_hidden_state.float()
        embeds = embeds * mask.to(embeds.device).unsqueeze(-1)  # WanPipeline pads with zeros, not with the pad embedding
        return embeds[:1], embeds[1:]

    def forward(self, latents: torch.Tensor, timestep: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        model = self.transformer
        if self.transformer_2 is not None and self.boundary_timestep is not None and float(timestep) < self.boundary_timestep:
            model = self.transformer_2
        b, _, f, h, w = latents.shape
        if self.expand_timesteps:
            tokens = (f // self._patch[0]) * (h // self._patch[1]) * (w // self._patch[2])
            t = timestep.reshape(1, 1).expand(b, tokens)
        else:
            t = timestep.reshape(1).expand(b)
        return model(hidden_states=latents, timestep=t, encoder_hidden_states=cond.to(latents.dtype),
                     return_dict=False)[0]

    def sequence_length(self, frames: int, height: int, width: int) -> int:
        return (frames // self._patch[0]) * (height // self._patch[1]) * (width // self._patch[2])


def wan_available(model: str | Path | None = None) -> bool:
    """True when the model's weights are a local folder or cached (no network is used)."""
    return weights_present(model or DEFAULT_MODEL, SUBFOLDERS, allow_patterns=_ALLOW)


def load_wan(model: str | Path | None = None, device: str | torch.device | None = None,
             dtype: str | torch.dtype | None = None, vae_dtype: str | torch.dtype | None = "float32",
             max_frames: int | None = 81, max_sequence_length: int = 512, cpu_offload: CpuOffload | None = None,
             vae_tiling: bool = False, vae_slicing: bool = True, attention_backend: str | None = None,
             vae: str | Path | None = None) -> WanDenoiser:
    """Load a Wan text-to-video model from a hub id or a local folder.

    Args:
        model: hub id or folder in the ``WanPipeline`` layout; defaults to
            ``Wan-AI/Wan2.1-T2V-1.3B-Diffusers``.
        device: defaults to CUDA when available, else the CPU.
        dtype: transformer and text encoder dtype; defaults to bfloat16 on CUDA, float32 on the CPU.
        vae_dtype: VAE dtype; defaults to float32.
        max_frames: frames denoised at once (Wan's 81); longer videos are windowed.
        max_sequence_length: prompt tokens; defaults to 512 (``WanPipeline``'s).
        cpu_offload: ``"model"`` or ``"sequential"`` offload to the CPU between uses; defaults to None.
        vae_tiling: decode and encode in spatial tiles; defaults to False.
        vae_slicing: one video of a batch at a time through the VAE; defaults to True.
        attention_backend: diffusers attention backend name; defaults to None (SDPA).
        vae: optional separate VAE folder (``config.json`` + weights, or a folder with ``vae/``).

    Raises:
        MissingWeightsError: the weights are neither a local folder nor cached nor reachable.
    """
    from diffusers import AutoencoderKLWan, WanTransformer3DModel

    device = resolve_device(device)
    torch_dtype = dtype_for(device, dtype)
    torch_vae_dtype = dtype_for(device, vae_dtype, default_cuda=torch_dtype)
    folder = resolve_model_folder(model or DEFAULT_MODEL, SUBFOLDERS, "Wan text-to-video model", allow_patterns=_ALLOW)
    index = read_index(folder)
    transformer = WanTransformer3DModel.from_pretrained(folder, subfolder="transformer", torch_dtype=torch_dtype,
                                                        local_files_only=True)
    transformer_2 = None
    if (folder / "transformer_2").is_dir():
        transformer_2 = WanTransformer3DModel.from_pretrained(folder, subfolder="transformer_2",
                                                              torch_dtype=torch_dtype, local_files_only=True)
    vae_path, vae_sub = vae_location(folder, vae)
    vae_model = AutoencoderKLWan.from_pretrained(vae_path, torch_dtype=torch_vae_dtype, local_files_only=True,
                                                 **({"subfolder": vae_sub} if vae_sub else {}))
    text_encoder, tokenizer = load_text_encoder(folder, torch_dtype, default="UMT5EncoderModel")
    scheduler = load_scheduler(folder, default="UniPCMultistepScheduler")
    modules = [text_encoder, transformer, *([transformer_2] if transformer_2 is not None else []), vae_model]
    apply_memory_options(modules, vae_model, device, cpu_offload, vae_tiling, vae_slicing, attention_backend)
    config = vae_model.config
    spatial = int(config.scale_factor_spatial)
    boundary = index.get("boundary_ratio")
    return WanDenoiser(
        transformer, vae_model, text_encoder, tokenizer, scheduler,
        device=device, dtype=torch_dtype, vae_dtype=torch_vae_dtype, spatial_factor=spatial,
        temporal_factor=int(config.scale_factor_temporal),
        size_multiple=spatial * int(max(transformer.config.patch_size[1:])),
        latent_mean=torch.tensor(config.latents_mean), latent_std=torch.tensor(config.latents_std), latent_scale=1.0,
        max_frames=max_frames, max_sequence_length=max_sequence_length, name=str(model or DEFAULT_MODEL),
        transformer_2=transformer_2,
        boundary_timestep=None if boundary is None else float(boundary) * scheduler.config.num_train_timesteps,
        expand_timesteps=bool(index.get("expand_timesteps", False)),
    )

