"""Temporal propagation: fill holes of a view with real pixels of its other timestamps.

Background hidden at one moment is often seen at another (a foreground object moves
on, or the camera pans). For every hole pixel the motion of its background is read
from optical flow of the source video at the background stretch beside the hole
(mapped into the source by the rig's parallax), the pixel is followed one frame at a
time, and a copy is accepted only if (a) the pixel it lands on holds a real value
(originally known, or itself propagated from one) at least as far as the hole's
background, so foreground is never copied, and (b) the background stretch beside the
hole looks the same in both frames after that motion, so a wrong motion is never
trusted. A sweep forward and a sweep backward in time give each pixel its nearest
real source in time.
"""

from __future__ import annotations

import cv2
import numpy as np

from s2vg.inpaint.classical.scan import HoleAnchors

#: Extra reach, beyond the compared stretch, of the second flow sample (pixels).
_FAR_SAMPLE_PX = 8

_DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}


def source_flows(frames: np.ndarray, preset: str = "fast") -> tuple[np.ndarray, np.ndarray]:
    """Optical flow between consecutive frames of the source video (OpenCV DIS).

    Args:
        frames: ``(T, H, W, 3)`` float32 in [0, 1].
        preset: DIS preset, ``"ultrafast"``, ``"fast"`` or ``"medium"``.

    Returns:
        ``(to_prev, to_next)``, each ``(T, H, W, 2)`` float32 (dx, dy) in pixels:
        pixel x of frame t matches x + to_prev[t](x) in frame t-1 and x + to_next[t](x)
        in frame t+1. ``to_prev[0]`` and ``to_next[T-1]`` are zero.
    """
    n_t, height, width, _ = frames.shape
    to_prev = np.zeros((n_t, height, width, 2), dtype=np.float32)
    to_next = np.zeros_like(to_prev)
    if n_t < 2:
        return to_prev, to_next
    gray = [cv2.cvtColor(np.clip(f * 255.0 + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY) for f in frames]
    dis = cv2.DISOpticalFlow_create(_DIS_PRESETS[preset])
    for t in range(1, n_t):
        to_prev[t] = dis.calc(gray[t], gray[t - 1], None)
        to_next[t - 1] = dis.calc(gray[t - 1], gray[t], None)
    return to_prev, to_next


def propagate_in_time(
    colors: np.ndarray,
    known: np.ndarray,
    depth: np.ndarray,
    anchors: HoleAnchors,
    to_prev: np.ndarray | None,
    to_next: np.ndarray | None,
    source_shift: tuple[float, float],
    *,
    window: int,
    depth_tolerance: float,
    colour_tolerance: float,
    check_start: int = 0,
    check_px: int = 4,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Real values for hole pixels from other timestamps of the same view.

    Args:
        colors: ``(T, H, W, 3)`` float32 in [0, 1], the view (scan axis last).
        known: ``(T, H, W)`` bool, its real pixels.
        depth: ``(T, H, W)`` float32 depth of the real pixels.
        anchors: the background anchors of every pixel where ``known`` is False,
            computed on ``known`` (see :func:`find_anchors`).
        to_prev, to_next: ``(T, H, W, 2)`` flow of the *source* video in the same axis
            order (see :func:`source_flows`), or None for a static camera.
        source_shift: ``(s_along, s_across)`` = focal * (view position - source position)
            along and across the scan axis, in pixel·metres: a point at depth z seen at
            (x, y) in this view is at (x + s_along / z, y + s_across / z) in the source.
        window: largest number of frames a value may travel.
        depth_tolerance: a copied pixel must be at least ``(1 - depth_tolerance)`` times
            as far as the hole's background.
        colour_tolerance: largest mean absolute difference in [0, 1] of the background
            stretch beside the hole between the two frames.
        check_start, check_px: the background stretch compared is ``check_px`` pixels
            starting ``check_start`` pixels beyond the hole's background end; defaults
            to 0 and 4.

    Returns:
        ``(ok (N,) bool, values (N, 3) float32, depth (N,) float32)`` for the hole pixels
        of ``anchors``; values and depth are meaningful where ``ok``.
    """
    n_t, height, width = known.shape
    n = anchors.count
    if n_t < 2 or n == 0:
        return np.zeros(n, bool), np.zeros((n, 3), np.float32), np.zeros(n, np.float32)
    a = anchors
    index = np.full(known.shape, -1, dtype=np.int32)
    index[a.t, a.y, a.x] = np.arange(n, dtype=np.int32)
    bounds = np.searchsorted(a.t, np.arange(n_t + 1))
    z_bg = a.background_depth()
    # Where to read the background's motion: in the background stretch beside the hole,
    # moved into the source image by the parallax of that depth; once near the edge and
    # once farther out, because flow near a moving foreground edge is dragged along.
    z_safe = np.where(a.depth > 0, a.depth, np.float32(np.inf))
    samples = []
    for reach in (check_start + check_px // 2, check_start + check_px + _FAR_SAMPLE_PX):
        sx = np.clip(np.rint(a.anchor + a.direction * reach + source_shift[0] / z_safe), 0, width - 1)
        sy = np.clip(np.rint(a.y + source_shift[1] / z_safe), 0, height - 1)
        samples.append((sy.astype(np.int64), sx.astype(np.int64)))

    sweeps = []
    for step, flows in ((-1, to_prev), (1, to_next)):
        frames = range(1, n_t) if step == -1 else range(n_t - 2, -1, -1)
        ok = np.zeros(n, dtype=bool)
        values = np.zeros((n, 3), dtype=np.float32)
        found_depth = np.zeros(n, dtype=np.float32)
        dist = np.zeros(n, dtype=np.int32)
        for t in frames:
            s = slice(bounds[t], bounds[t + 1])
            if s.start == s.stop:
                continue
            other = t + step
            ty, tx = a.y[s], a.x[s]
            # Candidate motions: none (a still background), then the flow at each sample;
            # (b) keeps the one under which the background beside the hole matches best.
            zero = np.zeros_like(tx)
            candidates = [(zero, zero)]
            if flows is not None:
                for sy, sx in samples:
                    u = flows[t][sy[s], sx[s]]
                    candidates.append((np.rint(u[:, 0]).astype(np.int64), np.rint(u[:, 1]).astype(np.int64)))
            best = np.full(tx.shape[0], np.inf, dtype=np.float32)
            ux, uy = zero.copy(), zero.copy()
            for cx, cy in candidates:
                score = _stretch_difference(
                    colors, known, t, other, ty, a.anchor[s], a.direction[s], cx, cy, check_start, check_px
                )
                better = score < best
                best = np.where(better, score, best)
                ux, uy = np.where(better, cx, ux), np.where(better, cy, uy)
            motion_ok = best <= colour_tolerance
            # (a) the landing pixel must hold a real background value.
            px, py = tx + ux, ty + uy
            inside = (px >= 0) & (px < width) & (py >= 0) & (py < height)
            px, py = np.clip(px, 0, width - 1), np.clip(py, 0, height - 1)
            k_there = index[other, py, px]
            is_known = k_there < 0
            k_c = np.maximum(k_there, 0)
            cand_ok = is_known | ok[k_c]
            cand_depth = np.where(is_known, depth[other, py, px], found_depth[k_c])
            cand_dist = np.where(is_known, 0, dist[k_c]) + 1
            accept = (
                inside & motion_ok & cand_ok & (cand_dist <= window)
                & (cand_depth >= (1.0 - depth_tolerance) * z_bg[s])
            )
            if not accept.any():
                continue
            cand_values = np.where(is_known[:, None], colors[other, py, px], values[k_c])
            idx = np.arange(s.start, s.stop)[accept]
            ok[idx] = True
            values[idx] = cand_values[accept]
            found_depth[idx] = cand_depth[accept]
            dist[idx] = cand_dist[accept]
        sweeps.append((ok, values, found_depth, dist))

    (ok_f, val_f, dep_f, dist_f), (ok_b, val_b, dep_b, dist_b) = sweeps
    # Nearest in time wins; a tie goes to the earlier frame.
    take_b = ok_b & (~ok_f | (dist_b < dist_f))
    ok = ok_f | ok_b
    values = np.where(take_b[:, None], val_b, val_f)
    found = np.where(take_b, dep_b, dep_f)
    return ok, values, found


def _stretch_difference(
    colors: np.ndarray,
    known: np.ndarray,
    t: int,
    other: int,
    y: np.ndarray,
    anchor: np.ndarray,
    direction: np.ndarray,
    ux: np.ndarray,
    uy: np.ndarray,
    start: int,
    count: int,
) -> np.ndarray:
    """Mean absolute colour difference ``(N,)`` between the background stretch beside each
    hole in frame ``t`` and the same stretch moved by ``(ux, uy)`` in frame ``other``;
    inf where no pixel of the stretch is known in both frames."""
    _, height, width = known.shape
    diff = np.zeros(y.shape[0], dtype=np.float32)
    n = np.zeros(y.shape[0], dtype=np.float32)
    y2 = y + uy
    y2_ok = (y2 >= 0) & (y2 < height)
    y2 = np.clip(y2, 0, height - 1)
    for k in range(start, start + count):
        x1 = anchor + direction * k
        x2 = x1 + ux
        valid = (anchor >= 0) & y2_ok & (x1 >= 0) & (x1 < width) & (x2 >= 0) & (x2 < width)
        x1, x2 = np.clip(x1, 0, width - 1), np.clip(x2, 0, width - 1)
        valid &= known[t, y, x1] & known[other, y2, x2]
        d = np.abs(colors[t, y, x1] - colors[other, y2, x2]).mean(axis=-1)
        diff += np.where(valid, d, 0.0)
        n += valid
    return np.where(n > 0, diff / np.maximum(n, 1.0), np.float32(np.inf)).astype(np.float32)
