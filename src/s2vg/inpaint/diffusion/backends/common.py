"""What the transformer video backends (Wan, LTX-Video, CogVideoX) share.

:class:`TransformerVideoDenoiser` is the :class:`~s2vg.inpaint.diffusion.protocol.VideoDenoiser`
part common to the three: a 3D VAE that compresses space and time (causal first frame),
a T5-family text encoder, and a transformer whose call each backend writes in
:meth:`TransformerVideoDenoiser.forward`. Latents are normalised per channel as
``(z - mean) * scale / std`` with ``mean``, ``std`` and ``scale`` read from the VAE's
config or buffers by each backend (Wan: ``latents_mean``/``latents_std``; LTX-Video: its
``latents_mean``/``latents_std`` buffers and ``scaling_factor``; CogVideoX:
``scaling_factor`` and ``shift_factor``), never constants.

Memory options (:func:`apply_memory_options`): model-level CPU offload (each module moves
to the GPU when it runs and back when the next one starts, accelerate's
``cpu_offload_with_hook`` chained as diffusers' ``enable_model_cpu_offload`` does),
sequential offload (submodule by submodule, the least memory and the slowest), VAE tiling
and slicing, and the attention kernel (``set_attention_backend``: diffusers' dispatcher,
e.g. ``"flash"``; attention is already PyTorch SDPA, memory-efficient, by default). The
batch of one model call is bounded by ``DiffusionConfig.batch_frames``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import torch

from s2vg.errors import OptionError

CpuOffload = Literal["model", "sequential"]
_DTYPES = {"float16": torch.float16, "fp16": torch.float16, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
           "float32": torch.float32, "fp32": torch.float32}


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``device``, or CUDA when available, else the CPU."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def dtype_for(device: torch.device, dtype: str | torch.dtype | None, default_cuda: torch.dtype = torch.bfloat16
              ) -> torch.dtype:
    """Weight dtype: ``dtype`` checked, or ``default_cuda`` on CUDA and float32 elsewhere."""
    if dtype is None:
        return default_cuda if device.type == "cuda" else torch.float32
    if isinstance(dtype, str):
        if dtype not in _DTYPES:
            raise OptionError(f"dtype must be one of {', '.join(_DTYPES)}; got {dtype!r}")
        dtype = _DTYPES[dtype]
    if device.type == "cpu" and dtype == torch.float16:
        raise OptionError("float16 is not supported on the CPU; use float32 (the default there) or bfloat16")
    return dtype


def read_index(folder: Path) -> dict[str, Any]:
    """The folder's ``model_index.json`` (empty when absent)."""
    index = folder / "model_index.json"
    return json.loads(index.read_text()) if index.is_file() else {}


def load_scheduler(folder: Path, default: str) -> Any:
    """The scheduler of ``folder/scheduler`` by its ``_class_name`` (``default`` when unnamed)."""
    import diffusers

    config = json.loads((folder / "scheduler" / "scheduler_config.json").read_text())
    cls = getattr(diffusers, config.get("_class_name", default))
    return cls.from_pretrained(folder, subfolder="scheduler")


def load_text_encoder(folder: Path, dtype: torch.dtype, default: str = "T5EncoderModel") -> tuple[Any, Any]:
    """Text encoder (class named by ``model_index.json``, else ``default``) and tokenizer."""
    import transformers

    entry = read_index(folder).get("text_encoder") or ["transformers", default]
    cls = getattr(transformers, entry[1], None) or getattr(transformers, default)
    encoder = cls.from_pretrained(folder, subfolder="text_encoder", torch_dtype=dtype, local_files_only=True)
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder, subfolder="tokenizer", local_files_only=True)
    return encoder, tokenizer


def vae_location(folder: Path, vae: str | Path | None) -> tuple[Path, str | None]:
    """Where a VAE's ``config.json`` lies: the model's ``vae/``, or a separate ``vae`` folder
    (itself a VAE folder, or a pipeline folder with ``vae/``)."""
    from s2vg.inpaint.diffusion.backends.weights import resolve_model_folder

    if vae is None:
        return folder, "vae"
    path = resolve_model_folder(Path(vae).expanduser(), (), "VAE")
    return (path, "vae") if (path / "vae").is_dir() else (path, None)


def apply_memory_options(modules: list[Any], vae: Any, device: torch.device, cpu_offload: CpuOffload | None,
                         vae_tiling: bool, vae_slicing: bool, attention_backend: str | None) -> None:
    """Place ``modules`` (text encoder, transformer(s), VAE; in the order they run) on
    ``device`` or behind CPU-offload hooks, and switch on the VAE and attention options."""
    for module in modules:
        module.eval().requires_grad_(False)
    if cpu_offload is not None and device.type != "cuda":
        raise OptionError(f"cpu offload moves modules to a GPU when they run; it needs a CUDA device, not {device}")
    if cpu_offload is None:
        for module in modules:
            module.to(device)
    elif cpu_offload == "model":
        from accelerate import cpu_offload_with_hook

        hook = None
        for module in modules:
            _, hook = cpu_offload_with_hook(module, device, prev_module_hook=hook)
    elif cpu_offload == "sequential":
        from accelerate import cpu_offload

        for module in modules:
            cpu_offload(module, device)
    else:
        raise OptionError(f"cpu offload must be 'model', 'sequential' or None; got {cpu_offload!r}")
    if vae_tiling:
        vae.enable_tiling()
    if vae_slicing:
        vae.enable_slicing()
    if attention_backend is not None:
        for module in modules:
            if module is not vae and hasattr(module, "set_attention_backend"):
                module.set_attention_backend(attention_backend)


class TransformerVideoDenoiser:
    """A transformer video model with a time-compressing VAE; subclasses write :meth:`forward`.

    Args:
        transformer: the denoising transformer.
        vae: the 3D VAE (diffusers ``AutoencoderKL*``).
        text_encoder, tokenizer: the T5-family prompt encoder.
        scheduler: the model's scheduler from its folder.
        device: where the model runs (the execution device under CPU offload).
        dtype: the transformer's weight dtype; outputs come back float32.
        vae_dtype: the VAE's weight dtype.
        spatial_factor, temporal_factor: pixels per latent cell and frames per latent
            frame, from the VAE's config.
        size_multiple: H and W must be multiples of this (VAE factor x patch size).
        latent_mean, latent_std, latent_scale: normalisation ``(z - mean) * scale / std``
            (``(C,)`` tensors and a number).
        max_frames: longest video (pixel frames) denoised at once; None for any length.
        max_sequence_length: text tokens per prompt.
        name: name for reports.
    """

    def __init__(self, transformer: Any, vae: Any, text_encoder: Any, tokenizer: Any, scheduler: Any, *,
                 device: torch.device, dtype: torch.dtype, vae_dtype: torch.dtype, spatial_factor: int,
                 temporal_factor: int, size_multiple: int, latent_mean: torch.Tensor, latent_std: torch.Tensor,
                 latent_scale: float, max_frames: int | None, max_sequence_length: int, name: str) -> None:
        self.transformer, self.vae, self.text_encoder, self.tokenizer = transformer, vae, text_encoder, tokenizer
        self.scheduler = scheduler
        self.device = torch.device(device)
        self.dtype, self.vae_dtype = dtype, vae_dtype
        self.spatial_factor, self.temporal_factor = int(spatial_factor), int(temporal_factor)
        self.size_multiple = int(size_multiple)
        self.latent_channels = int(latent_mean.numel())
        self._mean = latent_mean.float().view(1, -1, 1, 1, 1)
        self._std = latent_std.float().view(1, -1, 1, 1, 1)
        self._scale = float(latent_scale)
        self.max_frames = max_frames
        self.max_sequence_length = int(max_sequence_length)
        self.name = name

    # -- VAE -----------------------------------------------------------------------------
    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """Frames ``(B, F, H, W, 3)`` in [0, 1], ``F = k n + 1``, to normalised latents
        ``(B, C, n + 1, H / f, W / f)`` float32 (posterior mode)."""
        x = frames.permute(0, 4, 1, 2, 3).to(self.device, self.vae_dtype) * 2 - 1  # (B, 3, F, H, W)
        z = self.vae.encode(x).latent_dist.mode().float()
        return (z - self._mean.to(z.device)) * self._scale / self._std.to(z.device)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Normalised latents ``(B, C, F', h, w)`` to frames ``(B, (F' - 1) k + 1, H, W, 3)`` float32 in [0, 1]."""
        z = latents.float().to(self.device)
        z = z * self._std.to(z.device) / self._scale + self._mean.to(z.device)
        video = self._vae_decode(z.to(self.vae_dtype)).float()  # (B, 3, F, H, W) in [-1, 1]
        return (video / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 4, 1)

    def _vae_decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.vae.decode(z).sample

    # -- text ----------------------------------------------------------------------------
    def _tokens(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.tokenizer(texts, padding="max_length", max_length=self.max_sequence_length, truncation=True,
                             add_special_tokens=True, return_attention_mask=True, return_tensors="pt")
        return out.input_ids, out.attention_mask

    # -- model ---------------------------------------------------------------------------
    def predict(self, latents: torch.Tensor, timestep: torch.Tensor, cond: Any) -> torch.Tensor:
        """The transformer's output ``(B, C, F', h, w)`` float32 for latents ``(B, C, F', h, w)``."""
        out = self.forward(latents.to(self.device, self.dtype), timestep.to(self.device), cond)
        return out.float()

    def forward(self, latents: torch.Tensor, timestep: torch.Tensor, cond: Any) -> torch.Tensor:
        raise NotImplementedError

    def sequence_length(self, frames: int, height: int, width: int) -> int:
        """Transformer tokens of a latent video of ``frames x height x width`` cells."""
        return frames * height * width
