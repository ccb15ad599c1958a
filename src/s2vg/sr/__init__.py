"""Stereo super-resolution (DESIGN.md section 4): both eyes upscaled by 2 or 4, consistent
in time and across the eyes.

Public API:
    :func:`upscale_stereo` (stereo.py): arrays in, arrays out.
    :class:`StereoUpscaler` (stereo.py): the frame-by-frame form that streams a video.
    :class:`ClassicalUpscaler` (stereo.py), :class:`~s2vg.sr.learned.LearnedUpscaler`
    (learned.py): the frame upscalers (no weights / a diffusers upscaler).
    :func:`upscale` (api.py): a stereo video file in any of the layouts, out at the new size.
    :func:`estimate_disparity` (conditions.py): disparity of a low-resolution pair.

Importing this package imports NumPy, OpenCV and torch, not diffusers.
"""

from s2vg.config import SuperResolutionConfig
from s2vg.sr.conditions import estimate_disparity
from s2vg.sr.stereo import ClassicalUpscaler, StereoUpscaler, disparity_from_depth, upscale_stereo

__all__ = [
    "ClassicalUpscaler",
    "StereoUpscaler",
    "SuperResolutionConfig",
    "disparity_from_depth",
    "estimate_disparity",
    "upscale",
    "upscale_stereo",
]


def __getattr__(name: str):
    if name == "upscale":  # the file-level API imports the I/O layer; load it on first use
        from s2vg.sr.api import upscale

        return upscale
    raise AttributeError(name)
