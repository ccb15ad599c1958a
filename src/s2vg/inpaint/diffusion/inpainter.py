"""The ``svg`` inpainter: the diffusion frame-matrix sampler behind the Inpainter protocol."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from s2vg.config import DiffusionConfig
from s2vg.errors import OptionError
from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.inpaint.diffusion.protocol import VideoDenoiser
from s2vg.inpaint.diffusion.sampler import FrameMatrixSampler, SamplerStats
from s2vg.progress import SILENT, Progress

_CONFIG_FIELDS = {f.name for f in dataclasses.fields(DiffusionConfig)}


class SVGInpainter:
    """Fills a frame matrix with :class:`FrameMatrixSampler` and a loaded denoiser.

    Args:
        denoiser: the video model.
        prompt: text describing the clip; defaults to "".
        config: sampler options; defaults to ``DiffusionConfig()``.

    Attributes:
        last_stats: :class:`SamplerStats` of the latest call (None before the first).
    """

    name = "svg"

    def __init__(self, denoiser: VideoDenoiser, prompt: str = "", config: DiffusionConfig | None = None) -> None:
        self.denoiser = denoiser
        self.prompt = prompt
        self.config = config if config is not None else DiffusionConfig()
        self.last_stats: SamplerStats | None = None

    def __call__(self, matrix: FrameMatrix, progress: Progress = SILENT) -> FrameMatrix:
        """The matrix with every unknown pixel filled; ``known`` is kept as it came in."""
        result = FrameMatrixSampler(self.denoiser, self.config)(matrix, self.prompt, progress)
        self.last_stats = result.stats
        colors = result.frames.to(matrix.colors.device, matrix.colors.dtype)
        # The source view's real pixels are taken from the input itself, so no dtype round
        # trip touches them (it has unknown pixels only when outpainting).
        source = matrix.source_index
        colors[source] = torch.where(matrix.known[source].unsqueeze(-1), matrix.colors[source], colors[source])
        return matrix.replace(colors=colors)


def svg_available(model: str | None = None, require_cuda: bool = True) -> bool:
    """Whether ``--inpainter auto`` should pick the diffusion inpainter: a CUDA device
    (unless ``require_cuda`` is False) and weights on disk: those of ``model`` (a folder or
    a cached hub id, for the backend its ``model_index.json`` names, else Zeroscope's), or
    without a model the default model of any backend. Never touches the network."""
    import torch

    if require_cuda and not torch.cuda.is_available():
        return False
    from s2vg.inpaint.diffusion.backends import backend_available, backend_for_model, default_backend

    if model is None:
        return default_backend() is not None
    return backend_available(backend_for_model(model) or "zeroscope", model)


def build_svg_inpainter(prompt: str = "", model: str | None = None, backend: str | None = None,
                        vae: str | None = None, device: str | None = None, dtype: str | None = None,
                        config: DiffusionConfig | None = None, denoiser: VideoDenoiser | None = None,
                        backend_options: dict[str, Any] | None = None, **options: Any) -> SVGInpainter:
    """The ``svg`` inpainter of the registry.

    Args:
        prompt: text describing the clip.
        model: hub id or local folder of the video model; defaults to the backend's default
            (``cerspense/zeroscope_v2_576w`` for ``zeroscope``, ``Wan-AI/Wan2.1-T2V-1.3B-Diffusers``
            for ``wan``, ...).
        backend: backend name (``zeroscope``, ``wan``, ``ltx``, ``cogvideox``); defaults to the
            one the model's ``model_index.json`` names (a folder or a cached hub id); without a
            model, the first backend whose default model is on disk (Wan, LTX-Video,
            CogVideoX, Zeroscope), else ``"zeroscope"``.
        vae: optional separate VAE folder.
        device, dtype: where and in which precision the model runs (defaults: CUDA with
            float16 when present, else CPU float32).
        config: sampler options; keyword ``options`` named like ``DiffusionConfig`` fields
            (``steps``, ``resample``, ``guidance_scale``, ``seed``, ...) override it.
        denoiser: an already loaded denoiser (then model, backend, vae, device and dtype
            are not used).
        backend_options: extra keywords for the backend loader (``max_frames``,
            ``attention_slicing`` for Zeroscope; ``cpu_offload``, ``vae_tiling``,
            ``vae_slicing``, ``attention_backend`` for Wan, LTX-Video and CogVideoX; ...).

    Raises:
        OptionError: an option is not a sampler option.
        MissingWeightsError: the model's weights are not available.
    """
    unknown = sorted(set(options) - _CONFIG_FIELDS)
    if unknown:
        raise OptionError(f"unknown svg inpainter option(s) {', '.join(unknown)}; sampler options are "
                          f"{', '.join(sorted(_CONFIG_FIELDS))}")
    config = dataclasses.replace(config or DiffusionConfig(), **options)
    if denoiser is None:
        from s2vg.inpaint.diffusion.backends import backend_for_model, default_backend, load_denoiser

        name = backend or (backend_for_model(model) if model else default_backend()) or "zeroscope"
        denoiser = load_denoiser(name, model=model, vae=vae, device=device, dtype=dtype, **(backend_options or {}))
    return SVGInpainter(denoiser, prompt=prompt, config=config)
