"""Input checks shared by the depth stage: one helper per canonical layout, one-line messages."""

from __future__ import annotations

import numpy as np

from s2vg.errors import InputError


def check_frames(frames: np.ndarray, name: str = "frames") -> np.ndarray:
    """Return ``frames`` as float32 ``(T, H, W, 3)`` after checking layout and range.

    Raises:
        InputError: wrong rank, channel count or an empty clip.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or min(frames.shape[:3]) < 1:
        raise InputError(f"{name} must have shape (T, H, W, 3) with T, H, W >= 1; got shape {tuple(frames.shape)}")
    return frames.astype(np.float32, copy=False)


def check_inv_depth(inv_depth: np.ndarray, frames_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Return ``inv_depth`` as float32 ``(T, H, W)``; when ``frames_shape`` is given, T, H, W must match it.

    Raises:
        InputError: wrong rank, a shape that does not match the frames, or non-finite values.
    """
    inv_depth = np.asarray(inv_depth)
    if inv_depth.ndim != 3 or min(inv_depth.shape) < 1:
        raise InputError(f"inv_depth must have shape (T, H, W); got shape {tuple(inv_depth.shape)}")
    if frames_shape is not None and tuple(inv_depth.shape) != tuple(frames_shape[:3]):
        raise InputError(
            f"inv_depth of shape {tuple(inv_depth.shape)} does not match frames of shape {tuple(frames_shape)}; "
            "give the depth of this clip"
        )
    inv_depth = inv_depth.astype(np.float32, copy=False)
    if not np.isfinite(inv_depth).all():
        raise InputError("inv_depth contains NaN or infinite values; give finite inverse depth")
    return inv_depth


def check_cuts(cuts: object, num_frames: int) -> list[int]:
    """Return sorted unique shot starts in ``(0, num_frames)``; 0 is implied and dropped.

    Raises:
        InputError: a cut index outside ``[0, num_frames)``.
    """
    out = sorted({int(c) for c in (cuts or ())})
    bad = [c for c in out if c < 0 or c >= num_frames]
    if bad:
        raise InputError(f"shot cut indices must lie in [0, {num_frames}); got {bad}")
    return [c for c in out if c > 0]


def shot_spans(cuts: list[int], num_frames: int) -> list[tuple[int, int]]:
    """Split ``range(num_frames)`` at ``cuts`` into half-open ``(start, stop)`` spans, one per shot."""
    bounds = [0, *cuts, num_frames]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
