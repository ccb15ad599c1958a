"""Background-side diffusion fill for pixels no frame or view saw.

OpenCV's Telea inpainting (``cv2.inpaint``) diffuses colour into a hole from its whole
boundary, so at a depth edge it smears the foreground into the revealed background.
Here the known pixels that are nearer than the hole's background (by the row scan's
background depth, within a band around the hole) are treated as unknown too, so the
diffusion reads the background side only; those pixels are restored afterwards (only
hole pixels are returned). OpenCV does the diffusion; this module only builds the mask.
The guarantee is exact only for foreground within ``band`` of the hole: a wider object's
pixels beyond the band stay readable, and Telea's front carries a diluted share of them
into the hidden band and on into the hole.
:func:`background_mean_fill` is the second spatial estimate: the mean of the background
around a hole at the scale of the distance into it (a push-pull pyramid over the same
background-side pixels), blended half and half into disocclusions.
Blended into the row fill (:mod:`.fill`), the diffusion lifted hole PSNR on the Middlebury
Motorcycle pair and its crops (``s2vg eval --pair``) by 0.4-0.8 dB over the row fill alone;
the mean then added 0.2-0.5 dB more (motorcycle 16.92 -> 17.35, left half 15.35 -> 15.51,
right half 16.95 -> 17.29, half size 17.53 -> 17.83; Telea 15.50, 15.08, 15.32, 16.47) at a
cost of 0.1 dB on the rendered eval scenes, whose bricks, stripes and checkers the row fill
continues better. ``xphoto`` FSR (fast) and shift-map were 20-300x slower and no better
there (PSNR favours the smooth estimate over copied texture).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from s2vg.errors import InputError
from s2vg.inpaint.classical.scan import HoleAnchors, find_anchors


def foreground_band(avail: np.ndarray, depth: np.ndarray, *, band: int, depth_tolerance: float,
                    same_surface_ratio: float = 0.05, anchors: HoleAnchors | None = None) -> np.ndarray:
    """Available pixels near a hole that are nearer than that hole's background.

    Args:
        avail: ``(T, H, W)`` bool, pixels holding a value; the scan axis is the last.
        depth: ``(T, H, W)`` float32 depth of the available pixels (metres).
        band: reach in pixels around each hole pixel.
        depth_tolerance: a pixel nearer than ``(1 - depth_tolerance)`` times the largest
            background depth of the holes within ``band`` counts as foreground.
        same_surface_ratio: as :func:`~s2vg.inpaint.classical.scan.find_anchors`.
        anchors: ``find_anchors(avail, depth, ...)`` where the caller has it already
            (then ``same_surface_ratio`` is not used).

    Returns:
        ``(T, H, W)`` bool mask (False everywhere ``avail`` is False).
    """
    if band <= 0:
        return np.zeros(avail.shape, bool)
    if anchors is None:
        anchors = find_anchors(avail, depth, same_surface_ratio)
    z_bg = np.zeros(avail.shape, np.float32)
    ok = anchors.has_anchor
    z_bg[anchors.t[ok], anchors.y[ok], anchors.x[ok]] = anchors.background_depth()[ok]
    near = ndimage.maximum_filter(z_bg, size=(1, 2 * band + 1, 2 * band + 1), mode="constant")
    return avail & (near > 0) & (depth < (1.0 - depth_tolerance) * near)


def background_inpaint(
    colors: np.ndarray,
    avail: np.ndarray,
    depth: np.ndarray,
    *,
    radius: int = 9,
    band: int = 8,
    depth_tolerance: float = 0.1,
    hide: np.ndarray | None = None,
    anchors: HoleAnchors | None = None,
) -> np.ndarray:
    """Telea fill of every unavailable pixel from the background side only.

    Args:
        colors: ``(T, H, W, 3)`` float32 in [0, 1].
        avail: ``(T, H, W)`` bool, pixels holding a value.
        depth: ``(T, H, W)`` float32 depth of the available pixels.
        radius: Telea neighbourhood radius in pixels (>= 1).
        band: see :func:`foreground_band`; 0 gives plain Telea.
        depth_tolerance: see :func:`foreground_band`.
        hide: optional ``(T, H, W)`` bool, more available pixels the diffusion must not
            read (for example the source's artefact-prone border columns).
        anchors: see :func:`foreground_band`.

    Returns:
        ``(T, H, W, 3)`` float32: ``colors`` where ``avail``, the fill elsewhere. Frames
        without any available pixel are returned unchanged (nothing to diffuse from).

    Raises:
        InputError: shapes that disagree, or a radius below 1.
    """
    if colors.ndim != 4 or colors.shape[-1] != 3 or avail.shape != colors.shape[:3] or depth.shape != avail.shape:
        raise InputError(
            f"background inpaint needs colours (T, H, W, 3) with avail and depth (T, H, W); "
            f"got {colors.shape}, {avail.shape}, {depth.shape}"
        )
    if int(radius) < 1:
        raise InputError(f"background inpaint radius must be >= 1 pixel; got {radius!r}")
    out = np.array(colors, dtype=np.float32, copy=True)
    fg = foreground_band(avail, depth, band=band, depth_tolerance=depth_tolerance, anchors=anchors)
    if hide is not None:
        fg |= hide & avail
    for i in range(avail.shape[0]):
        hole = ~avail[i]
        if not hole.any() or hole.all():
            continue
        mask = hole | fg[i]
        if mask.all():  # only foreground left to read: plain Telea rather than nothing
            mask = hole
        mask = mask.astype(np.uint8)
        image = (np.clip(np.ascontiguousarray(colors[i]), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        # OpenCV diffuses three channels only as 8-bit (its float path is single-channel and
        # overshoots); the half-level rounding is far below what the fill gets wrong.
        filled = cv2.inpaint(image, mask, float(radius), cv2.INPAINT_TELEA)
        out[i][hole] = filled[hole].astype(np.float32) / 255.0
    return out


def pyramid_mean(colors: np.ndarray, readable: np.ndarray) -> np.ndarray:
    """Push-pull fill: every pixel gets the mean of the readable pixels at the finest scale that has them.

    The readable pixels are averaged down a Gaussian pyramid (OpenCV ``pyrDown`` of the
    colours times the mask, and of the mask), then each level's normalised mean is blended
    over the upsampled coarser estimate with the weight ``min(1, 2 * coverage)`` (Gortler et
    al., "The Lumigraph", 1996). A pixel deep inside a hole so gets the mean of the readable
    surroundings at about the scale of its distance from them: the least-squares guess where
    the texture beyond the hole cannot be predicted. OpenCV has no push-pull; only the
    pyramid loop is written here.

    Args:
        colors: ``(H, W, 3)`` float32.
        readable: ``(H, W)`` bool, pixels the mean may read.

    Returns:
        ``(H, W, 3)`` float32: ``colors`` at readable pixels, the filled mean elsewhere;
        ``colors`` unchanged where nothing is readable.
    """
    if not readable.any():
        return np.array(colors, np.float32, copy=True)
    return np.where(readable[..., None], colors, _push_pull(colors, readable)).astype(np.float32)


def _push_pull(colors: np.ndarray, readable: np.ndarray) -> np.ndarray:
    """:func:`pyramid_mean`'s estimate, right at the pixels that are not readable (``readable.any()``)."""
    weight = readable.astype(np.float32)
    levels = [(np.ascontiguousarray(colors * weight[..., None], dtype=np.float32), weight)]
    while min(levels[-1][1].shape) >= 8:
        c, w = levels[-1]
        levels.append((cv2.pyrDown(c), cv2.pyrDown(w)))
    c, w = levels[-1]
    # The coarsest level: pixels without coverage take the mean of all readable pixels
    # (read off the coarsest level, whose sums keep the weighted mean).
    mean = (c.reshape(-1, 3).sum(axis=0) / max(float(w.sum()), 1e-12)).astype(np.float32)
    est = np.where(w[..., None] > 1e-6, c / np.maximum(w, 1e-6)[..., None], mean).astype(np.float32)
    if len(levels) == 1:
        return est
    for c, w in reversed(levels[1:-1]):
        up = cv2.pyrUp(est, dstsize=(w.shape[1], w.shape[0]))
        alpha = np.minimum(1.0, 2.0 * w)[..., None]
        est = alpha * (c / np.maximum(w, 1e-6)[..., None]) + (1.0 - alpha) * up
    # At full resolution the coverage is 0 or 1: unreadable pixels take the upsampled mean.
    height, width = readable.shape
    return cv2.pyrUp(np.ascontiguousarray(est, dtype=np.float32), dstsize=(width, height))


def background_mean_fill(
    colors: np.ndarray,
    avail: np.ndarray,
    depth: np.ndarray,
    t: np.ndarray,
    y: np.ndarray,
    x: np.ndarray,
    z_bg: np.ndarray,
    *,
    depth_tolerance: float = 0.1,
    hide: np.ndarray | None = None,
    max_layers: int = 1,
) -> np.ndarray:
    """The background's mean around each hole pixel (:func:`pyramid_mean`), read from that background's depth on.

    Hole pixels are grouped into depth layers of ratio ``1 - depth_tolerance`` (at most
    ``max_layers`` per frame, widened to fit), one push-pull per layer; a layer reads only
    available pixels at least ``(1 - depth_tolerance)`` times as far as its nearest
    background, so no surface nearer than every hole's background, however wide, enters a
    mean (the caller hides nearer pixels right beside a hole with ``hide``). One layer is the
    default: on the Middlebury pair and its crops up to 12 layers gained at most 0.05 dB,
    on the real round trips they lost 0.1-0.25 dB (a weak depth's layers are wrong), and each
    costs a push-pull.

    Args:
        colors: ``(T, H, W, 3)`` float32.
        avail: ``(T, H, W)`` bool, pixels holding a value.
        depth: ``(T, H, W)`` float32 depth of the available pixels.
        t, y, x: ``(N,)`` int64 hole pixels to fill.
        z_bg: ``(N,)`` float32 background depth of each (> 0).
        depth_tolerance: see above, in (0, 1).
        hide: optional ``(T, H, W)`` bool, available pixels that must not be read.
        max_layers: most push-pulls per frame (>= 1).

    Returns:
        ``(N, 3)`` float32 fill values (the input colour where a layer reads nothing).

    Raises:
        InputError: shapes that disagree, a tolerance outside (0, 1) or no layer.
    """
    if colors.ndim != 4 or colors.shape[-1] != 3 or avail.shape != colors.shape[:3] or depth.shape != avail.shape:
        raise InputError(
            f"background mean fill needs colours (T, H, W, 3) with avail and depth (T, H, W); "
            f"got {colors.shape}, {avail.shape}, {depth.shape}"
        )
    if not 0.0 < depth_tolerance < 1.0 or int(max_layers) < 1:
        raise InputError(
            f"background mean fill needs 0 < depth_tolerance < 1 and max_layers >= 1; got {depth_tolerance!r}, {max_layers!r}"
        )
    out = np.array(colors[t, y, x], np.float32, copy=True)
    step = -np.log(1.0 - depth_tolerance)
    for frame in np.unique(t):
        sel = np.flatnonzero(t == frame)
        level = np.floor(np.log(np.maximum(z_bg[sel], 1e-6)) / step)
        span = level.max() - level.min() + 1
        if span > max_layers:
            level = np.floor((level - level.min()) * max_layers / span)
        readable_all = avail[frame] if hide is None else avail[frame] & ~hide[frame]
        for layer in np.unique(level):
            mine = sel[level == layer]
            floor = (1.0 - depth_tolerance) * float(z_bg[mine].min())
            readable = readable_all & (depth[frame] >= floor)
            if readable.any():
                out[mine] = _push_pull(colors[frame], readable)[y[mine], x[mine]]
    return out
