"""Video diffusion backends for the frame-matrix sampler, chosen by name.

Each backend is one module with a loader returning a
:class:`~s2vg.inpaint.diffusion.protocol.VideoDenoiser`; registering imports nothing
heavy, the module is imported on first use. :func:`backend_for_folder` reads a diffusers
folder's ``model_index.json`` to name the backend that can load it.
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


def register_backend(name: str, module: str, loader: str, pipelines: tuple[str, ...] = ()) -> None:
    """Register ``module:loader`` as backend ``name``; ``pipelines`` are the diffusers
    pipeline class names of folders it loads."""
    _REGISTRY[name] = (module, loader)
    _PIPELINES[name] = pipelines


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


register_backend(
    "zeroscope",
    "s2vg.inpaint.diffusion.backends.zeroscope",
    "load_zeroscope",
    pipelines=("TextToVideoSDPipeline", "VideoToVideoSDPipeline"),
)

__all__ = ["available_backends", "backend_for_folder", "get_backend_loader", "load_denoiser", "register_backend"]
