"""Video generator families: which diffusers pipelines, and each model's own defaults.

A folder's ``model_index.json`` names its pipeline class (``_class_name``); that class
picks the :class:`Family` and whether it is text-to-video or image-to-video. Steps and
guidance default to the pipeline's own ``__call__`` defaults; the size, frame count and
frame rate a family was trained for are the constants below (from the model cards), since
several pipelines leave them to the caller.

Frame counts and sizes that a model cannot take are never rejected: the family's VAE
compresses time by ``temporal`` (the first frame is causal, so it takes ``k*temporal + 1``
frames) and the frame must be a multiple of ``size_multiple`` pixels (VAE factor times
the transformer's patch, or the pipeline's own check); the generator makes the next
larger valid video and crops it back (see :mod:`s2vg.generate.video`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from s2vg.errors import OptionError


@dataclass(frozen=True)
class Family:
    """One generator family.

    Attributes:
        name: ``"zeroscope"``, ``"wan"``, ``"ltx"`` or ``"cogvideox"``.
        text_to_video: the text-to-video pipeline class name.
        image_to_video: the image-to-video pipeline class name, or None.
        shared_i2v_weights: the text-to-video weights also run the image-to-video pipeline.
        default_model: hub id of the text-to-video model.
        default_i2v_model: hub id of the image-to-video model, or None.
        height, width: the size the model was trained for, in pixels.
        frames: the frame count the model was trained for.
        fps: the frame rate its videos play at.
        size_multiple: the frame must be a multiple of this many pixels (the pipeline's
            check, or VAE factor x transformer patch).
        denoiser_backend: name of the frame-matrix denoiser backend for the same weights
            (``s2vg.inpaint.diffusion.backends``).
    """

    name: str
    text_to_video: str
    image_to_video: str | None
    shared_i2v_weights: bool
    default_model: str
    default_i2v_model: str | None
    height: int
    width: int
    frames: int
    fps: Fraction
    size_multiple: int
    denoiser_backend: str


FAMILIES: dict[str, Family] = {
    # cerspense/zeroscope_v2_576w: 576x320, 24 frames in its card; 16 frames is the window
    # the frame-matrix denoiser takes at once, so a generated clip is one window.
    "zeroscope": Family("zeroscope", "TextToVideoSDPipeline", None, False, "cerspense/zeroscope_v2_576w", None,
                        320, 576, 16, Fraction(8), 8, "zeroscope"),
    # Wan 2.1: 480x832, 81 frames at 16 fps; the pipeline checks multiples of 16.
    "wan": Family("wan", "WanPipeline", "WanImageToVideoPipeline", False, "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
                  "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers", 480, 832, 81, Fraction(16), 16, "wan"),
    # LTX-Video 0.9: 512x704 (the pipeline's default), 161 frames at 25 fps; multiples of 32.
    "ltx": Family("ltx", "LTXPipeline", "LTXImageToVideoPipeline", True, "Lightricks/LTX-Video",
                  "Lightricks/LTX-Video", 512, 704, 161, Fraction(25), 32, "ltx"),
    # CogVideoX 1.0: 480x720, 49 frames at 8 fps; VAE 8 x patch 2.
    "cogvideox": Family("cogvideox", "CogVideoXPipeline", "CogVideoXImageToVideoPipeline", False, "THUDM/CogVideoX-2b",
                        "THUDM/CogVideoX-5b-I2V", 480, 720, 49, Fraction(8), 16, "cogvideox"),
}

#: The default generator: the model the diffusion inpainter uses by default too.
DEFAULT_MODEL = FAMILIES["zeroscope"].default_model


def family_of_class(class_name: str, where: str = "model") -> tuple[Family, bool]:
    """(family, is image-to-video) of a pipeline class name.

    Raises:
        OptionError: the class is not a supported video generator.
    """
    for family in FAMILIES.values():
        if class_name == family.text_to_video:
            return family, False
        if class_name == family.image_to_video:
            return family, True
    names = [n for f in FAMILIES.values() for n in (f.text_to_video, f.image_to_video) if n]
    raise OptionError(
        f"{where} is a {class_name}, not a supported video generator; give a diffusers folder or hub id of "
        f"one of {', '.join(names)}"
    )


def valid_frames(frames: int, temporal: int) -> int:
    """The smallest count >= ``frames`` that a VAE compressing time by ``temporal`` takes
    (``k * temporal + 1``; any count when ``temporal`` is 1)."""
    if temporal <= 1:
        return frames
    return -(-(frames - 1) // temporal) * temporal + 1


def valid_size(size: int, multiple: int) -> int:
    """``size`` rounded up to a multiple of ``multiple`` pixels."""
    return -(-size // multiple) * multiple
