"""Temporal background accumulation: copy each hole pixel from the nearest frame where
the same background point was really seen.

For a parallel rig whose camera translates (or pans slowly), the image motion of a
static background point at depth z between two frames is, to first order,
``a + b / z`` per axis: ``a`` from rotation/pan, ``b`` from translation. Both are fitted
once per consecutive frame pair from the source video's optical flow against its own
depth (a robust two-parameter least-squares fit, so moving foreground objects are
outliers and never steer the fit), and summed over frames, so the motion between *any*
two frames is known in closed form. A hole pixel of view v at time t, whose background
side has depth ``z_bg``, is then looked up at the reprojected position in every other
frame of the chunk, nearest in time first, and accepted only where that pixel is real
(known in the warp, not filled) and its depth agrees with ``z_bg``: never nearer (no
foreground is copied into background), and close enough that the reprojection with the
candidate's own depth lands on the same pixel. Under a static camera the motion is zero
and the revealed background equals the earlier frame's pixels exactly. Holes whose
background moves on its own (its optical flow departs from the model: a swimming animal,
a walking person, whose pixels at another time are another point) are not searched in the
view's own frames (:func:`on_moving_surface`); the flow-following step (:mod:`.temporal`)
and the spatial fill take them. (The same test before the copy from the source's frames,
:func:`accumulate_from_source`, gained 0.01 dB on the real round trips and, at a 48 px
high frame where DIS drags a card's motion over the whole stretch, lost real copies.)
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from s2vg.inpaint.classical.parallax import Parallax
from s2vg.inpaint.classical.scan import BackgroundStretch, HoleAnchors

#: Subsampling of the flow field for the fit (a few thousand vectors are plenty).
_FIT_STRIDE = 7
#: Residual (pixels) under which a flow vector counts as background motion in the refit.
_INLIER_PX = 1.0
#: Predicted motion (pixels) under which a background point counts as still (exact copy).
_STILL_PX = 1e-6


def background_motion(
    to_next: np.ndarray | None,
    depth: np.ndarray,
    known: np.ndarray | None = None,
    colors: np.ndarray | None = None,
) -> np.ndarray:
    """Cumulative background motion coefficients of a clip.

    Args:
        to_next: ``(T, H, W, 2)`` flow of the source video to the next frame (see
            :func:`~s2vg.inpaint.classical.temporal.source_flows`), or None for a static camera.
        depth: ``(T, H, W)`` source depth in metres (0 or negative where unknown).
        known: optional ``(T, H, W)`` bool mask of pixels to fit on.
        colors: optional ``(T, H, W, 3)`` source frames; when given, the flow fit is
            refined (and snapped to no motion where that explains the frames as well)
            by the colour match of the two frames under the model, because DIS flow is
            blurred at moving edges and the two coefficients are nearly collinear where
            most of the frame lies at one depth.

    Returns:
        ``(T, 2, 2)`` float64 ``M`` with ``M[t, axis] = (A, B)``: a background point at
        depth z seen at coordinate c (axis 0 = along the last array axis, 1 = across) in
        frame 0 is at ``c + A + B / z`` in frame t (so between frames t and s it moves by
        ``(A_s - A_t) + (B_s - B_t) / z``). Zero for a static camera.
    """
    n_t = depth.shape[0]
    out = np.zeros((n_t, 2, 2), dtype=np.float64)
    if to_next is None or n_t < 2:
        return out
    height, width = depth.shape[1:]
    ys, xs = np.mgrid[0:height:_FIT_STRIDE, 0:width:_FIT_STRIDE]
    ys, xs = ys.reshape(-1), xs.reshape(-1)
    for t in range(n_t - 1):
        z = depth[t, ys, xs].astype(np.float64)
        flow = to_next[t, ys, xs].astype(np.float64)
        ok = (z > 0) & np.isfinite(z)
        if known is not None:
            ok &= known[t, ys, xs] & known[t + 1, ys, xs]
        step = np.zeros((2, 2))
        if ok.sum() >= 16:
            inv = 1.0 / z[ok]
            design = np.stack([np.ones_like(inv), inv], axis=1)
            for axis in range(2):
                step[axis] = _robust_fit(design, flow[ok, axis])
            if colors is not None:
                step = _refine_photometric(step, colors[t], colors[t + 1], xs[ok], ys[ok], inv, known, t)
        out[t + 1] = out[t] + step
    return out


#: Search of the photometric refinement, coarse then fine: offsets (pixels) of the
#: motion at the near and far end of the depth range around the current fit.
_SEARCH_STEPS = (np.arange(-2.0, 2.01, 0.5), np.arange(-0.25, 0.26, 0.125))
#: Most sampled pixels the refinement compares (evenly spaced among the fit's samples).
_REFINE_SAMPLES = 600
#: Colour differences above this count as occlusion/outlier (truncated L1).
_TRUNCATE = 0.1


def _refine_photometric(
    step: np.ndarray, frame0: np.ndarray, frame1: np.ndarray,
    xs: np.ndarray, ys: np.ndarray, inv: np.ndarray, known: np.ndarray | None, t: int,
) -> np.ndarray:
    """Grid search of ``(2, 2)`` step coefficients by the truncated colour difference of
    sampled pixels of ``frame0`` and their predicted place in ``frame1`` (bilinear); the
    no-motion model wins unless something is strictly better."""
    height, width = frame0.shape[:2]
    if xs.size > _REFINE_SAMPLES:
        pick = np.linspace(0, xs.size - 1, _REFINE_SAMPLES).astype(np.int64)
        xs, ys, inv = xs[pick], ys[pick], inv[pick]
    # Luma only: a third of the gathers, and enough to tell motions apart.
    luma = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    c0 = frame0[ys, xs].astype(np.float32) @ luma
    frame1 = frame1.astype(np.float32, copy=False) @ luma
    inv_near, inv_far = float(np.percentile(inv, 95)), float(np.percentile(inv, 5))
    span = max(inv_near - inv_far, 1e-9)

    def cost(params: np.ndarray) -> np.ndarray:
        """``(M, 2, 2)`` candidate models -> ``(M,)`` mean truncated colour difference."""
        px = xs[None] + params[:, 0, :1] + params[:, 0, 1:] * inv[None]
        py = ys[None] + params[:, 1, :1] + params[:, 1, 1:] * inv[None]
        inside = (px >= 0) & (px <= width - 1) & (py >= 0) & (py <= height - 1)
        px, py = np.clip(px, 0, width - 1), np.clip(py, 0, height - 1)
        x0, y0 = np.minimum(np.floor(px).astype(np.int64), width - 2), np.minimum(np.floor(py).astype(np.int64), height - 2)
        fx, fy = px - x0, py - y0
        c1 = (
            frame1[y0, x0] * (1 - fx) * (1 - fy) + frame1[y0, x0 + 1] * fx * (1 - fy)
            + frame1[y0 + 1, x0] * (1 - fx) * fy + frame1[y0 + 1, x0 + 1] * fx * fy
        )
        diff = np.minimum(np.abs(c1 - c0[None]), _TRUNCATE)
        if known is not None:
            inside &= known[t + 1][np.rint(py).astype(np.int64), np.rint(px).astype(np.int64)]
        diff = np.where(inside, diff, _TRUNCATE)
        return diff.mean(axis=1)

    best = step.copy()
    for axis in range(2):
        # Across the scan axis (vertical motion, rare in a pan) only the fit itself is
        # weighed against no motion.
        for offsets in _SEARCH_STEPS if axis == 0 else (np.zeros(1),):
            near0 = best[axis, 0] + best[axis, 1] * inv_near
            far0 = best[axis, 0] + best[axis, 1] * inv_far
            dn, df = np.meshgrid(offsets, offsets, indexing="ij")
            near, far = near0 + dn.reshape(-1), far0 + df.reshape(-1)
            b = (near - far) / span
            a = far - b * inv_far
            cands = np.repeat(best[None], a.shape[0] + 1, axis=0)
            cands[1:, axis, 0], cands[1:, axis, 1] = a, b
            cands[0, axis] = 0.0
            scores = cost(cands)
            best = cands[int(np.argmin(scores))]  # the no-motion model (index 0) wins ties
    return best


def _robust_fit(design: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least squares of ``target ~ design @ p``, refit twice on the inliers (the
    background majority; moving objects are outliers)."""
    keep = np.ones(target.shape[0], dtype=bool)
    p = np.zeros(design.shape[1])
    for _ in range(3):
        if keep.sum() < design.shape[1] * 4:
            break
        p, *_ = np.linalg.lstsq(design[keep], target[keep], rcond=None)
        resid = np.abs(design @ p - target)
        scale = max(_INLIER_PX, 3.0 * float(np.median(resid[keep])))
        keep = resid <= scale
    return p


def on_moving_surface(
    anchors: HoleAnchors,
    to_prev: np.ndarray | None,
    to_next: np.ndarray | None,
    motion: np.ndarray,
    source_depth: np.ndarray,
    to_source: Parallax,
    *,
    reach: int = 24,
    threshold: float = _INLIER_PX,
) -> np.ndarray | None:
    """``(N,)`` bool: hole pixels whose background moves on its own, not with the camera.

    The background motion model (:func:`background_motion`) is fitted robustly, so the
    surfaces that move on their own (a swimming dolphin, a walking person) are its
    outliers; their pixels at another time are another point, and a copy from there is
    wrong however well the colours beside the hole match. A source pixel's *departure* is
    how far its optical flow to a neighbouring frame lies from the model's step at its
    depth, the smaller of the two neighbours (one side may be an occlusion). The background
    stretch beyond each run's background end (every other pixel up to ``reach``, where it
    stays inside the frame) is looked up in the source at the hole's background depth; the hole pixel
    is on a moving surface where no pixel of that stretch departs by ``threshold`` pixels
    or less. The minimum over the stretch keeps a still wall beside a moving card still:
    DIS flow next to a fast card is dragged along with it for more than 12 pixels (on the
    ``occluder`` eval scene, a card moving 12 px a frame, a reach of 12 cost 0.6-0.9 dB
    there, 24 nothing); farther away it is not.

    Args:
        anchors: hole pixels of a view (scan axis last; the other arrays in the same axes).
        to_prev, to_next: ``(T, H, W, 2)`` source flows of
            :func:`~s2vg.inpaint.classical.temporal.source_flows`, or None (then None: no
            flow, no test).
        motion: ``(T, 2, 2)`` from :func:`background_motion`.
        source_depth: ``(T, H, W)`` source depth in metres.
        to_source: the map from this view to the source (:class:`~.parallax.Parallax`).
    """
    if to_prev is None or to_next is None:
        return None
    n_t, height, width = source_depth.shape
    z_bg = anchors.background_depth().astype(np.float64)
    inv = np.where(z_bg > 0, 1.0 / np.maximum(z_bg, 1e-12), 0.0)
    t = anchors.t
    sx, sy = to_source(anchors.anchor, anchors.y, inv)
    ys = np.clip(np.rint(sy).astype(np.int64), 0, height - 1)
    start = np.rint(sx).astype(np.int64)  # the stretch's first pixel in the source
    # The model's step to each neighbouring frame, per hole pixel: (N, 2 axes, 2 coefficients).
    steps = [
        (t + d, (motion[np.clip(t + d, 0, n_t - 1)] - motion[t]).astype(np.float32), flow)
        for d, flow in ((-1, to_prev), (1, to_next))
    ]
    best = np.full(anchors.count, np.inf, np.float32)
    # Every other pixel of the stretch: DIS flow is smooth at that scale, and it halves the gathers.
    for k in range(0, reach, 2):
        x = anchors.anchor + anchors.direction * k
        inside = anchors.has_anchor & (x >= 0) & (x < width)
        xs = np.clip(start + anchors.direction * k, 0, width - 1)
        inv_s = 1.0 / np.maximum(source_depth[t, ys, xs], np.float32(1e-6))
        for s, dm, flow in steps:
            has = inside & (s >= 0) & (s < n_t)
            f = flow[t, ys, xs]
            dx = f[:, 0] - (dm[:, 0, 0] + dm[:, 0, 1] * inv_s)
            dy = f[:, 1] - (dm[:, 1, 0] + dm[:, 1, 1] * inv_s)
            best = np.where(has, np.minimum(best, np.hypot(dx, dy)), best)
    return best > threshold


def trusted_pixels(known: np.ndarray) -> np.ndarray:
    """``(T, H, W)`` bool: the interior real pixels, those with no hole among their 3x3
    neighbours, which the accumulation copies first.

    A real pixel next to a hole is the least likely to be the background point itself:
    under the cleanup's reference crack rule (``s2vg.geometry.cleanup``) it is a blended
    colour grown into the hole, and on the eval scenes, whose views are rendered exactly,
    such pixels were nearly all of the accumulation's wrong copies. With the default
    two-sided rule the preference changes the scenes' mean hole PSNR by 0.01 dB and the
    real clips' round trip by -0.07 dB (``interior_lead=0`` against 1); it is kept for
    the reference rule. (Excluding pixels next to depth edges as well cost more than it
    gained.)

    Args:
        known: ``(T, H, W)`` bool real pixels of a view.
    """
    return ndimage.minimum_filter(known, size=(1, 3, 3), mode="nearest")


def accumulate_background(
    colors: np.ndarray,
    known: np.ndarray,
    depth: np.ndarray,
    anchors: HoleAnchors,
    motion: np.ndarray,
    *,
    depth_tolerance: float,
    colour_tolerance: float = 0.01,
    window: int | None = None,
    interior_lead: int = 1,
    skip: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Real values for hole pixels from the nearest frame that saw their background.

    Args:
        colors: ``(T, H, W, 3)`` float32, the view (scan axis last).
        known: ``(T, H, W)`` bool, its *real* pixels (never filled ones).
        depth: ``(T, H, W)`` float32 depth of the real pixels.
        anchors: background anchors of the hole pixels (see :func:`find_anchors`).
        motion: ``(T, 2, 2)`` from :func:`background_motion`, in the same axis order.
        depth_tolerance: a candidate must be at least ``(1 - tol)`` times as far as the
            hole's background; a farther one is taken only where reprojecting with its
            own depth lands on the same pixel.
        colour_tolerance: where the background moves between the two frames, the
            real stretch beside the hole must match (mean absolute difference in [0, 1])
            at the reprojected place, which is also refined by up to a pixel along the
            scan axis (the motion model is a fit; a still background is exact).
        window: largest frame distance searched; None searches the whole chunk.
        interior_lead: a real pixel with no hole among its neighbours
            (:func:`trusted_pixels`) is preferred to one beside a hole that lies up to this
            many frames nearer in time (0: nearest in time first, interior on ties).
        skip: optional ``(N,)`` bool hole pixels not to search (their background moves on
            its own, :func:`on_moving_surface`).

    Returns:
        ``(ok (N,) bool, values (N, 3) float32, depth (N,) float32)`` per hole pixel of
        ``anchors``; meaningful where ``ok``.
    """
    n_t, height, width = known.shape
    ok, values, found = _no_values(anchors.count)
    if n_t < 2 or anchors.count == 0:
        return ok, values, found
    z_bg = anchors.background_depth().astype(np.float64)
    has = anchors.has_anchor & (z_bg > 0)
    if skip is not None:
        has &= ~skip
    flat_c = np.ascontiguousarray(colors).reshape(-1, 3)
    # Interior real pixels first, up to ``interior_lead`` frames farther in time than the
    # nearest real pixel beside a hole: the sweep visits (interior, distance d) before
    # (any real pixel, distance d + interior_lead), ties to the interior.
    k_interior, k_real = trusted_pixels(known).reshape(-1), np.ascontiguousarray(known).reshape(-1)
    flat_d = np.ascontiguousarray(depth).reshape(-1)
    reach = n_t - 1 if window is None else min(int(window), n_t - 1)
    pending = np.flatnonzero(has)
    t0 = anchors.t
    keyed = [(d - interior_lead, 0, d) for d in range(1, reach + 1)] + [(d, 1, d) for d in range(1, reach + 1)]
    for _, which, dist in sorted(keyed):
        flat_k = k_real if which else k_interior
        # Earlier frame first on ties: the order of the sweep is fixed, so the result is
        # deterministic.
        for sign in (-1, 1):
            if pending.size == 0:
                return ok, values, found
            t = t0[pending]
            s = t + sign * dist
            inside_t = (s >= 0) & (s < n_t)
            idx = pending[inside_t]
            t, s = t[inside_t], s[inside_t]
            if idx.size == 0:
                continue
            inv = 1.0 / z_bg[idx]
            dm = motion[s] - motion[t]  # (n, 2, 2)
            px = anchors.x[idx] + dm[:, 0, 0] + dm[:, 0, 1] * inv
            py = anchors.y[idx] + dm[:, 1, 0] + dm[:, 1, 1] * inv
            ix, iy = np.rint(px).astype(np.int64), np.rint(py).astype(np.int64)
            # Any fitted motion, even under half a pixel, is refined by the colour match: the
            # fit is good to about a pixel, and a background that moved by a fraction of a
            # pixel has, at sharp texture, already changed its nearest pixel.
            moving = (np.abs(px - anchors.x[idx]) > _STILL_PX) | (np.abs(py - anchors.y[idx]) > _STILL_PX)
            # Cheap test first (most pending pixels stay hidden in most frames): some
            # pixel within reach of the refinement is real background.
            z_min = (1.0 - depth_tolerance) * z_bg[idx]
            y_in = (iy >= 0) & (iy < height)
            row = (s * height + np.clip(iy, 0, height - 1)) * width
            maybe = np.zeros(idx.size, dtype=bool)
            for delta in (0, -1, 1):
                xd = ix + delta
                fl = row + np.clip(xd, 0, width - 1)
                hit_d = y_in & (xd >= 0) & (xd < width) & flat_k[fl] & (flat_d[fl] >= z_min)
                maybe |= hit_d if delta == 0 else (hit_d & moving)
            if not maybe.any():
                continue
            idx, t, s, dm, px, py, ix, iy, moving = (
                a[maybe] for a in (idx, t, s, dm, px, py, ix, iy, moving)
            )
            # The stretch beside the hole must match in both frames (a background layer
            # may itself move); a still one with no real stretch left to compare is
            # trusted (the copy is the same background pixel, depth-checked below).
            ix, score = _match_stretch(
                flat_c, flat_k, flat_d, known.shape, anchors, idx, s, ix - anchors.x[idx], iy - anchors.y[idx],
                refine=moving, z_min=(1.0 - depth_tolerance) * z_bg[idx], tolerance=colour_tolerance,
            )
            still_ok = (score <= colour_tolerance) | (np.isinf(score) & ~moving)
            px = np.where(moving, px, ix)
            inside = (ix >= 0) & (ix < width) & (iy >= 0) & (iy < height)
            flat = (s * height + np.clip(iy, 0, height - 1)) * width + np.clip(ix, 0, width - 1)
            z_c = flat_d[flat].astype(np.float64)
            real = inside & flat_k[flat] & (z_c > 0)
            # Never nearer than the hole's background (no foreground into background).
            far_enough = z_c >= (1.0 - depth_tolerance) * z_bg[idx]
            # The candidate's own depth must reproject it to the same pixel.
            inv_c = 1.0 / np.where(z_c > 0, z_c, np.inf)
            qx = anchors.x[idx] + dm[:, 0, 0] + dm[:, 0, 1] * inv_c
            qy = anchors.y[idx] + dm[:, 1, 0] + dm[:, 1, 1] * inv_c
            same = (np.abs(qx - px) <= 1.0) & (np.abs(qy - py) <= 1.0)
            accept = real & far_enough & same & still_ok
            if not accept.any():
                continue
            pending = _take(ok, values, found, pending, idx[accept], flat_c[flat[accept]], z_c[accept])
    return ok, values, found


def accumulate_from_source(
    source_colors: np.ndarray,
    source_depth: np.ndarray,
    anchors: HoleAnchors,
    motion: np.ndarray,
    to_source: Parallax,
    *,
    depth_tolerance: float,
    window: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Real values for hole pixels of a view from the *source* view at other timestamps,
    where the background is still between the two frames.

    The view's own frames hold a background point only where this view saw it; the source
    may have seen it at a time when, from this view, a foreground covered it (a card
    crossing a wall: the point is behind the card in the right eye whenever the left eye
    sees it). Under a still background the point is at the same place (``to_source``) in every source
    frame, so it is copied from the nearest source frame (earlier first on ties) whose
    pixel there is at least as far as the hole's background and, reprojected with its own
    depth, lands on the same target pixel, where at the hole's own time the source sees
    something nearer at that place (the foreground that opened the hole). Where the fitted background motion moves the
    point between the two frames the pair is skipped (the view's own search, with its
    colour match, handles moving backgrounds).

    Args:
        source_colors: ``(T, H, W, 3)`` float32 source view (scan axis last); every pixel real.
        source_depth: ``(T, H, W)`` float32 its depth.
        anchors: background anchors of the view's hole pixels still to fill.
        motion: ``(T, 2, 2)`` from :func:`background_motion`.
        to_source: the map from the view to the source (:class:`~.parallax.Parallax`).
        depth_tolerance: as :func:`accumulate_background`.
        window: largest frame distance searched; None searches the whole chunk.

    Returns:
        ``(ok (N,) bool, values (N, 3) float32, depth (N,) float32)`` per hole pixel of
        ``anchors``; meaningful where ``ok``.
    """
    n_t, height, width = source_depth.shape
    ok, values, found = _no_values(anchors.count)
    if n_t < 2 or anchors.count == 0:
        return ok, values, found
    z_bg = anchors.background_depth().astype(np.float64)
    pending = np.flatnonzero(anchors.has_anchor & (z_bg > 0))
    flat_c = np.ascontiguousarray(source_colors).reshape(-1, 3)
    flat_d = np.ascontiguousarray(source_depth).reshape(-1)
    reach = n_t - 1 if window is None else min(int(window), n_t - 1)
    for dist in range(1, reach + 1):
        for sign in (-1, 1):
            if pending.size == 0:
                return ok, values, found
            t = anchors.t[pending]
            s = t + sign * dist
            idx = pending[(s >= 0) & (s < n_t)]
            if idx.size == 0:
                continue
            t, s = anchors.t[idx], anchors.t[idx] + sign * dist
            inv = 1.0 / z_bg[idx]
            dm = motion[s] - motion[t]
            still = (np.abs(dm[:, 0, 0] + dm[:, 0, 1] * inv) <= _STILL_PX) & (np.abs(dm[:, 1, 0] + dm[:, 1, 1] * inv) <= _STILL_PX)
            px, py = to_source(anchors.x[idx], anchors.y[idx], inv)
            ix, iy = np.rint(px).astype(np.int64), np.rint(py).astype(np.int64)
            inside = still & (ix >= 0) & (ix < width) & (iy >= 0) & (iy < height)
            flat = (s * height + np.clip(iy, 0, height - 1)) * width + np.clip(ix, 0, width - 1)
            z_c = flat_d[flat].astype(np.float64)
            far_enough = (z_c > 0) & (z_c >= (1.0 - depth_tolerance) * z_bg[idx])
            # The candidate's own depth must put it on the same target pixel.
            qx, qy = to_source(anchors.x[idx], anchors.y[idx], 1.0 / np.where(z_c > 0, z_c, np.inf))
            same = (np.abs(qx - ix) <= 0.5) & (np.abs(qy - iy) <= 0.5)
            # At the hole's own time the source must see something nearer there: the point
            # is hidden behind the foreground that opened the hole (else the hole is not
            # that point's disocclusion, and its background depth is not the point's).
            z_now = flat_d[flat - (s - t) * height * width].astype(np.float64)
            hidden_now = z_now < (1.0 - depth_tolerance) * z_bg[idx]
            accept = inside & far_enough & same & hidden_now
            if not accept.any():
                continue
            pending = _take(ok, values, found, pending, idx[accept], flat_c[flat[accept]], z_c[accept])
    return ok, values, found


def _no_values(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ok, values, depth)`` for ``n`` hole pixels, none found yet."""
    return np.zeros(n, dtype=bool), np.zeros((n, 3), dtype=np.float32), np.zeros(n, dtype=np.float32)


def _take(ok: np.ndarray, values: np.ndarray, found: np.ndarray, pending: np.ndarray, hit: np.ndarray,
          colours: np.ndarray, depths: np.ndarray) -> np.ndarray:
    """Store the copies for hole pixels ``hit`` and return ``pending`` without them."""
    ok[hit] = True
    values[hit] = colours
    found[hit] = depths
    return np.setdiff1d(pending, hit, assume_unique=True)


#: The real background beside a hole compared between two frames: pixels
#: ``_CHECK_START`` .. ``_CHECK_START + _CHECK_PX - 1`` beyond the hole's background end. The
#: motion is refined on the hole's own row; a copy that matches there is then judged on that
#: stretch and the rows ``_CHECK_ROWS`` around it (a 5 x 6 patch), which see a motion model
#: that is off across the scan axis where one row does not: real round trips 23.02 -> 23.11
#: dB and flicker 5.57 -> 5.28 levels, eval scenes 24.98 -> 24.97 dB and 0.36 -> 0.35 levels
#: (refining on the whole patch: 23.10 / 5.32 and 25.01 at 2.4 times this step's cost; 3 rows:
#: 23.08 / 5.37 and 24.99).
_CHECK_START, _CHECK_PX = 1, 6
_CHECK_ROWS = (-2, -1, 0, 1, 2)


def _match_stretch(
    flat_c: np.ndarray, flat_k: np.ndarray, flat_d: np.ndarray, shape: tuple[int, int, int], anchors: HoleAnchors,
    idx: np.ndarray, s: np.ndarray, ux: np.ndarray, uy: np.ndarray, refine: np.ndarray, z_min: np.ndarray,
    tolerance: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Refine integer motions ``(ux, uy)`` (each ``(n,)``) of hole pixels ``idx`` to frames
    ``s`` by -1/0/+1 pixel along the scan axis where ``refine`` (``(n,)`` bool), by the colour
    match of the real stretch beside the hole; where that match is within ``tolerance``, score
    the refined motion again on the stretch and the rows beside it. Returns ``(x in frame s
    (n,), score (n,))``, the score a mean absolute difference in [0, 1]. Only pixels that
    are real and at least ``z_min`` (``(n,)``) far in both frames count (a foreground passing
    over the stretch is not a mismatch of the background); score inf where none does."""
    row = BackgroundStretch.beside(flat_c, flat_k, flat_d, shape, anchors, idx, z_min, (0,), _CHECK_START, _CHECK_PX)
    best_score = np.full(idx.size, np.inf, dtype=np.float64)
    best_u = ux.copy()
    for delta in (0, -1, 1):  # the model's own motion first: it wins ties
        # Only the pixels being refined try the neighbouring motions.
        sel = np.arange(idx.size) if delta == 0 else np.flatnonzero(refine)
        if sel.size == 0:
            continue
        u = ux[sel] + delta
        score = row.subset(sel).score(flat_c, flat_k, flat_d, shape, s[sel], u, uy[sel], z_min[sel])
        better = score < best_score[sel]
        best_score[sel[better]], best_u[sel[better]] = score[better], u[better]
    good = np.flatnonzero(best_score <= tolerance)
    if good.size:
        patch = BackgroundStretch.beside(
            flat_c, flat_k, flat_d, shape, anchors, idx[good], z_min[good], _CHECK_ROWS, _CHECK_START, _CHECK_PX,
        )
        best_score[good] = patch.score(flat_c, flat_k, flat_d, shape, s[good], best_u[good], uy[good], z_min[good])
    return anchors.x[idx] + best_u, best_score
