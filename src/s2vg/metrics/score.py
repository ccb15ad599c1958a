"""Score a filled frame matrix against an evaluation case's truth, and run inpainters over cases."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.metrics.cases import EvalCase
from s2vg.metrics.metrics import as_numpy, estimate_backward_flow, flicker, flicker_against_truth, lr_consistency, psnr, ssim_map


def score_filled(case: EvalCase, filled: FrameMatrix | np.ndarray) -> dict[str, float]:
    """Scores of a fill on the case's scored views.

    Args:
        case: the case the fill was made from.
        filled: the inpainter's output matrix, or its colours ``(V, T, H, W, 3)``.

    Returns:
        ``psnr_all``/``ssim_all`` over every pixel of the scored views, ``psnr_holes``/
        ``ssim_holes`` over the holes only (dB / [-1, 1]), ``flicker_holes`` and
        ``flicker_truth`` (motion-compensated change of the hole pixels in [0, 1] units,
        of the fill and of the truth over the same pixels and motion), ``flicker_excess``
        (their difference), ``flicker_persist`` (the fill's flicker over the hole pixels
        whose place in the previous frame was a hole too: the stability of invented
        pixels, without the change at pixels that were known a frame earlier), and
        ``hole_fraction``. Flicker is NaN for single frames.
        ``psnr_disoccluded``/``psnr_offframe`` split ``psnr_holes`` by :func:`offframe_mask`
        (NaN where a part is empty), ``offframe_fraction`` is the off-frame share of all pixels.
    """
    colors = as_numpy(filled.colors if isinstance(filled, FrameMatrix) else filled)
    views = list(case.scored_views)
    result, truth = colors[views], case.truth[views]
    holes = case.holes
    smap = ssim_map(result, truth)
    scores: dict[str, float] = {
        "psnr_all": psnr(result, truth),
        "psnr_holes": psnr(result, truth, holes),
        "ssim_all": float(smap.mean()),
        "ssim_holes": float(smap[holes].mean()) if holes.any() else math.nan,
        "hole_fraction": float(holes.mean()),
    }
    off = offframe_mask(holes)
    scores["psnr_disoccluded"] = psnr(result, truth, holes & ~off)
    scores["psnr_offframe"] = psnr(result, truth, off)
    scores["offframe_fraction"] = float(off.mean())
    flick = {"result": math.nan, "truth": math.nan, "excess": math.nan}
    persist = math.nan
    if case.flow is not None and result.shape[1] > 1:
        per_view, per_view_persist = [], []
        for i in range(len(views)):
            valid = None if case.flow_valid is None else case.flow_valid[i]
            per_view.append(flicker_against_truth(result[i], truth[i], holes[i], case.flow[i], valid))
            # The fill's own stability: hole pixels whose place in the previous frame was a hole too.
            region = holes[i] & persisting_holes(holes[i], case.flow[i])
            per_view_persist.append(flicker(result[i], region, case.flow[i], valid) if region[1:].any() else math.nan)
        flick = {k: _nan_mean([p[k] for p in per_view]) for k in flick}
        persist = _nan_mean(per_view_persist)
    scores["flicker_persist"] = persist
    scores["flicker_holes"] = flick["result"]
    scores["flicker_truth"] = flick["truth"]
    scores["flicker_excess"] = flick["excess"]
    return scores


def _nan_mean(values: list[float]) -> float:
    """Mean of the values that are not NaN; NaN when all are."""
    return float(np.nanmean(values)) if any(not math.isnan(v) for v in values) else math.nan


def persisting_holes(holes: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``(T, H, W)`` bool: pixels whose place in the previous frame (by the ``(T, H, W, 2)``
    backward flow, nearest pixel) is a hole of ``holes`` (``(T, H, W)``); False in frame 0
    and where the flow leaves the frame."""
    n_t, height, width = holes.shape
    out = np.zeros(holes.shape, bool)
    ys, xs = np.mgrid[0:height, 0:width]
    for t in range(1, n_t):
        px = np.rint(xs + flow[t, ..., 0]).astype(np.int64)
        py = np.rint(ys + flow[t, ..., 1]).astype(np.int64)
        inside = (px >= 0) & (px < width) & (py >= 0) & (py < height)
        out[t] = inside & holes[t - 1][np.clip(py, 0, height - 1), np.clip(px, 0, width - 1)]
    return out


def offframe_mask(holes: np.ndarray) -> np.ndarray:
    """The holes that lie beyond the source's border: hole runs that reach the left or
    right end of their row (a parallel rig's new view shows content the source never framed
    there; no foreground edge beside it). The rest are disocclusions.

    Args:
        holes: ``(..., H, W)`` bool.

    Returns:
        ``(..., H, W)`` bool, a subset of ``holes``.
    """
    holes = np.asarray(holes, dtype=bool)
    # A pixel is in a run from the left border when every pixel before it is a hole.
    from_left = np.logical_and.accumulate(holes, axis=-1)
    from_right = np.logical_and.accumulate(holes[..., ::-1], axis=-1)[..., ::-1]
    return from_left | from_right


def no_reference_scores(case: EvalCase, filled: FrameMatrix | np.ndarray) -> dict[str, float]:
    """Measures that need no truth, for clips without any (and to check them against the truth).

    Returns:
        ``flicker_self``: flicker of the hole pixels of each scored view, motion-compensated
        with optical flow estimated on that output itself (forward-backward checked);
        ``lr_mae``: left-right consistency (mean absolute difference, nearest sampling) of
        the source view and each scored view through the source's depth.
    """
    colors = as_numpy(filled.colors if isinstance(filled, FrameMatrix) else filled)
    rig = case.matrix.rig
    src = rig.source_index
    holes = case.holes
    source_depth = case.matrix.depth[src].double().cpu().numpy()
    flick, lr = [], []
    for i, view in enumerate(case.scored_views):
        if colors.shape[1] > 1:
            flow, valid = estimate_backward_flow(colors[view])
            flick.append(flicker(colors[view], holes[i], flow, valid))
        shift = float(rig.positions[view, 0] - rig.positions[src, 0])
        # The view to the right of the source plays the right eye; disparity is f * |b| / z.
        left, right = (colors[src], colors[view]) if shift > 0 else (colors[view], colors[src])
        if shift > 0:
            lr.append(lr_consistency(left, right, rig.focal * shift / source_depth, interpolation="nearest")["mae"])
    finite = [f for f in flick if not math.isnan(f)]
    return {
        "flicker_self": float(np.mean(finite)) if finite else math.nan,
        "lr_mae": float(np.mean(lr)) if lr else math.nan,
    }


@dataclass(frozen=True)
class MethodResult:
    """One inpainter on one case: its scores and fill time, or why it was skipped."""

    case: str
    method: str
    scores: dict[str, float]
    seconds: float
    skipped: str | None = None
    filled: FrameMatrix | None = None


def run_methods(case: EvalCase, inpainters: Iterable[tuple[str, Any]], *, keep_fill: bool = False) -> list[MethodResult]:
    """Fill ``case.matrix`` with each ``(name, inpainter)`` and score it.

    Args:
        keep_fill: keep each filled matrix in the result (for figures); defaults to False.
    """
    results = []
    for name, inpainter in inpainters:
        start = time.perf_counter()
        filled = inpainter(case.matrix)
        seconds = time.perf_counter() - start
        results.append(MethodResult(case.name, name, score_filled(case, filled), seconds, None, filled if keep_fill else None))
    return results
