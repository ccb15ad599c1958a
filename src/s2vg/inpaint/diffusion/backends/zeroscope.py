"""The diffusers text-to-video UNet family (Zeroscope / ModelScope) as a VideoDenoiser.

The folder layout is diffusers' ``TextToVideoSDPipeline``: ``unet/``
(``UNet3DConditionModel``), ``vae/`` (``AutoencoderKL``, per-frame), ``text_encoder/``
(``CLIPTextModel``), ``tokenizer/`` (``CLIPTokenizer``) and ``scheduler/``. A separate
``vae`` folder may replace the VAE (the method's authors used a temporally aware decoder,
``AutoencoderKLTemporalDecoder``, to reduce flicker); its latent space must match.

Latent geometry comes from the configs, never constants: the spatial factor is
``2 ** (len(vae.config.block_out_channels) - 1)``, channels are
``vae.config.latent_channels`` (checked against ``unet.config.in_channels``), and latents
are normalised by ``vae.config.scaling_factor`` (and ``shift_factor`` where set).
On CUDA the weights are float16 (or bfloat16), on the CPU float32; attention runs through
PyTorch's SDPA (diffusers' default processor), with optional attention slicing and
forward chunking, and the VAE slices its batch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from s2vg.errors import OptionError
from s2vg.inpaint.diffusion.backends.weights import resolve_model_folder, weights_present

DEFAULT_MODEL = "cerspense/zeroscope_v2_576w"
SUBFOLDERS = ("unet", "vae", "text_encoder", "tokenizer", "scheduler")
_ALLOW = ["model_index.json", *(f"{name}/*" for name in SUBFOLDERS)]
_DTYPES = {"float16": torch.float16, "fp16": torch.float16, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
           "float32": torch.float32, "fp32": torch.float32}


class ZeroscopeDenoiser:
    """A loaded text-to-video UNet model; see :class:`~s2vg.inpaint.diffusion.protocol.VideoDenoiser`.

    Args:
        unet: ``UNet3DConditionModel``.
        vae: ``AutoencoderKL`` or ``AutoencoderKLTemporalDecoder`` (per-frame encoder).
        text_encoder: ``CLIPTextModel``.
        tokenizer: ``CLIPTokenizer``.
        scheduler: the model's scheduler from its folder.
        device: where the modules live.
        dtype: the modules' weight dtype; inputs are cast to it, outputs come back float32.
        max_frames: longest video denoised at once; defaults to 16.
        name: name for reports; defaults to ``"zeroscope"``.
    """

    temporal_factor = 1

    def __init__(self, unet: Any, vae: Any, text_encoder: Any, tokenizer: Any, scheduler: Any,
                 device: torch.device, dtype: torch.dtype, max_frames: int | None = 16, name: str = "zeroscope") -> None:
        self.unet, self.vae, self.text_encoder, self.tokenizer = unet, vae, text_encoder, tokenizer
        self.scheduler = scheduler
        self.device = torch.device(device)
        self.dtype = dtype
        self.max_frames = max_frames
        self.name = name
        blocks = vae.config.block_out_channels
        self.spatial_factor = 2 ** (len(blocks) - 1)
        self.latent_channels = int(vae.config.latent_channels)
        if int(unet.config.in_channels) != self.latent_channels:
            raise OptionError(
                f"VAE of {name} has {self.latent_channels} latent channels but its UNet takes "
                f"{unet.config.in_channels}; use the VAE that belongs to the model"
            )
        self._scale = float(vae.config.scaling_factor)
        self._shift = float(getattr(vae.config, "shift_factor", None) or 0.0)
        self._temporal_decoder = type(vae).__name__ == "AutoencoderKLTemporalDecoder"

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """Frames ``(B, F, H, W, 3)`` float32 in [0, 1] to latents ``(B, C, F, h, w)`` float32 (posterior mode)."""
        b, f, h, w, _ = frames.shape
        x = frames.reshape(b * f, h, w, 3).permute(0, 3, 1, 2).to(self.device, self.dtype) * 2 - 1
        latents = self.vae.encode(x).latent_dist.mode()
        latents = (latents.float() - self._shift) * self._scale
        return latents.reshape(b, f, *latents.shape[1:]).transpose(1, 2)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Latents ``(B, C, F, h, w)`` to frames ``(B, F, H, W, 3)`` float32 in [0, 1]."""
        b, c, f, h, w = latents.shape
        z = latents.transpose(1, 2).reshape(b * f, c, h, w) / self._scale + self._shift
        z = z.to(self.device, self.dtype)
        images = self.vae.decode(z, num_frames=f).sample if self._temporal_decoder else self.vae.decode(z).sample
        images = (images.float() / 2 + 0.5).clamp(0, 1)
        return images.permute(0, 2, 3, 1).reshape(b, f, *images.shape[2:], 3)

    def encode_prompt(self, prompt: str, negative_prompt: str) -> tuple[torch.Tensor, torch.Tensor]:
        """CLIP embeddings ``(1, L, D)`` of the prompt and of the negative prompt."""
        tokens = self.tokenizer([prompt, negative_prompt], padding="max_length", truncation=True,
                                max_length=self.tokenizer.model_max_length, return_tensors="pt")
        embeddings = self.text_encoder(tokens.input_ids.to(self.device))[0]
        return embeddings[:1], embeddings[1:]

    def predict(self, latents: torch.Tensor, timestep: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """UNet output ``(B, C, F, h, w)`` float32 for latents ``(B, C, F, h, w)`` at ``timestep``."""
        out = self.unet(latents.to(self.device, self.dtype), timestep.to(self.device),
                        encoder_hidden_states=cond.to(self.device, self.dtype)).sample
        return out.float()


def zeroscope_available(model: str | Path | None = None) -> bool:
    """True when the model's weights are a local folder or cached (no network is used)."""
    return weights_present(model or DEFAULT_MODEL, SUBFOLDERS, allow_patterns=_ALLOW)


def _dtype_for(device: torch.device, dtype: str | torch.dtype | None) -> torch.dtype:
    if dtype is None:
        return torch.float16 if device.type == "cuda" else torch.float32
    if isinstance(dtype, str):
        if dtype not in _DTYPES:
            raise OptionError(f"dtype must be one of {', '.join(_DTYPES)}; got {dtype!r}")
        dtype = _DTYPES[dtype]
    if device.type == "cpu" and dtype == torch.float16:
        raise OptionError("float16 is not supported on the CPU; use float32 (the default there) or bfloat16")
    return dtype


def _load_scheduler(folder: Path) -> Any:
    import diffusers

    config = json.loads((folder / "scheduler" / "scheduler_config.json").read_text())
    cls = getattr(diffusers, config.get("_class_name", "DDIMScheduler"))
    return cls.from_pretrained(folder, subfolder="scheduler")


def _load_vae(path: Path, subfolder: str | None, dtype: torch.dtype) -> Any:
    import diffusers

    config_dir = path / subfolder if subfolder else path
    class_name = json.loads((config_dir / "config.json").read_text()).get("_class_name", "AutoencoderKL")
    if class_name not in ("AutoencoderKL", "AutoencoderKLTemporalDecoder"):
        raise OptionError(f"VAE at {config_dir} is a {class_name}; the text-to-video backend takes an "
                          "AutoencoderKL or AutoencoderKLTemporalDecoder")
    kwargs = {"subfolder": subfolder} if subfolder else {}
    return getattr(diffusers, class_name).from_pretrained(path, torch_dtype=dtype, local_files_only=True, **kwargs)


def load_zeroscope(model: str | Path | None = None, vae: str | Path | None = None,
                   device: str | torch.device | None = None, dtype: str | torch.dtype | None = None,
                   max_frames: int | None = 16, attention_slicing: bool = False, forward_chunking: bool = False,
                   vae_slicing: bool = True) -> ZeroscopeDenoiser:
    """Load a Zeroscope-format model from a hub id or a local folder.

    Args:
        model: hub id or folder in the ``TextToVideoSDPipeline`` layout; defaults to
            ``cerspense/zeroscope_v2_576w``.
        vae: optional separate VAE folder (``config.json`` + weights, or a pipeline folder
            with ``vae/``); defaults to the model's own.
        device: defaults to CUDA when available, else the CPU.
        dtype: weight dtype; defaults to float16 on CUDA and float32 on the CPU.
        max_frames: frames denoised at once; longer sequences are windowed; defaults to 16.
        attention_slicing: compute attention in slices (less memory, slower); defaults to False.
        forward_chunking: chunk the UNet's feed-forward layers over frames; defaults to False.
        vae_slicing: decode one frame batch slice at a time; defaults to True.

    Raises:
        MissingWeightsError: the weights are neither a local folder nor cached nor reachable.
    """
    from diffusers import UNet3DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    device = torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch_dtype = _dtype_for(device, dtype)
    folder = resolve_model_folder(model or DEFAULT_MODEL, SUBFOLDERS, "text-to-video model", allow_patterns=_ALLOW)
    unet = UNet3DConditionModel.from_pretrained(folder, subfolder="unet", torch_dtype=torch_dtype, local_files_only=True)
    if vae is not None:
        vae_path = Path(vae).expanduser()
        vae_dir = resolve_model_folder(vae_path, (), "VAE")
        vae_model = _load_vae(vae_dir, "vae" if (vae_dir / "vae").is_dir() else None, torch_dtype)
    else:
        vae_model = _load_vae(folder, "vae", torch_dtype)
    text_encoder = CLIPTextModel.from_pretrained(folder, subfolder="text_encoder", torch_dtype=torch_dtype,
                                                 local_files_only=True)
    tokenizer = CLIPTokenizer.from_pretrained(folder, subfolder="tokenizer", local_files_only=True)
    scheduler = _load_scheduler(folder)
    for module in (unet, vae_model, text_encoder):
        module.to(device).eval().requires_grad_(False)
    if attention_slicing:
        unet.set_attention_slice("auto")
    if forward_chunking:
        unet.enable_forward_chunking(chunk_size=1, dim=1)
    if vae_slicing and hasattr(vae_model, "enable_slicing"):
        vae_model.enable_slicing()
    return ZeroscopeDenoiser(unet, vae_model, text_encoder, tokenizer, scheduler, device, torch_dtype,
                             max_frames=max_frames, name=str(model or DEFAULT_MODEL))
