"""Robust, shot-aware statistics of inverse depth: the range used for normalisation, and flicker.

Per-frame min/max normalisation makes a whole scene "pump" when a bright particle or a
near object enters. :func:`robust_range` instead takes low/high percentiles per frame and
smooths them over time inside each shot, so a few pixels cannot move the range and the
range never bleeds across a cut. The per-frame percentiles are two numbers per frame:
a chunked run can collect them for the whole video first (:func:`frame_percentiles`) and
smooth them once (:func:`smooth_range`), which makes the range continuous across chunks.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from s2vg.depth._checks import check_cuts, check_frames, check_inv_depth, shot_spans
from s2vg.config import DepthStageConfig
from s2vg.errors import OptionError

_DEFAULTS = DepthStageConfig()

# Pixels sampled per frame for the percentiles: a 320x576 frame is read on a 4x4 lattice,
# which moves a 2 % percentile by far less than the flicker it is meant to ignore.
_MAX_SAMPLES = 16384


def frame_percentiles(inv_depth: np.ndarray, low_pct: float = _DEFAULTS.low_pct, high_pct: float = _DEFAULTS.high_pct) -> tuple[np.ndarray, np.ndarray]:
    """Low and high percentiles of every frame.

    Args:
        inv_depth: ``(T, H, W)`` float32 relative inverse depth (larger = nearer).
        low_pct, high_pct: percentiles in [0, 100], ``low_pct < high_pct``.

    Returns:
        ``(lo, hi)``, each ``(T,)`` float64, in the units of ``inv_depth``.
    """
    inv_depth = check_inv_depth(inv_depth)
    if not 0.0 <= low_pct < high_pct <= 100.0:
        raise OptionError(f"depth percentiles must satisfy 0 <= low < high <= 100; got low={low_pct}, high={high_pct}")
    t, h, w = inv_depth.shape
    step = max(1, int(np.ceil(np.sqrt(h * w / _MAX_SAMPLES))))
    samples = inv_depth[:, ::step, ::step].reshape(t, -1)
    lo, hi = np.percentile(samples, [low_pct, high_pct], axis=1)
    return lo.astype(np.float64), hi.astype(np.float64)


def smooth_range(lo: np.ndarray, hi: np.ndarray, cuts: Sequence[int] = (), smoothing: float | None = _DEFAULTS.range_smoothing) -> tuple[np.ndarray, np.ndarray]:
    """Smooth per-frame range values over time, separately inside each shot.

    Args:
        lo, hi: ``(T,)`` per-frame low and high values (e.g. from :func:`frame_percentiles`).
        cuts: frame indices that start a new shot (from :func:`~s2vg.depth.detect_shot_cuts`).
        smoothing: standard deviation in frames of the Gaussian applied along time inside
            each shot (edges repeat the shot's first/last value); 0 keeps per-frame values;
            None gives one constant range per shot (the median over the shot's frames).

    Returns:
        ``(lo, hi)``, each ``(T,)`` float64, with ``hi > lo`` everywhere.
    """
    lo = np.asarray(lo, dtype=np.float64).copy()
    hi = np.asarray(hi, dtype=np.float64).copy()
    if lo.shape != hi.shape or lo.ndim != 1:
        raise OptionError(f"lo and hi must both have shape (T,); got {lo.shape} and {hi.shape}")
    if smoothing is not None and (not np.isfinite(smoothing) or smoothing < 0):
        raise OptionError(f"range smoothing must be None or a number of frames >= 0; got {smoothing!r}")
    for start, stop in shot_spans(check_cuts(cuts, len(lo)), len(lo)):
        for values in (lo, hi):
            if smoothing is None:
                values[start:stop] = np.median(values[start:stop])
            elif smoothing > 0:
                values[start:stop] = _gaussian_along_time(values[start:stop], smoothing)
    # A flat frame would give hi == lo; keep the span positive so callers can divide by it.
    span_floor = 1e-6 * np.maximum(1.0, np.abs(lo))
    return lo, np.maximum(hi, lo + span_floor)


def robust_range(
    inv_depth: np.ndarray,
    cuts: Sequence[int] = (),
    low_pct: float = _DEFAULTS.low_pct,
    high_pct: float = _DEFAULTS.high_pct,
    smoothing: float | None = _DEFAULTS.range_smoothing,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame normalisation range of inverse depth, robust to outliers and smooth within shots.

    The defaults are those of :class:`s2vg.config.DepthStageConfig`.

    Args:
        inv_depth: ``(T, H, W)`` float32 relative inverse depth (larger = nearer).
        cuts: frame indices that start a new shot; smoothing restarts at each.
        low_pct, high_pct: percentiles taken per frame.
        smoothing: Gaussian standard deviation in frames along time inside each shot;
            0 = per-frame values, None = one constant range per shot.

    Returns:
        ``(lo, hi)``, each ``(T,)`` float64 in the units of ``inv_depth``; ``hi > lo``.
        Normalised inverse depth is ``clip((inv_depth[t] - lo[t]) / (hi[t] - lo[t]), 0, 1)``.
    """
    lo, hi = frame_percentiles(inv_depth, low_pct, high_pct)
    return smooth_range(lo, hi, cuts, smoothing)


def weaken_range(lo: np.ndarray, hi: np.ndarray, strength: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Widen the normalisation range so that a frame of effect ``strength`` s uses only ``[0, s]`` of it.

    Normalised inverse depth ``(d - lo) / (hi - lo)`` then tops out at ``s`` instead of 1: the
    nearest content comes less near and the disparity range shrinks by ``s``, toward the far
    plane. This is how an estimator unsure of its near/far order asks for a weak effect.

    Args:
        lo, hi: ``(T,)`` range per frame.
        strength: ``(T,)`` values in (0, 1], or None (no change).

    Returns:
        ``(lo, hi')`` float64.
    """
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    if strength is None:
        return lo, hi
    strength = np.asarray(strength, np.float64)
    if strength.shape != lo.shape:
        raise OptionError(f"effect strength must have one value per frame {lo.shape}; got shape {strength.shape}")
    return lo, lo + (hi - lo) / np.clip(strength, 1e-3, 1.0)


def temporal_change(inv_depth: np.ndarray, cuts: Sequence[int] = ()) -> float:
    """Mean absolute frame-to-frame change of inverse depth, in units of its robust range.

    Pairs that straddle a cut are skipped. On a static scene this is pure flicker; on a
    moving one use :func:`warped_temporal_change`.

    Args:
        inv_depth: ``(T, H, W)`` float32, T >= 2.

    Returns:
        The mean of ``|d[t+1] - d[t]| / (p98 - p2)`` over pixels and same-shot pairs (0 if none).
    """
    inv_depth = check_inv_depth(inv_depth)
    cut_set = set(check_cuts(cuts, len(inv_depth)))
    scale = _clip_span(inv_depth)
    diffs = [np.abs(inv_depth[t + 1] - inv_depth[t]).mean() for t in range(len(inv_depth) - 1) if t + 1 not in cut_set]
    return float(np.mean(diffs) / scale) if diffs else 0.0


def warped_temporal_change(inv_depth: np.ndarray, frames: np.ndarray, cuts: Sequence[int] = (), colour_tolerance: float = 0.05) -> float:
    """Motion-compensated flicker: frame-to-frame change of inverse depth along optical flow.

    For each same-shot pair, DIS flow from frame ``t`` to ``t + 1`` warps ``inv_depth[t + 1]``
    onto frame ``t``; only pixels whose warped colour matches within ``colour_tolerance``
    (mean absolute RGB difference, frames in [0, 1]) count, which drops occlusions and
    flow failures. Compare estimators on the same frames: the flow is the same for both.

    Args:
        inv_depth: ``(T, H, W)`` float32.
        frames: ``(T, H, W, 3)`` float32 RGB in [0, 1].

    Returns:
        Mean absolute change in units of the clip's robust range (p98 - p2); 0 if no pair.
    """
    from s2vg.depth._flow import DenseFlow, pixel_grid, to_gray_u8, warp_to

    frames = check_frames(frames)
    inv_depth = check_inv_depth(inv_depth, frames.shape)
    cut_set = set(check_cuts(cuts, len(inv_depth)))
    scale = _clip_span(inv_depth)
    gray = to_gray_u8(frames)
    flow_of = DenseFlow()
    grid = pixel_grid(*inv_depth.shape[1:])
    total, count = 0.0, 0
    for t in range(len(inv_depth) - 1):
        if t + 1 in cut_set:
            continue
        flow = flow_of(gray[t], gray[t + 1])
        depth_w, inside = warp_to(inv_depth[t + 1], flow, grid)
        colour_w, _ = warp_to(frames[t + 1], flow, grid)
        good = inside & (np.abs(colour_w - frames[t]).mean(axis=-1) < colour_tolerance)
        total += float(np.abs(depth_w - inv_depth[t])[good].sum())
        count += int(good.sum())
    return total / count / scale if count else 0.0


def _gaussian_along_time(values: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing of a ``(N,)`` series, edges repeated, kernel radius 4 sigma (as SciPy's ``gaussian_filter1d``)."""
    radius = int(4.0 * sigma + 0.5)
    column = np.ascontiguousarray(values, dtype=np.float64).reshape(-1, 1)
    return cv2.GaussianBlur(column, (1, 2 * radius + 1), sigmaX=0, sigmaY=sigma, borderType=cv2.BORDER_REPLICATE).ravel()


def _clip_span(inv_depth: np.ndarray) -> float:
    lo, hi = np.percentile(inv_depth[:, ::4, ::4], [2.0, 98.0])
    return float(max(hi - lo, 1e-12))
