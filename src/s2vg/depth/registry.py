"""What every depth estimator promises, the registry that picks one by name, and ``auto``.

A depth estimator maps frames ``(T, H, W, 3)`` float32 RGB in [0, 1] to relative inverse
depth ``inv_depth`` ``(T, H, W)`` float32 (larger = nearer, arbitrary scale and offset).
Only :mod:`s2vg.geometry`'s normalisation turns it into metric-like depth. Backends are
registered as ``module:factory`` and imported on first use, so ``import s2vg`` never
imports transformers.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Callable, Protocol, runtime_checkable

import numpy as np

from s2vg.errors import OptionError
from s2vg.progress import SILENT, Progress



@runtime_checkable
class DepthEstimator(Protocol):
    """Estimates relative inverse depth for a clip.

    Attributes:
        name: the registry name (or model id) of the estimator, for reports.
        temporally_consistent: True when the output is already stable over time, so
            :func:`~s2vg.depth.stabilize_inv_depth` can be skipped.
    """

    name: str
    temporally_consistent: bool

    def __call__(self, frames: np.ndarray, progress: Progress = SILENT) -> np.ndarray:
        """Frames ``(T, H, W, 3)`` float32 in [0, 1] -> ``inv_depth`` ``(T, H, W)`` float32, larger = nearer."""
        ...


DepthEstimatorFactory = Callable[..., DepthEstimator]
_REGISTRY: dict[str, tuple[str, str, dict[str, object]]] = {}

#: The weight-free estimator that ``auto`` falls back to.
FALLBACK_ESTIMATOR = "heuristic"
#: Learned estimators ``auto`` tries, best first, when their weights are available offline.
AUTO_PREFERENCE: tuple[str, ...] = ("depth-anything-v2-small", "depth-anything-v2-base", "depth-anything-v2-large")
#: Options that only learned estimators take; dropped when the weight-free one is chosen.
LEARNED_ONLY_OPTIONS = frozenset({"device", "dtype", "batch_size", "cache_dir"})


def register_depth_estimator(name: str, module: str, factory: str, **defaults: object) -> None:
    """Register ``module:factory`` under ``name``; the module is imported on first use.

    ``defaults`` are keyword options bound to this name (e.g. the model variant).
    """
    _REGISTRY[name] = (module, factory, dict(defaults))


def available_depth_estimators() -> tuple[str, ...]:
    """Registered names, sorted (``auto`` is not a backend and is not listed)."""
    return tuple(sorted(_REGISTRY))


def get_depth_estimator(name: str, **options: object) -> DepthEstimator:
    """Build the depth estimator registered as ``name`` with keyword ``options``.

    Raises:
        OptionError: unknown name.
        MissingWeightsError: a learned estimator whose weights are not available.
    """
    if name not in _REGISTRY:
        raise OptionError(f"unknown depth estimator {name!r}; choose one of auto, {', '.join(available_depth_estimators())}")
    module, factory, defaults = _REGISTRY[name]
    return getattr(importlib.import_module(module), factory)(**{**defaults, **options})


def resolve_depth_estimator(name: str = "auto", model_path: str | None = None, **options: object) -> DepthEstimator:
    """Build the estimator a user asked for, choosing one for ``"auto"``.

    ``auto`` with ``model_path`` loads the model in that local folder, whatever its family. ``auto``
    without it takes the first of :data:`AUTO_PREFERENCE` whose weights are in the
    Hugging Face cache (no network is touched to find out); when none is, it falls back to
    the weight-free ``heuristic`` estimator and warns (``warnings.warn``), naming the better option and how to get it.

    Args:
        name: ``"auto"`` or a registered name (see :func:`available_depth_estimators`).
        model_path: local folder (or hub id) of a transformers depth model (CLI ``--depth-model``).
        options: passed to the estimator's factory; those in :data:`LEARNED_ONLY_OPTIONS`
            (device, dtype, batch size, cache folder) are dropped for the weight-free estimator.

    Raises:
        OptionError: unknown name, or ``model_path`` with the weight-free estimator.
        MissingWeightsError: a named learned estimator whose weights are not available.
    """
    if name == "auto":
        if model_path is not None:
            return get_depth_estimator(AUTO_PREFERENCE[0], model_path=model_path, **options)
        from s2vg.depth.depth_anything import models_installed, weights_cached

        for candidate in AUTO_PREFERENCE:
            if weights_cached(candidate, options.get("cache_dir")):  # type: ignore[arg-type]
                return get_depth_estimator(candidate, **options)
        how = (
            f"run once online with --depth {AUTO_PREFERENCE[0]} (downloads about 100 MB), or pass --depth-model LOCAL_FOLDER"
            if models_installed()
            else f'pip install "s2vg[models]", then run once online with --depth {AUTO_PREFERENCE[0]} (downloads about 100 MB)'
        )
        message = (
            f"no depth model weights are cached, so depth comes from the weight-free {FALLBACK_ESTIMATOR!r} estimator "
            f"(rough depth from motion and image position); for much better depth {how}"
        )
        warnings.warn(message, stacklevel=2)
        name = FALLBACK_ESTIMATOR
    if name == FALLBACK_ESTIMATOR:
        if model_path is not None:
            raise OptionError(f"--depth-model is for learned depth models, not the {FALLBACK_ESTIMATOR!r} estimator; drop one of the two")
        return get_depth_estimator(name, **{k: v for k, v in options.items() if k not in LEARNED_ONLY_OPTIONS})
    if model_path is not None:
        options["model_path"] = model_path
    return get_depth_estimator(name, **options)


# Built-in backends (lazy: registering imports nothing heavy). Every learned family loads
# through the one transformers estimator; the name only picks the hub id
# (s2vg.depth.depth_anything.MODEL_IDS, which must list the same names).
LEARNED_ESTIMATORS: tuple[str, ...] = (
    "depth-anything-v2-small", "depth-anything-v2-base", "depth-anything-v2-large",
    "dpt-large", "dpt-hybrid", "zoedepth-nyu-kitti", "zoedepth-nyu", "zoedepth-kitti",
)
for _name in LEARNED_ESTIMATORS:
    register_depth_estimator(_name, "s2vg.depth.depth_anything", "TransformersDepthEstimator", model=_name)
register_depth_estimator("heuristic", "s2vg.depth.heuristic", "HeuristicDepthEstimator")
