"""A learned frame upscaler: a diffusers ``StableDiffusionUpscalePipeline`` model, with the
stereo conditions as the known region of its denoising.

The model (default ``stabilityai/stable-diffusion-x4-upscaler``, or any folder in its
layout: ``unet/`` taking the noisy latents and the noised low-resolution image, ``vae/``
whose latent grid is the low-resolution grid, ``text_encoder/``, ``tokenizer/``,
``scheduler/``, ``low_res_scheduler/``) upscales by its VAE's factor ``f``; for a smaller
scale the result is area-downscaled (x4 then /2 for scale 2).

Conditioning is the frame-matrix sampler's known/unknown blending
(:mod:`s2vg.inpaint.diffusion`): the conditions (temporal, cross-view) are blended into one
known frame with a weight; its latents, noised to each step's timestep with the
scheduler's own forward process (:func:`~s2vg.inpaint.diffusion.schedulers.adapter_for`),
replace the sampler's latents under the latent mask (:func:`~s2vg.inpaint.diffusion.masks.latent_masks`:
wholly known cells, Gaussian-softened); the decoded frame finally takes the known pixels
by their weight. Where nothing is known the model upscales freely.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from s2vg.config import SuperResolutionConfig
from s2vg.errors import MissingWeightsError, OptionError
from s2vg.sr.conditions import Condition

DEFAULT_MODEL = "stabilityai/stable-diffusion-x4-upscaler"
SUBFOLDERS = ("unet", "vae", "text_encoder", "tokenizer", "scheduler", "low_res_scheduler")
_FIX = "pass a local folder with --sr-model PATH, or use --sr-method classical"
#: A latent cell takes the known latents only where this share of its pixels is known.
KNOWN_THRESHOLD = 0.7


def _folder(model: str) -> Path:
    from s2vg.generate.loading import is_folder, snapshot

    if is_folder(model):
        folder = Path(model).expanduser()
        if not folder.is_dir():
            raise MissingWeightsError(f"upscaler folder {folder} does not exist; {_FIX}")
    else:
        folder = snapshot(model, ["model_index.json", *(f"{name}/*" for name in SUBFOLDERS)], what="upscaler", fix=_FIX)
    missing = [name for name in SUBFOLDERS if not (folder / name).is_dir()]
    if missing:
        raise MissingWeightsError(f"upscaler folder {folder} lacks {', '.join(missing)} (the "
                                  f"StableDiffusionUpscalePipeline layout has {', '.join(SUBFOLDERS)}); {_FIX}")
    index = json.loads((folder / "model_index.json").read_text()) if (folder / "model_index.json").is_file() else {}
    if index.get("_class_name", "StableDiffusionUpscalePipeline") != "StableDiffusionUpscalePipeline":
        raise OptionError(f"upscaler {model} is a {index['_class_name']}; give a StableDiffusionUpscalePipeline "
                          f"model such as {DEFAULT_MODEL}")
    return folder


def combine(conditions: list[Condition], shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """One known frame ``(sH, sW, 3)`` and weight ``(sH, sW)`` from conditions in order
    (a later condition overrides an earlier one where it is reliable)."""
    known = np.zeros((*shape, 3), np.float32)
    weight = np.zeros(shape, np.float32)
    for condition in conditions:
        w = condition.weight
        known = known * (1.0 - w[..., None]) + condition.frame * w[..., None]
        weight = weight + w * (1.0 - weight)
    return known, weight


class LearnedUpscaler:
    """A ``StableDiffusionUpscalePipeline`` as a :class:`~s2vg.sr.stereo.FrameUpscaler`.

    Args:
        pipe: the loaded pipeline (on its device).
        config: steps, guidance, noise level, prompt, seed.
    """

    def __init__(self, pipe: Any, config: SuperResolutionConfig = SuperResolutionConfig(method="learned")) -> None:
        self.pipe = pipe
        self.config = config
        self.factor = 2 ** (len(pipe.vae.config.block_out_channels) - 1)
        if config.scale > self.factor or self.factor % config.scale:
            raise OptionError(f"the upscaler upscales by {self.factor}; scale {config.scale} needs one that upscales by "
                              f"{config.scale} (or a multiple of it)")
        self._generator = torch.Generator("cpu").manual_seed(config.seed)
        self._embeds: tuple[torch.Tensor, torch.Tensor | None] | None = None

    @classmethod
    def load(cls, config: SuperResolutionConfig) -> LearnedUpscaler:
        """Load ``config.model`` (default :data:`DEFAULT_MODEL`) from a folder or the cache.

        Raises:
            MissingWeightsError: the weights are neither a local folder nor cached nor reachable.
        """
        from diffusers import StableDiffusionUpscalePipeline

        model = config.model or DEFAULT_MODEL
        folder = _folder(model)
        device = torch.device(config.device) if config.device else torch.device("cuda" if torch.cuda.is_available() else "cpu")
        names = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}
        dtype = names[config.dtype] if config.dtype else (torch.float16 if device.type == "cuda" else torch.float32)
        if device.type == "cpu" and dtype == torch.float16:
            raise OptionError("float16 is not supported on the CPU; use float32 (the default there) or bfloat16")
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning)
            pipe = StableDiffusionUpscalePipeline.from_pretrained(folder, torch_dtype=dtype, local_files_only=True)
        pipe.to(device)
        pipe.set_progress_bar_config(disable=True)
        return cls(pipe, config)

    def _prompt(self, guided: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self._embeds is None:
            cond, uncond = self.pipe.encode_prompt(self.config.prompt, self.pipe._execution_device, 1, guided, "")
            self._embeds = (cond, uncond if guided else None)
        return self._embeds

    @torch.no_grad()
    def __call__(self, low: np.ndarray, conditions: list[Condition], scale: int) -> np.ndarray:
        """``(H, W, 3)`` -> ``(sH, sW, 3)`` float32 in [0, 1], the conditions as the known region."""
        from s2vg.inpaint.diffusion.masks import latent_masks
        from s2vg.inpaint.diffusion.schedulers import adapter_for, make_scheduler

        pipe, c, f = self.pipe, self.config, self.factor
        device, dtype = pipe._execution_device, pipe.unet.dtype
        h, w = low.shape[:2]
        known, weight = combine(conditions, (h * scale, w * scale))
        if f != scale:  # conditions live at the model's resolution while it samples
            known = cv2.resize(known, (w * f, h * f), interpolation=cv2.INTER_CUBIC)
            weight = cv2.resize(weight, (w * f, h * f), interpolation=cv2.INTER_LINEAR)
        guided = c.guidance > 1.0
        cond, uncond = self._prompt(guided)
        embeds = torch.cat([uncond, cond]) if guided else cond
        image = torch.from_numpy(low).permute(2, 0, 1)[None].to(device, dtype) * 2 - 1
        noise_level = torch.tensor([c.noise_level], dtype=torch.long, device=device)
        image_noise = torch.randn(image.shape, generator=self._generator).to(device, dtype)
        image = pipe.low_res_scheduler.add_noise(image, image_noise, noise_level)
        scheduler = make_scheduler(pipe.scheduler, "native")
        adapter = adapter_for(scheduler)
        timesteps = adapter.set_timesteps(c.steps)
        latent_shape = (1, pipe.vae.config.latent_channels, h, w)
        latents = torch.randn(latent_shape, generator=self._generator).to(device, torch.float32) * adapter.init_noise_sigma
        blend = None
        if weight.max() > 0:
            scaling = pipe.vae.config.scaling_factor
            pixels = torch.from_numpy(known).permute(2, 0, 1)[None].to(device, pipe.vae.dtype) * 2 - 1
            known_latents = pipe.vae.encode(pixels).latent_dist.mode().float() * scaling
            masks = latent_masks(torch.from_numpy(weight >= 0.5)[None], f, erode=1, threshold=KNOWN_THRESHOLD)
            blend = masks.soft.to(device)[:, None]
            known_noise = torch.randn(latent_shape, generator=self._generator).to(device)
        for i, t in enumerate(timesteps):
            model_in = adapter.model_input(torch.cat([latents] * 2) if guided else latents, t)
            model_in = torch.cat([model_in, torch.cat([image] * 2) if guided else image], dim=1).to(dtype)
            labels = torch.cat([noise_level] * 2) if guided else noise_level
            out = pipe.unet(model_in, t.to(device), encoder_hidden_states=embeds, class_labels=labels).sample.float()
            if guided:
                out_uncond, out_cond = out.chunk(2)
                out = out_uncond + c.guidance * (out_cond - out_uncond)
            latents = adapter.step(out, t, latents, generator=self._generator).prev_sample
            if blend is not None:
                # The known region enters as the known latents at the next step's noise level.
                target = known_latents if i + 1 == len(timesteps) else adapter.noise_to(known_latents, known_noise, timesteps[i + 1])
                latents = blend * target + (1 - blend) * latents
        decoded = pipe.vae.decode((latents / pipe.vae.config.scaling_factor).to(pipe.vae.dtype)).sample.float()
        frame = (decoded[0].permute(1, 2, 0).cpu().numpy() / 2 + 0.5).clip(0, 1).astype(np.float32)
        frame = frame * (1.0 - weight[..., None]) + known * weight[..., None]  # the known pixels, by their weight
        if f != scale:
            frame = cv2.resize(frame, (w * scale, h * scale), interpolation=cv2.INTER_AREA)
        return np.clip(frame, 0.0, 1.0).astype(np.float32)


def save_random_upscaler(folder: str | Path, seed: int = 0) -> Path:
    """Write a tiny random ``StableDiffusionUpscalePipeline`` (x4: a 3-level VAE) to ``folder``,
    built from configs as diffusers' own tests build it; for tests without weights."""
    from diffusers import AutoencoderKL, DDIMScheduler, DDPMScheduler, StableDiffusionUpscalePipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    from s2vg.inpaint.diffusion.backends.random_init import _CHARS, _write_tokenizer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 8, 16), layers_per_block=1, sample_size=16, in_channels=7, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=16,
        attention_head_dim=4, use_linear_projection=True, only_cross_attention=(True, True, False), num_class_embeds=100,
        norm_num_groups=4,
    )
    vae = AutoencoderKL(block_out_channels=(8, 8, 16), in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3,
                        norm_num_groups=4, layers_per_block=1, scaling_factor=0.08333)
    text = CLIPTextModel(CLIPTextConfig(vocab_size=2 + 2 * len(_CHARS), hidden_size=16, intermediate_size=32,
                                        num_attention_heads=2, num_hidden_layers=1, max_position_embeddings=77,
                                        bos_token_id=0, eos_token_id=1, pad_token_id=1))
    _write_tokenizer(folder / "tokenizer", max_length=77)
    tokenizer = CLIPTokenizer.from_pretrained(folder / "tokenizer")
    pipe = StableDiffusionUpscalePipeline(
        vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet,
        low_res_scheduler=DDPMScheduler(), scheduler=DDIMScheduler(prediction_type="v_prediction"), max_noise_level=350,
    )
    pipe.save_pretrained(folder)
    return folder
