"""What every inpainter promises, and the registry that picks one by name.

An inpainter takes a :class:`~s2vg.geometry.FrameMatrix` and returns one with every
unknown pixel filled (``known`` is kept as it came in, so callers still see what was
invented), never changing a known pixel of the source view. New backends register
themselves with :func:`register_inpainter`; choosing one is a name, never an edit.
"""

from __future__ import annotations

from typing import Callable, Protocol, runtime_checkable

from s2vg.errors import OptionError
from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.progress import SILENT, Progress


@runtime_checkable
class Inpainter(Protocol):
    """Fills the unknown pixels of a frame matrix."""

    name: str

    def __call__(self, matrix: FrameMatrix, progress: Progress = SILENT) -> FrameMatrix: ...


InpainterFactory = Callable[..., Inpainter]
_REGISTRY: dict[str, tuple[str, str]] = {}


def register_inpainter(name: str, module: str, factory: str) -> None:
    """Register ``module:factory`` under ``name``; the module is imported on first use."""
    _REGISTRY[name] = (module, factory)


def available_inpainters() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def get_inpainter(name: str, **options: object) -> Inpainter:
    """Build the inpainter registered as ``name`` with keyword ``options``."""
    import importlib

    if name not in _REGISTRY:
        raise OptionError(f"unknown inpainter {name!r}; choose one of {', '.join(available_inpainters())}")
    module, factory = _REGISTRY[name]
    return getattr(importlib.import_module(module), factory)(**options)


# Built-in backends (lazy: registering imports nothing heavy).
register_inpainter("classical", "s2vg.inpaint.classical", "ClassicalInpainter")
register_inpainter("svg", "s2vg.inpaint.diffusion", "build_svg_inpainter")
# Baselines that give quality numbers a floor (s2vg eval).
register_inpainter("black", "s2vg.inpaint.baselines", "BlackInpainter")
register_inpainter("telea", "s2vg.inpaint.baselines", "TeleaInpainter")
register_inpainter("nearest-background", "s2vg.inpaint.baselines", "NearestBackgroundInpainter")
