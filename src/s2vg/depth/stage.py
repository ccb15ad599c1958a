"""The depth stage as one call: estimate, detect shot cuts, stabilise, and take the robust range.

This is what ``s2vg convert`` runs between decoding and the frame matrix; each step is
also a public function of :mod:`s2vg.depth` for callers who need only part of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from s2vg.config import DepthStageConfig
from s2vg.depth._checks import check_frames, check_inv_depth
from s2vg.depth.registry import DepthEstimator, resolve_depth_estimator
from s2vg.depth.shots import ShotCutDetector, detect_shot_cuts
from s2vg.depth.stabilize import stabilize_inv_depth
from s2vg.depth.statistics import frame_percentiles, smooth_range, weaken_range
from s2vg.progress import SILENT, Progress


@dataclass(frozen=True)
class DepthStageResult:
    """What the depth stage hands to geometry.

    Attributes:
        inv_depth: ``(T, H, W)`` float32 relative inverse depth, larger = nearer.
        cuts: frame indices that start a new shot (frame 0 not included).
        lo, hi: ``(T,)`` float64 robust range per frame (see :func:`~s2vg.depth.robust_range`);
            normalised inverse depth is ``clip((inv_depth[t] - lo[t]) / (hi[t] - lo[t]), 0, 1)``.
            An estimator with a ``frame_strength`` below 1 (unsure of its near/far order)
            widens ``hi`` so that frame tops out at that strength (:func:`~s2vg.depth.weaken_range`).
        estimator: name of the estimator that produced the depth.
        stabilized: whether temporal stabilisation ran.
    """

    inv_depth: np.ndarray
    cuts: list[int]
    lo: np.ndarray
    hi: np.ndarray
    estimator: str
    stabilized: bool


def build_depth_estimator(config: DepthStageConfig = DepthStageConfig()) -> DepthEstimator:
    """The estimator ``config`` asks for (``auto`` resolved); build it before decoding so missing weights fail early."""
    options = {k: v for k, v in (("device", config.device), ("batch_size", config.batch_size)) if v is not None}
    return resolve_depth_estimator(config.estimator, model_path=config.model_path, **options)


def run_depth_stage(
    frames: np.ndarray,
    config: DepthStageConfig = DepthStageConfig(),
    estimator: DepthEstimator | None = None,
    inv_depth: np.ndarray | None = None,
    progress: Progress = SILENT,
) -> DepthStageResult:
    """Inverse depth of a clip, stabilised over time, with shot cuts and its robust range.

    Args:
        frames: ``(T, H, W, 3)`` float32 RGB in [0, 1].
        config: the stage's options.
        estimator: an estimator built beforehand (e.g. by :func:`build_depth_estimator`);
            defaults to building the one ``config`` names.
        inv_depth: ``(T, H, W)`` relative inverse depth given by the user (a depth file);
            when given, no estimator runs and stabilisation is still applied if enabled.
        progress: progress sink (stages ``"depth"``, ``"stabilize depth"``).

    Returns:
        A :class:`DepthStageResult`.
    """
    frames = check_frames(frames)
    if inv_depth is not None:
        inv_depth = check_inv_depth(inv_depth, frames.shape)
        name, consistent = "file", False
    else:
        estimator = estimator if estimator is not None else build_depth_estimator(config)
        inv_depth = check_inv_depth(estimator(frames, progress=progress), frames.shape)
        name, consistent = estimator.name, estimator.temporally_consistent
    cuts = detect_shot_cuts(frames, ShotCutDetector(min_distance=config.cut_min_distance)) if config.detect_cuts else []
    stabilized = config.stabilize and not consistent and len(frames) > 1
    if stabilized:
        inv_depth = stabilize_inv_depth(
            inv_depth,
            frames,
            cuts,
            window=config.window,
            decay=config.decay,
            colour_tolerance=config.colour_tolerance,
            depth_tolerance=config.depth_tolerance,
            guided_radius=config.guided_radius,
            guided_eps=config.guided_eps,
            flow_scale=config.flow_scale,
            progress=progress,
        )
    # robust_range, with the estimator's effect strength applied before the smoothing (as the chunked depth pass does).
    lo, hi = frame_percentiles(inv_depth, config.low_pct, config.high_pct)
    strength = getattr(estimator, "frame_strength", None) if name != "file" else None
    if strength is not None and strength.shape == lo.shape:
        lo, hi = weaken_range(lo, hi, strength)
    lo, hi = smooth_range(lo, hi, cuts, config.range_smoothing)
    return DepthStageResult(inv_depth=inv_depth, cuts=cuts, lo=lo, hi=hi, estimator=name, stabilized=stabilized)
