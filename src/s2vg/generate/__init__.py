"""Text- and image-to-video generation of the source clip (DESIGN.md section 1).

Public API:
    :func:`generate_video` (video.py): prompt (+ image) -> frames, fps, info.
    :class:`VideoGenerator` (video.py): a loaded pipeline; ``denoiser()`` hands its
    modules to the diffusion frame-matrix inpainter.
    :func:`generate` (api.py): prompt -> stereo (or mono) video file, with metadata.
    :data:`FAMILIES` (families.py): Zeroscope/ModelScope, Wan, LTX-Video, CogVideoX.
    :func:`save_random_generator` (random_init.py): tiny random pipelines for tests.

Importing this package imports neither diffusers nor transformers; loading a model does.
"""

from s2vg.config import GenerateConfig
from s2vg.generate.families import FAMILIES, Family, family_of_class
from s2vg.generate.random_init import save_random_generator
from s2vg.generate.video import VideoGenerator, generate_video

__all__ = ["FAMILIES", "Family", "GenerateConfig", "VideoGenerator", "family_of_class", "generate",
           "generate_video", "save_random_generator"]


def __getattr__(name: str):
    if name == "generate":  # the file-level API imports the conversion pipeline; load it on first use
        from s2vg.generate.api import generate

        return generate
    raise AttributeError(name)
