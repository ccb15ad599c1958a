"""Depth stage: estimators (registry by name), shot cuts, temporal stabilisation, robust range.

Estimators output relative inverse depth ``inv_depth`` ``(T, H, W)`` float32, larger =
nearer; only :mod:`s2vg.geometry` converts it to metric-like depth. The registry is
imported eagerly (it is light); everything else loads on first attribute access, so
``import s2vg.depth`` imports neither OpenCV nor transformers.
"""

from __future__ import annotations

import importlib
from typing import Any

from s2vg.depth.registry import (
    DepthEstimator,
    available_depth_estimators,
    get_depth_estimator,
    register_depth_estimator,
    resolve_depth_estimator,
)

_LAZY = {
    "DepthStageResult": "s2vg.depth.stage",
    "run_depth_stage": "s2vg.depth.stage",
    "build_depth_estimator": "s2vg.depth.stage",
    "ShotCutDetector": "s2vg.depth.shots",
    "detect_shot_cuts": "s2vg.depth.shots",
    "stabilize_inv_depth": "s2vg.depth.stabilize",
    "robust_range": "s2vg.depth.statistics",
    "frame_percentiles": "s2vg.depth.statistics",
    "smooth_range": "s2vg.depth.statistics",
    "weaken_range": "s2vg.depth.statistics",
    "temporal_change": "s2vg.depth.statistics",
    "warped_temporal_change": "s2vg.depth.statistics",
    "HeuristicDepthEstimator": "s2vg.depth.heuristic",
    "HeuristicState": "s2vg.depth.heuristic",
    "DepthAnythingEstimator": "s2vg.depth.depth_anything",
}

__all__ = [
    "DepthEstimator",
    "available_depth_estimators",
    "get_depth_estimator",
    "register_depth_estimator",
    "resolve_depth_estimator",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 's2vg.depth' has no attribute {name!r}")
