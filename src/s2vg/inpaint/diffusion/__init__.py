"""The diffusion frame-matrix inpainter (DESIGN.md section 3b).

Public API:
    :class:`VideoDenoiser` (protocol.py): what a video model must offer.
    :class:`FrameMatrixSampler` (sampler.py): the method; returns :class:`SamplerResult`.
        For a VAE that compresses time it is a :class:`PixelExchangeSampler` (exchange.py).
    :func:`latent_masks` (masks.py): latent known-masks.
    :func:`adapter_for`, :func:`make_scheduler` (schedulers.py): the scheduler algebra.
    :func:`load_denoiser` (backends/): model loaders by name (``"zeroscope"``, ``"wan"``,
        ``"ltx"``, ``"cogvideox"``); :func:`backend_for_folder` / :func:`backend_for_model`
        read ``model_index.json``.
    :func:`build_svg_inpainter`: the ``svg`` entry of the inpainter registry.
    :func:`svg_available`: whether ``--inpainter auto`` can use it (CUDA + weights on disk).

Importing this package imports torch and OpenCV, not diffusers or transformers; those
load with a backend or a scheduler.
"""

from s2vg.config import DiffusionConfig
from s2vg.inpaint.diffusion.backends import available_backends, backend_for_folder, backend_for_model, load_denoiser
from s2vg.inpaint.diffusion.exchange import PixelExchangeSampler
from s2vg.inpaint.diffusion.inpainter import SVGInpainter, build_svg_inpainter, svg_available
from s2vg.inpaint.diffusion.masks import LatentMasks, latent_masks
from s2vg.inpaint.diffusion.protocol import Conditioning, VideoDenoiser
from s2vg.inpaint.diffusion.sampler import FrameMatrixSampler, SamplerResult, SamplerStats
from s2vg.inpaint.diffusion.schedulers import SchedulerAdapter, StepOutput, adapter_for, make_scheduler
from s2vg.inpaint.diffusion.windows import frame_windows, window_weights

__all__ = [
    "Conditioning",
    "DiffusionConfig",
    "FrameMatrixSampler",
    "LatentMasks",
    "PixelExchangeSampler",
    "SVGInpainter",
    "SamplerResult",
    "SamplerStats",
    "SchedulerAdapter",
    "StepOutput",
    "VideoDenoiser",
    "adapter_for",
    "available_backends",
    "backend_for_folder",
    "backend_for_model",
    "build_svg_inpainter",
    "frame_windows",
    "latent_masks",
    "load_denoiser",
    "make_scheduler",
    "svg_available",
    "window_weights",
]
