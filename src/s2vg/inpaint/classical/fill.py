"""The classical fill of a whole frame matrix on NumPy arrays (DESIGN.md section 3a).

Order of work, per view, outermost views first on each side of the source:
1. real pixels of the same view at other timestamps (:mod:`.accumulate`, where the
   background follows the camera's motion rather than moving on its own; :mod:`.temporal`);
2. the view's filled outer neighbour, at the background's parallax (:mod:`.crossview`);
3. the background side of each remaining hole run (:mod:`.rowfill`), blended with a
   Telea diffusion that reads the background side only and, in disocclusions, with the
   background's mean at the scale of the distance (both :mod:`.spatial`); then, where
   nearby background patches match the hole's background edge, with what lies beyond
   those patches (:mod:`.exemplar`); in the strip beyond the source's border, last with
   the frame's edge continued (:mod:`.border`); the first pixel beside a foreground edge
   takes the foreground's share of it (:mod:`.coverage`);
4. invented pixels of a hole that persists carry the previous frame's values along the
   background motion (:mod:`.stable`).
Known pixels are never written. Depth is filled too, with the depth of the background
each invented pixel was taken from.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from s2vg.config import ClassicalFillConfig
from s2vg.inpaint.classical.accumulate import (
    accumulate_background, accumulate_from_source, background_motion, on_moving_surface,
)
from s2vg.inpaint.classical.border import continue_border
from s2vg.inpaint.classical.coverage import foreground_share
from s2vg.inpaint.classical.crossview import transfer_from_view
from s2vg.inpaint.classical.exemplar import exemplar_fill
from s2vg.inpaint.classical.parallax import Parallax
from s2vg.inpaint.classical.rowfill import row_fill_values, side_colours, smooth_across_rows
from s2vg.inpaint.classical.scan import HoleAnchors, find_anchors
from s2vg.inpaint.classical.spatial import background_inpaint, background_mean_fill, foreground_band
from s2vg.inpaint.classical.stable import stabilise_invented
from s2vg.inpaint.classical.temporal import propagate_in_time, source_flows
from s2vg.progress import SILENT, Progress


def fill_order(offsets: np.ndarray, source_index: int) -> list[tuple[int, int | None]]:
    """The order in which views are filled, and the donor view of each.

    Args:
        offsets: ``(V, 2)`` camera positions relative to the source (metres).
        source_index: the source view, never filled.

    Returns:
        ``(view, donor)`` pairs, farthest views from the source first; the donor is the
        nearest view that lies farther out on the same side (positive dot product of the
        offsets), or None.
    """
    dist = np.linalg.norm(offsets, axis=1)
    views = [v for v in np.argsort(-dist, kind="stable").tolist() if v != source_index]
    order: list[tuple[int, int | None]] = []
    for i, v in enumerate(views):
        donors = [
            o for o in views[:i]
            if dist[o] > dist[v] and float(offsets[o] @ offsets[v]) > 0
        ]
        donor = min(donors, key=lambda o: (float(np.linalg.norm(offsets[o] - offsets[v])), o)) if donors else None
        order.append((v, donor))
    return order


def classical_fill(
    colors: np.ndarray,
    known: np.ndarray,
    depth: np.ndarray,
    positions: np.ndarray,
    focal: float,
    source_index: int,
    config: ClassicalFillConfig = ClassicalFillConfig(),
    progress: Progress = SILENT,
    *,
    in_place: bool = False,
    frames: slice = slice(None),
    principal_shift: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Fill every unknown pixel of a frame matrix.

    Args:
        colors: ``(V, T, H, W, 3)`` float32 in [0, 1].
        known: ``(V, T, H, W)`` bool.
        depth: ``(V, T, H, W)`` float32 depth in metres (0 where unknown).
        positions: ``(V, 3)`` camera positions in metres (parallel cameras).
        focal: focal length in pixels.
        source_index: the view holding the source video.
        config: options; see :class:`~s2vg.config.ClassicalFillConfig`.
        progress: receives one update per filled view.
        in_place: fill ``colors`` and ``depth`` themselves (they must then be writable
            float32) instead of copies: a streamed job drops the unfilled matrix anyway, and
            at 1080p a copy of a chunk's matrix is most of its peak memory.
        frames: the timestamps to fill, a slice with step 1 (default all). Besides them
            only the ``config.stable_history`` frames before them are filled (the history
            the stable step carries invented values from); the others get step 1 alone
            (real pixels of other timestamps, which step 1b reads on): a streamed job keeps
            only its chunk's frames, and filling all its context frames cost most of a
            small chunk's fill time and memory (at 4K a chunk of 1 frame has 8). The frames
            in ``frames`` equal those of a fill of all frames whenever no more than
            ``stable_history`` frames precede them.
        principal_shift: ``(V,)`` horizontal sensor shift of each view in pixels
            (:class:`~s2vg.geometry.rig.CameraRig`'s, set by convergence); None for none.

    Returns:
        ``(colors, depth)``: ``(V, T, H, W, 3)`` float32 and ``(V, T, H, W)`` float32
        arrays (new ones, or the inputs when ``in_place``), equal to the inputs at known
        pixels and filled everywhere else within ``frames`` (outside the filled frames,
        unknown pixels that step 1 did not reach keep the input's colours and get depth 0).

    Raises:
        ValueError: ``frames`` with a step other than 1, or ``in_place`` with arrays it
            cannot write.
    """
    if in_place:
        if colors.dtype != np.float32 or depth.dtype != np.float32 or not (colors.flags.writeable and depth.flags.writeable):
            raise ValueError("in_place needs writable float32 colors and depth")
        out_c, out_d = colors, depth
    else:
        out_c = np.array(colors, dtype=np.float32, copy=True)
        out_d = np.array(depth, dtype=np.float32, copy=True)
    out_d[~known] = 0.0
    lo, hi, step = frames.indices(known.shape[1])
    if step != 1:
        raise ValueError(f"frames must be a slice with step 1; got {frames!r}")
    cur = slice(lo, max(lo, hi))
    offsets = np.asarray(positions, dtype=np.float64)[:, :2] - np.asarray(positions, dtype=np.float64)[source_index, :2]
    n_t = known.shape[1]
    # Disocclusions open along the camera displacement: scan rows for a horizontal rig,
    # columns for a vertical one (swapped axes are views, so writes reach out_c).
    vertical = float(np.abs(offsets[:, 1]).sum()) > float(np.abs(offsets[:, 0]).sum())
    sensor = np.zeros_like(offsets)
    if principal_shift is not None:
        sensor[:, 0] = np.asarray(principal_shift, dtype=np.float64)
    if vertical:
        offsets, sensor = offsets[:, ::-1], sensor[:, ::-1]
        known = known.swapaxes(2, 3)
        c_all, d_all = out_c.swapaxes(2, 3), out_d.swapaxes(2, 3)
    else:
        c_all, d_all = out_c, out_d
    # The source view is fully known by contract; should it not be, it is filled last.
    order = fill_order(offsets, source_index) + [(source_index, None)]
    todo = [(v, donor) for v, donor in order if not known[v, cur].all()]
    if not todo:
        return out_c, out_d

    to_prev = to_next = None
    if config.temporal and config.motion == "flow" and n_t > 1:
        to_prev, to_next = source_flows(np.ascontiguousarray(out_c[source_index]), config.flow_preset)
        if vertical:
            to_prev = to_prev.swapaxes(1, 2)[..., ::-1]
            to_next = to_next.swapaxes(1, 2)[..., ::-1]

    motion = None
    if config.temporal and n_t > 1:
        motion = background_motion(to_next, d_all[source_index], known[source_index], c_all[source_index])

    # Filled: ``frames``, and before them the frames a persisting hole's carried values
    # start from (the step that keeps invented pixels stable runs forward in time).
    stabilising = motion is not None and config.stable_weight > 0
    cur = slice(max(0, lo - (config.stable_history if stabilising else 0)), cur.stop)
    tol = config.depth_tolerance
    with progress.stage("classical fill", total=len(todo), unit="view") as bar:
        for v, donor in todo:
            c, d = c_all[v], d_all[v]
            avail = known[v].copy()
            # The frames to fill, as views: steps 2 to 4 work on these alone.
            c_f, d_f, a_f = c[cur], d[cur], avail[cur]
            to_source = Parallax.between(offsets, sensor, focal, v, source_index)
            # Step 1 runs on every frame of the window, ``frames`` or not: a real pixel copied
            # into a context frame is a source for step 1b of the frames to fill.
            on_own = None  # (frames to fill) holes whose background moves on its own
            if motion is not None:
                # 1a: the nearest frame (whole chunk) that really saw the background point.
                anchors = find_anchors(avail, d, config.same_surface_ratio)
                # Where the background moves on its own, a pixel at another time is another point.
                moving = on_moving_surface(anchors, to_prev, to_next, motion, d_all[source_index], to_source)
                if moving is not None and stabilising:
                    mine = moving & (anchors.t >= cur.start) & (anchors.t < cur.stop)
                    on_own = np.zeros(a_f.shape, bool)
                    on_own[anchors.t[mine] - cur.start, anchors.y[mine], anchors.x[mine]] = True
                ok, values, found = accumulate_background(
                    c, known[v], d, anchors, motion, depth_tolerance=tol,
                    colour_tolerance=config.colour_tolerance, window=config.temporal_window,
                    interior_lead=config.interior_lead, skip=moving,
                )
                _write(c, d, avail, anchors.t[ok], anchors.y[ok], anchors.x[ok], values[ok], found[ok])
                if v != source_index and not avail.all():
                    # What this view never saw in the chunk but the source did, at another time.
                    anchors = find_anchors(avail, d, config.same_surface_ratio)
                    ok, values, found = accumulate_from_source(
                        c_all[source_index], d_all[source_index], anchors, motion, to_source,
                        depth_tolerance=tol, window=config.temporal_window,
                    )
                    _write(c, d, avail, anchors.t[ok], anchors.y[ok], anchors.x[ok], values[ok], found[ok])
            if config.temporal and n_t > 1 and not avail.all():
                # 1b: what no frame saw at its reprojected place: follow the flow beside the hole.
                anchors = find_anchors(avail, d, config.same_surface_ratio)
                ok, values, found = propagate_in_time(
                    c, avail, d, anchors, to_prev, to_next, to_source,
                    window=config.temporal_window, depth_tolerance=tol,
                    colour_tolerance=config.colour_tolerance,
                )
                _write(c, d, avail, anchors.t[ok], anchors.y[ok], anchors.x[ok], values[ok], found[ok])
            if config.views and donor is not None and not a_f.all():
                anchors = _holes(a_f, d_f, config, cur.start)
                anchors = anchors.subset(anchors.has_anchor)
                ok, values, found = transfer_from_view(
                    c_all[donor], d_all[donor], anchors.t, anchors.y, anchors.x,
                    anchors.background_depth(), Parallax.between(offsets, sensor, focal, v, donor), depth_tolerance=tol,
                )
                _write(c, d, avail, anchors.t[ok], anchors.y[ok], anchors.x[ok], values[ok], found[ok])
            # Everything not available now is invented by the spatial steps below; those on a
            # surface that moves on its own are not carried along the camera's motion (it is not
            # theirs: real round trips 22.74 -> 22.77 dB, flicker 5.63 -> 5.60; scenes equal).
            invented = ~a_f if stabilising else None
            if invented is not None and on_own is not None:
                invented &= ~on_own
            # One set of anchors for the strip, the diffusion and the row fill: all read
            # real (and copied) pixels only, before the row fill writes.
            anchors = find_anchors(a_f, d_f, config.same_surface_ratio) if not a_f.all() else None
            strip = edge = border = None
            if anchors is not None and (config.border_weight > 0 or config.exemplar_weight > 0):
                strip = anchors.subset(anchors.open_end & anchors.has_anchor)
                # Where the source's outermost columns stand out (encoder artefacts), the strip is
                # continued from the columns behind them.
                edge = _clean_edge(c_f, a_f, d_f, strip, config) if strip.count else None
            if config.border_weight > 0 and edge is not None:
                border = strip, continue_border(
                    c_f, a_f, strip.t, strip.y, strip.x, edge, strip.direction, spread=config.border_spread,
                )
            blend = mean = None
            if anchors is not None and (config.spatial_weight > 0 or config.mean_weight > 0 or config.exemplar_weight > 0):
                # The spatial fills read the background side only: nearer pixels beside a hole are hidden.
                foreground = foreground_band(a_f, d_f, band=config.spatial_band, depth_tolerance=tol, anchors=anchors)
            if config.spatial_weight > 0 and anchors is not None:
                blend = _background_diffusion(c_f, d_f, a_f, anchors, foreground, config)
            if config.mean_weight > 0 and anchors is not None:
                runs = anchors.subset(anchors.has_anchor & ~anchors.open_end)
                if runs.count:
                    mean = runs, background_mean_fill(
                        c_f, a_f, d_f, runs.t, runs.y, runs.x, runs.background_depth(), depth_tolerance=tol,
                        hide=foreground,
                    )
            exemplar = None
            if config.exemplar_weight > 0 and anchors is not None:
                # Disocclusions and the strip; cracks (one surface at both ends) are interpolated.
                runs = anchors.subset(anchors.has_anchor & (anchors.other < 0))
                if runs.count:
                    readable = a_f & ~foreground
                    if edge is not None:
                        # Not the source's outermost columns where they stand out (the strip skips them).
                        readable &= ~_edge_columns(a_f.shape, strip.subset(edge != strip.anchor), config.border_skip)
                    exemplar = runs, *exemplar_fill(c_f, readable, d_f, runs, depth_tolerance=tol)
            if not a_f.all():
                _fill_from_background(c_f, d_f, a_f, config, anchors)
            if not a_f.all():
                # Rows with nothing to read (a whole row unknown): scan the columns instead.
                _fill_from_background(c_f.swapaxes(1, 2), d_f.swapaxes(1, 2), a_f.swapaxes(1, 2), config)
            if not a_f.all():
                # Whole frames without a single value: the source frame's mean colour at
                # its median depth.
                empty = ~a_f.any(axis=(1, 2))
                source_c = np.asarray(c_all[source_index][cur][empty])
                source_d = np.asarray(d_all[source_index][cur][empty]).reshape(source_c.shape[0], -1)
                c_f[empty] = source_c.mean(axis=(1, 2))[:, None, None, :]
                d_f[empty] = np.median(source_d, axis=1)[:, None, None]
            if blend is not None:
                where, w, spatial = blend
                c_f[where] = w[:, None] * spatial[where] + (1.0 - w[:, None]) * c_f[where]
            if mean is not None:
                runs, values = mean
                w = np.float32(config.mean_weight)
                c_f[runs.t, runs.y, runs.x] = w * values + (1.0 - w) * c_f[runs.t, runs.y, runs.x]
            if exemplar is not None:
                runs, values, confidence = exemplar
                w = (np.float32(config.exemplar_weight) * confidence)[:, None]
                c_f[runs.t, runs.y, runs.x] = w * values + (1.0 - w) * c_f[runs.t, runs.y, runs.x]
            if border is not None:
                strip, values = border
                w = np.float32(config.border_weight)
                c_f[strip.t, strip.y, strip.x] = w * values + (1.0 - w) * c_f[strip.t, strip.y, strip.x]
            if config.edge_coverage and anchors is not None:
                # The first pixel beside a foreground edge holds part of the foreground (.coverage).
                index, near, share = foreground_share(
                    c_f, known[v][cur], d_f, anchors, to_source, depth_tolerance=tol,
                )
                t, y, x = anchors.t[index], anchors.y[index], anchors.x[index]
                c_f[t, y, x] += share[:, None] * (c_f[t, y, near] - c_f[t, y, x])
            if invented is not None and invented.any():
                stabilise_invented(
                    c_f, d_f, invented, motion[cur], weight=config.stable_weight, depth_tolerance=tol,
                )
            bar.update(1)
    return out_c, out_d


def _holes(avail: np.ndarray, depth: np.ndarray, config: ClassicalFillConfig, first: int) -> HoleAnchors:
    """:func:`find_anchors` of frames ``first, first + 1, ...`` (``avail`` and ``depth`` are
    those frames only), with ``t`` counted in the whole window."""
    anchors = find_anchors(avail, depth, config.same_surface_ratio)
    return dataclasses.replace(anchors, t=anchors.t + first) if first else anchors


def _background_diffusion(
    c: np.ndarray, d: np.ndarray, avail: np.ndarray, anchors: HoleAnchors, foreground: np.ndarray,
    config: ClassicalFillConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The background-side Telea diffusion of one view (:mod:`.spatial`) and how to blend it.

    Only holes with an anchor in their row take part (rows with nothing known keep the
    column scan). Next to its anchor the row fill (the nearest background pixel) is the
    better guess; the diffusion's weight rises with the distance into the hole. The strip
    beyond the source's border hides the source's outermost columns from the diffusion:
    they often carry encoder artefacts. ``foreground``: the ``(T, H, W)`` bool
    :func:`~s2vg.inpaint.classical.spatial.foreground_band`, hidden too.

    Returns:
        ``(where, weight, spatial)``: ``(T, H, W)`` bool pixels to blend, their ``(n,)``
        float32 weights, and the ``(T, H, W, 3)`` diffusion.
    """
    runs = anchors.subset(anchors.has_anchor)
    where = np.zeros(avail.shape, bool)
    where[runs.t, runs.y, runs.x] = True
    weight = np.zeros(avail.shape, np.float32)
    dist = np.abs(runs.x - runs.anchor).astype(np.float32)
    ramp = config.spatial_ramp_px
    weight[runs.t, runs.y, runs.x] = config.spatial_weight * (
        1.0 - np.exp(-dist / np.float32(ramp)) if ramp > 0 else np.float32(1.0)
    )
    hide = _edge_columns(avail.shape, runs.subset(runs.open_end), config.border_skip)
    spatial = background_inpaint(c, avail, d, radius=config.spatial_radius, band=0, hide=hide | foreground)
    return where, weight[where], spatial


def _edge_columns(shape: tuple[int, int, int], strip: HoleAnchors, count: int) -> np.ndarray:
    """``(T, H, W)`` bool: the ``count`` source columns from each strip pixel's anchor inward
    (the source's outermost columns, which the spatial fills do not read where they may
    carry encoder artefacts)."""
    mask = np.zeros(shape, bool)
    for k in range(count):
        pos = strip.anchor + strip.direction * k
        ok = (pos >= 0) & (pos < shape[-1])
        mask[strip.t[ok], strip.y[ok], pos[ok]] = True
    return mask


def _clean_edge(c: np.ndarray, avail: np.ndarray, d: np.ndarray, strip: HoleAnchors, config: ClassicalFillConfig) -> np.ndarray:
    """``(N,)`` edge column each strip pixel continues from: its anchor, or ``border_skip``
    columns further inside where the anchor stands out from the columns behind it (the
    source's outermost columns often carry encoder or scaler artefacts; the same test as
    the row fill's, :func:`~s2vg.inpaint.classical.rowfill.row_fill_values`)."""
    if config.border_skip == 0:
        return strip.anchor
    edge, mean = side_colours(
        c, avail, d, strip.t, strip.y, strip.anchor, strip.direction, strip.depth,
        skip=config.border_skip, window=config.border_window, depth_tolerance=config.depth_tolerance,
    )
    inner = strip.anchor + strip.direction * config.border_skip
    ok = (inner >= 0) & (inner < avail.shape[-1])
    ok[ok] = avail[strip.t[ok], strip.y[ok], inner[ok]]
    stands_out = ok & (np.abs(edge - mean).mean(axis=1) > config.border_tolerance)
    return np.where(stands_out, inner, strip.anchor)


def _fill_from_background(c: np.ndarray, d: np.ndarray, avail: np.ndarray, config: ClassicalFillConfig,
                          anchors: HoleAnchors | None = None) -> None:
    """Step 3 on one view (scan axis last), in place; leaves rows without anchors alone.

    ``anchors``: ``find_anchors(avail, d, ...)`` where the caller has it already.
    """
    if anchors is None:
        anchors = find_anchors(avail, d, config.same_surface_ratio)
    anchors = anchors.subset(anchors.has_anchor)
    if anchors.count == 0:
        return
    values, z_bg = row_fill_values(
        c, avail, d, anchors,
        skip=config.edge_skip, window=config.background_window,
        seam_px=config.seam_px, depth_tolerance=config.depth_tolerance,
        border_skip=config.border_skip, border_window=config.border_window,
        border_tolerance=config.border_tolerance,
    )
    values = smooth_across_rows(
        values, z_bg, anchors.t, anchors.y, anchors.x, avail.shape,
        sigma=config.smooth_sigma, depth_tolerance=config.depth_tolerance,
    )
    _write(c, d, avail, anchors.t, anchors.y, anchors.x, values, z_bg)


def _write(
    c: np.ndarray, d: np.ndarray, avail: np.ndarray,
    t: np.ndarray, y: np.ndarray, x: np.ndarray, values: np.ndarray, found_depth: np.ndarray,
) -> None:
    """Store ``(N, 3)`` values and ``(N,)`` depths at pixels ``(t, y, x)`` and mark them available."""
    c[t, y, x] = values
    d[t, y, x] = found_depth
    avail[t, y, x] = True
