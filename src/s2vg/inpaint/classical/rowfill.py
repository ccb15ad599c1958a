"""Depth-aware fill along the row from the background side of each hole run.

The fill of a hole pixel is the mean colour of a short stretch of background just
beyond the run's background end (a few pixels away from the edge, where warped
depth edges are unreliable), blended toward the edge pixel itself close to the seam;
the foreground end is never read. Runs whose two ends lie on one surface (cracks) are
interpolated between both ends. A light smoothing across rows, restricted to filled
pixels of similar background depth, removes the streaks that independent rows leave.
All operations are gathers over the flat list of hole pixels.
"""

from __future__ import annotations

import numpy as np

from s2vg.inpaint.classical.scan import HoleAnchors


def side_colours(
    colors: np.ndarray,
    avail: np.ndarray,
    depth: np.ndarray,
    t: np.ndarray,
    y: np.ndarray,
    anchor: np.ndarray,
    direction: np.ndarray,
    z_anchor: np.ndarray,
    *,
    skip: int,
    window: int,
    depth_tolerance: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Colour at a run end and the mean background colour just beyond it.

    Args:
        colors: ``(T, H, W, 3)`` float32 in [0, 1].
        avail: ``(T, H, W)`` bool, pixels that may be read.
        depth: ``(T, H, W)`` float32 depth of available pixels.
        t, y, anchor: ``(N,)`` int64 frame, row and position of each run end (>= 0).
        direction: ``(N,)`` int64 step (+1/-1) that moves from the end away from the hole.
        z_anchor: ``(N,)`` float32 depth at the run end.
        skip: pixels beyond the end that are not averaged (unreliable depth edges).
        window: number of pixels averaged after the skipped ones.
        depth_tolerance: a pixel of the stretch counts as the same background when its
            depth is at least ``(1 - depth_tolerance) * z_anchor`` (stops at nearer objects).

    Returns:
        ``(edge, mean)``, each ``(N, 3)`` float32: the colour at the end, and the mean of
        the accepted stretch (the end colour where no pixel of the stretch is accepted).
    """
    width = avail.shape[-1]
    edge = colors[t, y, anchor]
    total = np.zeros_like(edge)
    count = np.zeros(t.shape[0], dtype=np.float32)
    floor = (1.0 - depth_tolerance) * z_anchor
    for k in range(skip, skip + window):
        pos = anchor + direction * k
        inside = (pos >= 0) & (pos < width)
        pos = np.clip(pos, 0, width - 1)
        ok = inside & avail[t, y, pos] & (depth[t, y, pos] >= floor)
        total += np.where(ok[:, None], colors[t, y, pos], 0.0)
        count += ok
    mean = np.where(count[:, None] > 0, total / np.maximum(count, 1.0)[:, None], edge)
    return edge, mean.astype(np.float32)


def row_fill_values(
    colors: np.ndarray,
    avail: np.ndarray,
    depth: np.ndarray,
    anchors: HoleAnchors,
    *,
    skip: int,
    window: int,
    seam_px: float,
    depth_tolerance: float,
    border_skip: int = 0,
    border_window: int = 1,
    border_tolerance: float = 0.06,
) -> tuple[np.ndarray, np.ndarray]:
    """Fill colour and depth of hole pixels that have an anchor, from the background side.

    Args:
        colors, avail, depth: the view as ``(T, H, W, 3)``, ``(T, H, W)``, ``(T, H, W)``.
        anchors: hole pixels with ``anchor >= 0`` (see :func:`find_anchors`).
        skip, window, depth_tolerance: see :func:`side_colours`.
        seam_px: decay length in pixels of the blend toward the end colour; the weight
            of the end colour at distance d is exp(-d / seam_px). 0 turns it off.
        border_skip, border_window: ``skip`` and ``window`` for runs that reach the end of
            the row (the strip beyond the source's border). Their only end comes from the
            source's outermost columns, which often carry encoder or scaler artefacts (a
            dark or bright line); extending that line would paint a band. The mean of those
            columns replaces the end colour where the two differ by more than
            ``border_tolerance`` (mean absolute RGB in [0, 1]).

    Returns:
        ``(values (N, 3) float32, depth (N,) float32)``.
    """
    a = anchors
    dist = np.abs(a.x - a.anchor).astype(np.float32)
    edge, mean = side_colours(
        colors, avail, depth, a.t, a.y, a.anchor, a.direction, a.depth,
        skip=skip, window=window, depth_tolerance=depth_tolerance,
    )
    values = _seam_blend(edge, mean, dist, seam_px)
    border = a.open_end & ((border_skip != skip) | (border_window != window))
    if border.any():
        b_edge, b_mean = side_colours(
            colors, avail, depth, a.t[border], a.y[border], a.anchor[border], a.direction[border], a.depth[border],
            skip=border_skip, window=border_window, depth_tolerance=depth_tolerance,
        )
        # Only an end column that stands out from the columns behind it is an artefact;
        # a clean edge stays the best predictor of what lies beyond it.
        stands_out = np.abs(b_edge - b_mean).mean(axis=1) > border_tolerance
        rows = np.flatnonzero(border)[stands_out]
        values[rows] = b_mean[stands_out]
    two = a.other >= 0
    if two.any():
        o_edge, o_mean = side_colours(
            colors, avail, depth, a.t[two], a.y[two], a.other[two], -a.direction[two], a.other_depth[two],
            skip=skip, window=window, depth_tolerance=depth_tolerance,
        )
        o_dist = np.abs(a.x[two] - a.other[two]).astype(np.float32)
        lam = (dist[two] / (dist[two] + o_dist))[:, None]
        values[two] = (1.0 - lam) * values[two] + lam * _seam_blend(o_edge, o_mean, o_dist, seam_px)
    return values.astype(np.float32), a.background_depth()


def _seam_blend(edge: np.ndarray, mean: np.ndarray, dist: np.ndarray, seam_px: float) -> np.ndarray:
    if seam_px <= 0:
        return mean.copy()
    w = np.exp(-dist / np.float32(seam_px))[:, None]
    return w * edge + (1.0 - w) * mean


def nearest_background_values(colors: np.ndarray, anchors: HoleAnchors) -> np.ndarray:
    """``(N, 3)``: the colour of the background-side end itself (the plain baseline)."""
    return colors[anchors.t, anchors.y, anchors.anchor]


def smooth_across_rows(
    values: np.ndarray,
    z_bg: np.ndarray,
    t: np.ndarray,
    y: np.ndarray,
    x: np.ndarray,
    shape: tuple[int, int, int],
    *,
    sigma: float,
    depth_tolerance: float,
) -> np.ndarray:
    """Gaussian smoothing of fill values along the columns, among filled pixels only.

    Only pixels of the same fill whose background depths agree within
    ``depth_tolerance`` are mixed, so neither known pixels nor another layer's fill leak in.

    Args:
        values: ``(N, 3)`` float32 fill colours at pixels ``(t, y, x)`` (each ``(N,)`` int64).
        z_bg: ``(N,)`` float32 background depth of each filled pixel.
        shape: ``(T, H, W)`` of the view.
        sigma: standard deviation in rows; <= 0 returns ``values`` unchanged.

    Returns:
        ``(N, 3)`` float32 smoothed values.
    """
    if sigma <= 0 or values.shape[0] == 0:
        return values
    radius = max(1, int(np.ceil(2.5 * sigma)))
    n_t, height, width = shape
    flat = (t * height + y) * width + x
    index = np.full(n_t * height * width, -1, dtype=np.int32)
    index[flat] = np.arange(values.shape[0], dtype=np.int32)
    acc = values.copy()
    wsum = np.ones(values.shape[0], dtype=np.float32)
    limit = depth_tolerance * z_bg
    for k in range(1, radius + 1):
        wk = np.float32(np.exp(-0.5 * (k / sigma) ** 2))
        for sign in (-1, 1):
            inside = (y >= k) if sign < 0 else (y < height - k)
            nb = np.where(inside, index[np.where(inside, flat + sign * k * width, 0)], -1)
            nb_c = np.maximum(nb, 0)
            ok = (nb >= 0) & (np.abs(z_bg[nb_c] - z_bg) <= limit)
            w = np.where(ok, wk, np.float32(0.0))
            acc += w[:, None] * values[nb_c]
            wsum += w
    return (acc / wsum[:, None]).astype(np.float32)
