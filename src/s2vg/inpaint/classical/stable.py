"""Temporal stability of invented pixels: a hole that persists keeps its fill.

The spatial fill (:mod:`.rowfill`, :mod:`.spatial`, :mod:`.border`) works frame by frame,
so where a hole persists over frames its invented pixels follow whatever changes around
the hole (a moving foreground edge changes the background anchor of every row it crosses)
and boil. Here, frame by frame in time order, every invented pixel whose background point
(moved with the fitted background motion of :mod:`.accumulate`, by its own fill depth) was
invented in the previous frame too, on the same background (depths agree), takes the
previous frame's value, blended with its own: ``w * previous + (1 - w) * own``. Since the
previous frame was already stabilised, the carried value is an exponential average along
the background's path, and under a static camera with a persisting hole and unchanged
surroundings every frame holds the same values. Nearest-pixel look-ups: repeated
resampling would blur the carried values frame after frame. Real pixels (known or copied
from other frames) are never changed, and never carried (the accumulation copies those
already).
"""

from __future__ import annotations

import numpy as np


def stabilise_invented(
    colors: np.ndarray,
    depth: np.ndarray,
    invented: np.ndarray,
    motion: np.ndarray,
    *,
    weight: float,
    depth_tolerance: float,
) -> int:
    """Carry invented values forward along the background motion, in place.

    Args:
        colors: ``(T, H, W, 3)`` float32 filled view (scan axis last); changed in place.
        depth: ``(T, H, W)`` float32 depth of every pixel (the fill depth where invented).
        invented: ``(T, H, W)`` bool, pixels the spatial fill invented.
        motion: ``(T, 2, 2)`` background motion (see
            :func:`~s2vg.inpaint.classical.accumulate.background_motion`), same axis order.
        weight: weight in [0, 1] of the previous frame's value; 0 changes nothing, 1 keeps
            the first frame's fill wherever the hole persists.
        depth_tolerance: the previous pixel must lie within this relative depth of the
            current one (the same background, not another layer's fill).

    Returns:
        The number of pixels blended.
    """
    n_t, height, width = invented.shape
    if weight <= 0 or n_t < 2:
        return 0
    w = np.float32(weight)
    blended = 0
    for t in range(1, n_t):
        y, x = np.nonzero(invented[t])
        if y.size == 0 or not invented[t - 1].any():
            continue
        z = depth[t, y, x].astype(np.float64)
        inv = np.where(z > 0, 1.0 / np.maximum(z, 1e-12), 0.0)
        dm = motion[t - 1] - motion[t]
        px = np.rint(x + dm[0, 0] + dm[0, 1] * inv).astype(np.int64)
        py = np.rint(y + dm[1, 0] + dm[1, 1] * inv).astype(np.int64)
        inside = (z > 0) & (px >= 0) & (px < width) & (py >= 0) & (py < height)
        px, py = np.clip(px, 0, width - 1), np.clip(py, 0, height - 1)
        z_prev = depth[t - 1, py, px].astype(np.float64)
        ok = inside & invented[t - 1, py, px] & (np.abs(z_prev - z) <= depth_tolerance * z)
        if not ok.any():
            continue
        y, x, py, px = y[ok], x[ok], py[ok], px[ok]
        colors[t, y, x] = w * colors[t - 1, py, px] + (1.0 - w) * colors[t, y, x]
        blended += int(ok.sum())
    return blended
