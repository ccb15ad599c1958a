"""Cross-view transfer: fill a view's holes from an already filled view of the rig.

The views of a parallel rig see the background at positions shifted by
f * (b_view - b_donor) / z (plus the difference of their sensor shifts, :mod:`.parallax`).
Filling the outermost view of each side first and then
reading each inner view's holes from its filled outer neighbour makes every view show
the same background where they overlap (the stereo pair and the multi-view output
agree), and costs one gather per hole pixel.
"""

from __future__ import annotations

import numpy as np

from s2vg.inpaint.classical.parallax import Parallax


def transfer_from_view(
    donor_colors: np.ndarray,
    donor_depth: np.ndarray,
    t: np.ndarray,
    y: np.ndarray,
    x: np.ndarray,
    z_bg: np.ndarray,
    to_donor: Parallax,
    *,
    depth_tolerance: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values of hole pixels read from a filled donor view at the background's parallax.

    Args:
        donor_colors: ``(T, H, W, 3)`` float32 in [0, 1], the donor view, fully filled.
        donor_depth: ``(T, H, W)`` float32 depth of the donor (filled pixels included).
        t, y, x: ``(N,)`` int64 hole pixels of the receiving view (scan axis = x).
        z_bg: ``(N,)`` float32 estimated background depth at each hole pixel (> 0).
        to_donor: the map from the receiving view to the donor (:class:`~.parallax.Parallax`).
        depth_tolerance: the donor pixel's depth must be within this fraction of ``z_bg``
            (so neither the donor's foreground nor a wrongly placed sample is copied).

    Returns:
        ``(ok (N,) bool, values (N, 3) float32, depth (N,) float32)``.
    """
    _, height, width = donor_depth.shape
    z = np.where(z_bg > 0, z_bg, np.float32(np.inf))
    px, py = to_donor(x, y, 1.0 / z.astype(np.float64))
    xd, yd = np.rint(px).astype(np.int64), np.rint(py).astype(np.int64)
    inside = (xd >= 0) & (xd < width) & (yd >= 0) & (yd < height)
    xd, yd = np.clip(xd, 0, width - 1), np.clip(yd, 0, height - 1)
    zd = donor_depth[t, yd, xd]
    ok = inside & (z_bg > 0) & (np.abs(zd - z_bg) <= depth_tolerance * z_bg)
    return ok, donor_colors[t, yd, xd], zd
