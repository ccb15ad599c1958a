"""Video diffusion backends for the frame-matrix sampler, chosen by name.

Each backend is one module with a loader returning a
:class:`~s2vg.inpaint.diffusion.protocol.VideoDenoiser`; registering imports nothing
heavy, the module is imported on first use. :func:`backend_for_folder` reads a diffusers
folder's ``model_index.json`` to name the backend that can load it;
:func:`backend_for_model` does the same for a hub id already in the local cache, and
:func:`default_backend` names the first backend whose default model is on disk.

Backends: ``zeroscope`` (text-to-video UNets: Zeroscope, ModelScope), ``wan`` (Wan 2.1 /
2.2 text-to-video), ``ltx`` (LTX-Video), ``cogvideox`` (CogVideoX text-to-video).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any, Callable

from s2vg.errors import OptionError

_REGISTRY: dict[str, tuple[str, str]] = {}
#: diffusers pipeline class names (``model_index.json`` ``_class_name``) per backend.
_PIPELINES: dict[str, tuple[str, ...]] = {}
#: ``module:function`` telling whether a backend's weights are on disk, per backend.
_AVAILABLE: dict[str, tuple[str, str]] = {}
#: Which default model ``--inpainter auto`` looks for first (newest families first).
PREFERENCE = ("wan", "ltx", "cogvideox", "zeroscope")


def register_backend(name: str, module: str, loader: str, pipelines: tuple[str, ...] = (),
                     available: str | None = None) -> None:
    """Register ``module:loader`` as backend ``name``; ``pipelines`` are the diffusers
    pipeline class names of folders it loads; ``available`` names a function of the module
    (``model=None`` -> bool, never using the network)."""
    _REGISTRY[name] = (module, loader)
    _PIPELINES[name] = pipelines
    if available is not None:
        _AVAILABLE[name] = (module, available)


def available_backends() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def get_backend_loader(name: str) -> Callable[..., Any]:
    if name not in _REGISTRY:
        raise OptionError(f"unknown diffusion backend {name!r}; choose one of {', '.join(available_backends())}")
    module, loader = _REGISTRY[name]
    return getattr(importlib.import_module(module), loader)


def load_denoiser(backend: str = "zeroscope", **options: Any) -> Any:
    """Load backend ``name`` with keyword ``options`` (model, vae, device, dtype, ...)."""
    return get_backend_loader(backend)(**options)


def backend_for_folder(folder: str | Path) -> str | None:
    """The backend whose pipelines include the folder's ``model_index.json`` class, or None."""
    index = Path(folder) / "model_index.json"
    if not index.is_file():
        return None
    class_name = json.loads(index.read_text()).get("_class_name")
    for name, pipelines in _PIPELINES.items():
        if class_name in pipelines:
            return name
    return None


def backend_for_model(model: str | Path) -> str | None:
    """:func:`backend_for_folder` of a local folder, or of a hub id's cached snapshot
    (never uses the network); None when neither says."""
    path = Path(str(model)).expanduser()
    if path.is_dir():
        return backend_for_folder(path)
    if str(model).count("/") != 1:
        return None
    try:
        from huggingface_hub import snapshot_download

        snapshot = snapshot_download(str(model), local_files_only=True, allow_patterns=["model_index.json"])
    except Exception:  # not cached (or no huggingface_hub): nothing to read
        return None
    return backend_for_folder(snapshot)


def backend_available(name: str, model: str | Path | None = None) -> bool:
    """Whether backend ``name`` finds ``model`` (default: its default model) on disk."""
    if name not in _AVAILABLE:
        return False
    module, function = _AVAILABLE[name]
    return bool(getattr(importlib.import_module(module), function)(model))


def default_backend() -> str | None:
    """The first backend of :data:`PREFERENCE` whose default model is on disk, or None."""
    for name in PREFERENCE:
        if backend_available(name):
            return name
    return None


register_backend(
    "zeroscope",
    "s2vg.inpaint.diffusion.backends.zeroscope",
    "load_zeroscope",
    pipelines=("TextToVideoSDPipeline", "VideoToVideoSDPipeline"),
    available="zeroscope_available",
)
register_backend(
    "wan",
    "s2vg.inpaint.diffusion.backends.wan",
    "load_wan",
    pipelines=("WanPipeline", "WanVideoToVideoPipeline"),
    available="wan_available",
)
register_backend(
    "ltx",
    "s2vg.inpaint.diffusion.backends.ltx",
    "load_ltx",
    pipelines=("LTXPipeline", "LTXImageToVideoPipeline", "LTXConditionPipeline"),
    available="ltx_available",
)
register_backend(
    "cogvideox",
    "s2vg.inpaint.diffusion.backends.cogvideox",
    "load_cogvideox",
    pipelines=("CogVideoXPipeline", "CogVideoXVideoToVideoPipeline"),
    available="cogvideox_available",
)

__all__ = [
    "PREFERENCE",
    "available_backends",
    "backend_available",
    "backend_for_folder",
    "backend_for_model",
    "default_backend",
    "get_backend_loader",
    "load_denoiser",
    "register_backend",
]
