"""Stereo video super-resolution: both eyes upscaled so that they stay consistent.

Per frame ``t`` (DESIGN.md section 4, "Stereo super-resolution"):

1. **Left**: an upscale of its own low-resolution frame (the interpolating upscaler, or a
   learned one), with the *temporal condition* (the previous upscaled left frame,
   motion-compensated) taking over where it is reliable.
2. **Right**: the same with its own temporal condition, then the *cross-view condition*
   (the upscaled left frame warped into the right view with the disparity) taking over in
   the pixels both eyes see.
3. Iterative back-projection pulls every pixel that no cross-view condition holds back to
   its own low-resolution frame, so a condition adds detail but never drifts in colour.

The classical upscaler blends the conditions by their reliability weights
(:mod:`s2vg.sr.conditions`); a learned upscaler (:mod:`s2vg.sr.learned`) receives the
blended conditions and their weights as the known region of its denoising, as the
frame-matrix sampler does. Disparity comes from the caller (left-view, low-resolution
pixels, or depth with focal and baseline), else it is estimated per frame from the pair.

:class:`StereoUpscaler` holds the previous frames, so a long video streams through it in
chunks; :func:`upscale_stereo` is the one-call form for arrays.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Protocol

import numpy as np

from s2vg.config import SuperResolutionConfig
from s2vg.errors import InputError, OptionError
from s2vg.progress import SILENT, Progress
from s2vg.sr.conditions import Condition, FlowEstimator, cross_view_condition, estimate_disparity, temporal_condition
from s2vg.sr.resample import back_project, interpolate, sharpen


class FrameUpscaler(Protocol):
    """Upscales one low-resolution frame given conditions (the classical or a learned backend)."""

    def __call__(self, low: np.ndarray, conditions: list[Condition], scale: int) -> np.ndarray:
        """``(H, W, 3)`` and high-resolution conditions (in order of priority, last wins)
        -> ``(sH, sW, 3)`` float32 in [0, 1]."""
        ...


class ClassicalUpscaler:
    """Interpolation (Lanczos-4 or bicubic) with a mild unsharp mask, conditions blended
    by their weights in order (a later condition overrides an earlier one where it is
    reliable)."""

    def __init__(self, config: SuperResolutionConfig) -> None:
        self.config = config

    def base(self, low: np.ndarray, scale: int) -> np.ndarray:
        """The unconditioned upscale of ``(H, W, 3)``."""
        return sharpen(interpolate(low, scale, self.config.interpolation), self.config.sharpen, scale)

    def __call__(self, low: np.ndarray, conditions: list[Condition], scale: int) -> np.ndarray:
        estimate = self.base(low, scale)
        for condition in conditions:
            weight = condition.weight[..., None]
            estimate = estimate * (1.0 - weight) + condition.frame * weight  # exact where weight is 1
        return estimate.astype(np.float32)


def _check_pair(left: np.ndarray, right: np.ndarray) -> None:
    if left.shape != right.shape or left.ndim != 4 or left.shape[-1] != 3:
        raise InputError(f"left and right eyes must both be (T, H, W, 3) with the same shape; got {left.shape} and {right.shape}")


def disparity_from_depth(depth_m: np.ndarray, focal: float, baseline: float) -> np.ndarray:
    """Left-view disparity in pixels, ``focal * baseline / depth``, of depth in metres."""
    depth_m = np.asarray(depth_m, np.float32)
    if not np.isfinite(depth_m).all() or (depth_m <= 0).any():
        raise InputError("depth for the cross-view condition must be finite and positive (metres)")
    return (focal * baseline / depth_m).astype(np.float32)


class StereoUpscaler:
    """Frame-by-frame stereo upscaler that remembers the previous upscaled frames.

    Args:
        config: options (scale, method, which conditions, tolerances).
        upscaler: the frame upscaler; defaults to the classical one, or the learned one
            (loaded from ``config.model``) for ``method="learned"``.

    Attributes:
        stats: running means of the condition weights (``temporal_left``,
            ``temporal_right``, ``cross_view``) and the frame count.
    """

    def __init__(self, config: SuperResolutionConfig = SuperResolutionConfig(), upscaler: FrameUpscaler | None = None) -> None:
        self.config = config
        if upscaler is None:
            if config.method == "learned":
                from s2vg.sr.learned import LearnedUpscaler

                upscaler = LearnedUpscaler.load(config)
            else:
                upscaler = ClassicalUpscaler(config)
        self.upscaler = upscaler
        self._flow = FlowEstimator()
        self._previous: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._weights = {"temporal_left": 0.0, "temporal_right": 0.0, "cross_view": 0.0}
        self.frames = 0

    @property
    def stats(self) -> dict[str, float]:
        n = max(self.frames, 1)
        return {**{k: round(v / n, 4) for k, v in self._weights.items()}, "frames": self.frames}

    def reset(self) -> None:
        """Forget the previous frame (at a shot cut)."""
        self._previous = None

    def _temporal(self, eye: int, low: np.ndarray) -> list[Condition]:
        if not self.config.temporal or self._previous is None:
            return []
        c = self.config
        prev_low, prev_high = self._previous[eye], self._previous[2 + eye]
        flow, reliable = self._flow(prev_low, low, c.flow_consistency)
        return [temporal_condition(prev_high, flow, reliable, low, c.scale, c.colour_tolerance, c.mask_erode)]

    def _finish(self, estimate: np.ndarray, low: np.ndarray, frozen: np.ndarray | None) -> np.ndarray:
        c = self.config
        return back_project(estimate, low, c.scale, c.back_projection, c.interpolation, frozen)

    def step(self, left: np.ndarray, right: np.ndarray, disparity: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Upscale one stereo frame.

        The right eye's pixels that both eyes see take ``cross_view_weight`` of the
        cross-view condition (the rest is its own conditioned upscale: two observations of
        one surface, averaged); that fused value is then sampled back into the left eye,
        so both eyes carry the same values there.

        Args:
            left, right: ``(H, W, 3)`` float32 in [0, 1].
            disparity: ``(H, W)`` left-view disparity in low-resolution pixels (NaN =
                unknown); estimated from the pair when None and the cross-view condition is on.

        Returns:
            ``(sH, sW, 3)`` float32 left and right.
        """
        c = self.config
        left = np.ascontiguousarray(left, np.float32)
        right = np.ascontiguousarray(right, np.float32)
        temporal_left = self._temporal(0, left)
        left_hr = self._finish(self.upscaler(left, temporal_left, c.scale), left, None)
        temporal_right = self._temporal(1, right)
        cross: list[Condition] = []
        reliable_cross = 0.0
        if c.cross_view:
            if disparity is None:
                disparity = estimate_disparity(left, right, c.max_disparity / 100.0 * left.shape[1])
            view = cross_view_condition(left_hr, disparity, right, c.scale, c.colour_tolerance, c.mask_erode)
            cross = [Condition(view.frame, view.weight * c.cross_view_weight)]
            reliable_cross = float(view.weight.mean())
        right_hr = self.upscaler(right, temporal_right + cross, c.scale)
        right_hr = self._finish(right_hr, right, cross[0].weight if cross else None)
        if cross:
            back = view.back_to_left(right_hr, view.weight)
            left_hr = (left_hr + back.weight[..., None] * (back.frame - left_hr)).astype(np.float32)
        for name, conds in (("temporal_left", temporal_left), ("temporal_right", temporal_right)):
            self._weights[name] += float(conds[0].weight.mean()) if conds else 0.0
        self._weights["cross_view"] += reliable_cross
        self.frames += 1
        self._previous = (left, right, left_hr, right_hr)
        return left_hr, right_hr


def upscale_stereo(
    left: np.ndarray,
    right: np.ndarray,
    scale: int = SuperResolutionConfig.scale,
    *,
    disparity: np.ndarray | None = None,
    depth: np.ndarray | None = None,
    focal: float | None = None,
    baseline: float | None = None,
    method: str = SuperResolutionConfig.method,
    config: SuperResolutionConfig | None = None,
    upscaler: FrameUpscaler | None = None,
    progress: Progress = SILENT,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Upscale a stereo video by 2 or 4.

    Args:
        left, right: ``(T, H, W, 3)`` float32 in [0, 1].
        scale: 2 or 4.
        disparity: ``(T, H, W)`` left-view disparity in pixels (right shows left pixel x at
            x - d); defaults to None (from ``depth``, else estimated from the pair).
        depth: ``(T, H, W)`` left-view depth in metres, with ``focal`` (px) and ``baseline`` (m).
        method: ``"classical"`` or ``"learned"`` (overridden by ``config``).
        config: all options; ``scale`` and ``method`` above apply when it is None.
        upscaler: a frame upscaler to use instead of the one ``method`` names.

    Returns:
        ``(T, sH, sW, 3)`` left and right float32, and stats (condition weights, seconds).

    Raises:
        OptionError: a scale other than 2 or 4, an unknown method.
        InputError: eyes of different shapes, disparity of the wrong shape.
    """
    config = config or SuperResolutionConfig(scale=scale, method=method)
    left, right = np.asarray(left, np.float32), np.asarray(right, np.float32)
    _check_pair(left, right)
    if disparity is None and depth is not None:
        if focal is None or baseline is None:
            raise OptionError("depth for the cross-view condition needs focal (px) and baseline (m); or give disparity")
        disparity = disparity_from_depth(depth, focal, baseline)
    if disparity is not None:
        disparity = np.asarray(disparity, np.float32)
        if disparity.shape != left.shape[:3]:
            raise InputError(f"disparity must be (T, H, W) = {left.shape[:3]}; got {disparity.shape}")
    start = time.perf_counter()
    runner = StereoUpscaler(config, upscaler)
    t, h, w, _ = left.shape
    s = config.scale
    out_left = np.empty((t, h * s, w * s, 3), np.float32)
    out_right = np.empty_like(out_left)
    with progress.stage("upscale", total=t, unit="frame") as bar:
        for i in range(t):
            out_left[i], out_right[i] = runner.step(left[i], right[i], None if disparity is None else disparity[i])
            bar.update(1)
    stats = {**runner.stats, "seconds": round(time.perf_counter() - start, 3), "config": dataclasses.asdict(config)}
    return out_left, out_right, stats
