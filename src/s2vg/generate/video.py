"""Generating the monocular source video from a prompt or an image (DESIGN.md section 1).

:class:`VideoGenerator` holds a loaded diffusers pipeline (:mod:`s2vg.generate.loading`)
and runs it with the model's own defaults for whatever the caller leaves out; it can hand
its weights to the diffusion frame-matrix inpainter (:meth:`VideoGenerator.denoiser`) so
that ``s2vg generate`` loads one model once. :func:`generate_video` is the one-call form.

Sizes and frame counts the model cannot take are generated larger and cut back: the
frame is centre-cropped (never stretched) and the frames after the requested count are
dropped. Models with learned positional embeddings (CogVideoX-5b-I2V) generate at their
one native size, which is then resized (area, or cubic when enlarging) to the request.
"""

from __future__ import annotations

import inspect
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from s2vg.config import GenerateConfig
from s2vg.errors import InputError, OptionError
from s2vg.generate.families import FAMILIES, Family, valid_frames, valid_size
from s2vg.progress import SILENT, Progress

_CONFIG_FIELDS = set(GenerateConfig.__dataclass_fields__)


def _call_default(pipe: Any, name: str) -> Any:
    return inspect.signature(type(pipe).__call__).parameters[name].default


def temporal_factor(pipe: Any) -> int:
    """Frames per latent frame of the pipeline's VAE (1 for per-frame VAEs)."""
    for name in ("vae_scale_factor_temporal", "vae_temporal_compression_ratio"):
        value = getattr(pipe, name, None)
        if value:
            return int(value)
    return 1


def native_size(pipe: Any) -> tuple[int, int] | None:
    """The one (height, width) a transformer with learned positional embeddings takes, else None."""
    transformer = getattr(pipe, "transformer", None)
    config = getattr(transformer, "config", None)
    if config is None or not getattr(config, "use_learned_positional_embeddings", False):
        return None
    factor = int(getattr(pipe, "vae_scale_factor_spatial", 8))
    return int(config.sample_height) * factor, int(config.sample_width) * factor


def _load_image(image: str | Path | np.ndarray) -> np.ndarray:
    if isinstance(image, (str, Path)):
        from s2vg.io import read_image

        return read_image(image)
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[-1] != 3:
        raise InputError(f"image must be (H, W, 3); got shape {array.shape}")
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    return np.clip(array.astype(np.float32), 0.0, 1.0)


def _resize(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize ``(T, H, W, 3)`` to ``height x width`` (area when shrinking, cubic when enlarging)."""
    shrink = height * width <= frames.shape[1] * frames.shape[2]
    mode = cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
    return np.stack([cv2.resize(f, (width, height), interpolation=mode) for f in frames]).clip(0, 1)


def cover_crop(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Scale ``(H, W, 3)`` to cover ``height x width`` keeping its aspect ratio, then centre-crop."""
    h, w = image.shape[:2]
    scale = max(height / h, width / w)
    nh, nw = max(height, round(h * scale)), max(width, round(w * scale))
    resized = _resize(image[None], nh, nw)[0]
    top, left = (nh - height) // 2, (nw - width) // 2
    return resized[top:top + height, left:left + width]


def centre_crop(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    top, left = (frames.shape[1] - height) // 2, (frames.shape[2] - width) // 2
    return frames[:, top:top + height, left:left + width]


class VideoGenerator:
    """A loaded generator pipeline.

    Args:
        pipe: the diffusers pipeline (on its device).
        about: what :func:`~s2vg.generate.loading.load_pipeline` describes (model,
            family, pipeline, folder, device, dtype).
        config: defaults of every call; defaults to ``GenerateConfig()``.
    """

    def __init__(self, pipe: Any, about: dict[str, Any], config: GenerateConfig = GenerateConfig()) -> None:
        self.pipe = pipe
        self.about = dict(about)
        self.config = config
        self.family: Family = FAMILIES[about["family"]]
        self.image_to_video = about["pipeline"] == self.family.image_to_video

    @classmethod
    def load(cls, config: GenerateConfig = GenerateConfig(), image: bool = False) -> VideoGenerator:
        """Load ``config.model`` (or the default generator) for text- or image-to-video."""
        from s2vg.generate.loading import load_pipeline

        pipe, about = load_pipeline(config.model, image, config)
        return cls(pipe, about, config)

    # -- settings ------------------------------------------------------------------------
    def settings(self, image: np.ndarray | None, config: GenerateConfig) -> dict[str, Any]:
        """The resolved numbers of one call: the model's default wherever ``config`` has None."""
        family = self.family
        height, width = config.height, config.width
        if height is None and width is None:
            height, width = family.height, family.width
            if image is not None:
                # The model's pixel count at the image's aspect ratio.
                area, aspect = family.height * family.width, image.shape[0] / image.shape[1]
                height = valid_size(round((area * aspect) ** 0.5), family.size_multiple)
                width = valid_size(round((area / aspect) ** 0.5), family.size_multiple)
        elif height is None:  # one side given: keep the model's aspect ratio
            height = valid_size(round(width * family.height / family.width), family.size_multiple)  # type: ignore[operator]
        elif width is None:
            width = valid_size(round(height * family.width / family.height), family.size_multiple)
        frames = config.frames or family.frames
        fixed = native_size(self.pipe)
        gen_h, gen_w = fixed or (valid_size(height, family.size_multiple), valid_size(width, family.size_multiple))
        return {
            "steps": config.steps or int(_call_default(self.pipe, "num_inference_steps")),
            "guidance": float(config.guidance if config.guidance is not None else _call_default(self.pipe, "guidance_scale")),
            "negative_prompt": config.negative_prompt,
            "height": int(height), "width": int(width), "frames": int(frames),
            "fps": Fraction(config.fps).limit_denominator(1001) if config.fps else family.fps,
            "seed": config.seed,
            "generated_size": [int(gen_h), int(gen_w)],
            "generated_frames": valid_frames(int(frames), temporal_factor(self.pipe)),
        }

    # -- running -------------------------------------------------------------------------
    def __call__(self, prompt: str, image: str | Path | np.ndarray | None = None, *,
                 config: GenerateConfig | None = None, progress: Progress = SILENT) -> tuple[np.ndarray, Fraction, dict[str, Any]]:
        """Generate one video.

        Args:
            prompt: what the video shows.
            image: first frame for image-to-video (a path, or ``(H, W, 3)`` uint8 or float
                in [0, 1]); required by image-to-video pipelines, refused by text-only ones.
            config: per-call numbers (None fields: the model's defaults); defaults to the
                generator's config.
            progress: receives one update per denoising step.

        Returns:
            ``frames`` ``(T, H, W, 3)`` float32 in [0, 1], ``fps``, and an ``info`` dict
            (model, family, pipeline, prompt, seed, steps, guidance, size, frames, fps, seconds).

        Raises:
            OptionError: an image for a text-to-video pipeline or none for an image-to-video one.
        """
        config = config or self.config
        if image is None and self.image_to_video:
            raise OptionError(f"model {self.about['model']} is an image-to-video model ({self.about['pipeline']}); "
                              "give --image IMG")
        if image is not None and not self.image_to_video:
            raise OptionError(f"model {self.about['model']} was loaded for text-to-video ({self.about['pipeline']}); "
                              "load it with image=True for --image")
        picture = _load_image(image) if image is not None else None
        s = self.settings(picture, config)
        gen_h, gen_w = s["generated_size"]
        params = inspect.signature(type(self.pipe).__call__).parameters
        kwargs: dict[str, Any] = dict(
            prompt=prompt, num_inference_steps=s["steps"], guidance_scale=s["guidance"], height=gen_h, width=gen_w,
            num_frames=s["generated_frames"], generator=torch.Generator("cpu").manual_seed(s["seed"]), output_type="np",
        )
        if s["negative_prompt"] is not None:
            kwargs["negative_prompt"] = s["negative_prompt"]
        if "frame_rate" in params:  # LTX conditions its positional scale on the frame rate
            kwargs["frame_rate"] = round(float(s["fps"]))
        if picture is not None:
            from PIL import Image

            kwargs["image"] = Image.fromarray((cover_crop(picture, gen_h, gen_w) * 255 + 0.5).astype(np.uint8))
        start = time.perf_counter()
        with progress.stage("generate", total=s["steps"], unit="step") as bar:
            if "callback_on_step_end" in params:
                kwargs["callback_on_step_end"] = lambda pipe, i, t, tensors: (bar.update(1), {})[1]
            elif "callback" in params:
                kwargs["callback"], kwargs["callback_steps"] = (lambda i, t, latents: bar.update(1)), 1
            with torch.inference_mode():
                output = self.pipe(**kwargs).frames
        video = output[0] if isinstance(output, (list, tuple)) else output[0]
        video = np.asarray(video.float().cpu() if torch.is_tensor(video) else video, dtype=np.float32)
        video = video[: s["frames"]]
        if native_size(self.pipe) is not None and (s["height"], s["width"]) != (gen_h, gen_w):
            video = _resize(video, s["height"], s["width"])
        else:
            video = centre_crop(video, s["height"], s["width"])
        video = np.ascontiguousarray(np.clip(video, 0.0, 1.0), dtype=np.float32)
        info = {
            **{k: self.about[k] for k in ("model", "family", "pipeline", "device", "dtype")},
            "prompt": prompt,
            "image": str(image) if isinstance(image, (str, Path)) else ("array" if image is not None else None),
            **{k: (str(v) if isinstance(v, Fraction) else v) for k, v in s.items()},
            "seconds": round(time.perf_counter() - start, 3),
        }
        return video, s["fps"], info

    # -- sharing ---------------------------------------------------------------------------
    def denoiser(self, max_frames: int | None = None) -> Any | None:
        """The frame-matrix denoiser over these very modules (nothing is loaded again), or
        None when the pipeline cannot serve as one (image-to-video transformers that take
        extra image channels); see :mod:`s2vg.generate.share`.

        Args:
            max_frames: frames the denoiser takes at once; defaults to the backend's.
        """
        from s2vg.generate.share import denoiser_from_pipeline

        return denoiser_from_pipeline(self.pipe, self.family.name, image_to_video=self.image_to_video,
                                      name=self.about["model"], fps=self.config.fps or self.family.fps,
                                      max_frames=max_frames)


def generate_video(prompt: str, image: str | Path | np.ndarray | None = None, *,
                   config: GenerateConfig | None = None, progress: Progress = SILENT,
                   **options: Any) -> tuple[np.ndarray, Fraction, dict[str, Any]]:
    """Load a generator and make one video.

    Args:
        prompt: what the video shows.
        image: first frame for image-to-video (path or ``(H, W, 3)`` array).
        config: generation options; keyword ``options`` named like ``GenerateConfig``
            fields (``model``, ``seed``, ``steps``, ``guidance``, ``negative_prompt``,
            ``height``, ``width``, ``frames``, ``fps``, ``device``, ``dtype``) override it.

    Returns:
        ``frames`` ``(T, H, W, 3)`` float32 in [0, 1], ``fps`` (Fraction), ``info`` dict.

    Raises:
        OptionError: an unknown option, an image-to-video model without an image, a
            text-only model with one.
        MissingWeightsError: the model's weights are not available.
    """
    import dataclasses

    unknown = sorted(set(options) - _CONFIG_FIELDS)
    if unknown:
        raise OptionError(f"unknown generate option(s) {', '.join(unknown)}; options are {', '.join(sorted(_CONFIG_FIELDS))}")
    config = dataclasses.replace(config or GenerateConfig(), **options)
    generator = VideoGenerator.load(config, image=image is not None)
    return generator(prompt, image, config=config, progress=progress)
