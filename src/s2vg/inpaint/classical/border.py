"""The strip a new view shows beyond the source's border: continue the frame's edge.

A parallel rig's outer view sees, along one side, content the source never framed. No
foreground/background relation holds there (the strip is not revealed beside a nearer
edge), so the background-side rules of :mod:`.rowfill` and :mod:`.spatial` do not
apply: the best guess is the content at the frame's edge, and the farther into the strip,
the less the exact edge pixel tells and the more a local average does. Each strip pixel
at distance ``k`` from the edge column therefore takes the mean of the available pixels
in a box that touches the edge on the inside, ``2 r + 1`` rows high and ``m`` columns
deep with ``r = round(spread * k)`` and ``m = 1 + round(spread * k / 4)`` (a cone that widens
with the distance: the edge pixel itself next to the edge, a wide average far out). The
box stays symmetric across rows (its half-height is cut at the frame's top and bottom),
so content that is constant along the rows, or changes linearly across them, is
continued exactly. Box means come
from one summed-area table per frame (``cv2.integral``), so the cost follows the strip's
area, not the box size. The fill blends this half and half with the row fill and
diffusion (:mod:`.fill`): the two err differently, and the mean beat either alone.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Depth of the box (columns behind the edge) relative to its half-height: columns
#: farther inside the frame say less about what lies beyond it than the edge column's
#: neighbours above and below (measured on the eval scenes and the real pairs: 0.25 beat
#: 1 and 0 on both).
_DEPTH_RATIO = 0.25


def continue_border(
    colors: np.ndarray,
    avail: np.ndarray,
    t: np.ndarray,
    y: np.ndarray,
    x: np.ndarray,
    anchor: np.ndarray,
    direction: np.ndarray,
    *,
    spread: float,
) -> np.ndarray:
    """Fill values of strip pixels from the cone of available pixels behind the edge.

    Args:
        colors: ``(T, H, W, 3)`` float32 in [0, 1] (scan axis last).
        avail: ``(T, H, W)`` bool, pixels that may be read.
        t, y, x: ``(N,)`` int64 strip pixels.
        anchor: ``(N,)`` int64 edge column of each pixel's row (an available pixel).
        direction: ``(N,)`` int64, +1 where the image lies at larger x than the strip.
        spread: growth of the box's half-height and depth per pixel of distance (>= 0;
            0 repeats the edge pixel).

    Returns:
        ``(N, 3)`` float32 values. A box without an available pixel (cannot happen at
        the anchor itself, which is available) falls back to the anchor's colour.
    """
    n = t.shape[0]
    out = np.zeros((n, 3), np.float32)
    if n == 0:
        return out
    _, height, width = avail.shape
    k = np.abs(x - anchor).astype(np.float64)
    m = 1 + np.rint(_DEPTH_RATIO * spread * k).astype(np.int64)
    r = np.minimum(np.rint(spread * k).astype(np.int64), np.minimum(y, height - 1 - y))
    # Box [y0, y1) x [x0, x1), clipped to the frame.
    y0, y1 = np.maximum(y - r, 0), np.minimum(y + r + 1, height)
    x0 = np.where(direction > 0, anchor, anchor - m + 1)
    x1 = np.where(direction > 0, anchor + m, anchor + 1)
    x0, x1 = np.clip(x0, 0, width), np.clip(x1, 0, width)
    for f in np.unique(t):
        sel = np.flatnonzero(t == f)
        w = avail[f].astype(np.float64)
        stack = np.concatenate([colors[f].astype(np.float64) * w[..., None], w[..., None]], axis=2)
        sat = cv2.integral(stack)  # (H + 1, W + 1, 4) float64
        a, b, c0, c1 = y0[sel], y1[sel], x0[sel], x1[sel]
        box = sat[b, c1] - sat[a, c1] - sat[b, c0] + sat[a, c0]
        count = box[:, 3]
        edge = colors[f, y[sel], anchor[sel]]
        out[sel] = np.where(count[:, None] > 0.5, box[:, :3] / np.maximum(count, 1.0)[:, None], edge)
    return out
