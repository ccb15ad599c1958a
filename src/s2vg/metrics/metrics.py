"""Quality measures with and without ground truth: PSNR, SSIM, flicker, left-right consistency, depth error.

Conventions: images and videos are ``(..., H, W, 3)`` float arrays in [0, 1] (numpy, or
torch tensors, converted on entry); masks are ``(..., H, W)`` bool and select the pixels a
measure is taken over (every channel of a selected pixel counts). Flow is *backward*:
``flow[t]`` ``(H, W, 2)`` holds, for each pixel of frame t, the displacement (dx, dy) in
pixels to where that surface point was in frame t-1.

- PSNR pools the squared error over all selected pixels and channels first (one MSE per
  call), so it is +inf exactly when the selected pixels are identical.
- SSIM is OpenCV contrib's ``cv2.quality.QualitySSIM`` (Wang et al. 2004: Gaussian window
  11 x 11, sigma 1.5, K1 = 0.01, K2 = 0.03, on 8-bit-scaled values), whose per-pixel map
  is averaged over the three channels and then over the selected pixels.
- Flicker is the mean absolute frame-to-frame change (over channels) of the selected
  pixels after motion compensation: ``|I_t(x) - I_{t-1}(x + flow_t(x))|``, with bilinear
  sampling of frame t-1, over pixels selected in frame t whose flow is valid.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from s2vg.errors import InputError, OptionError


def as_numpy(x: Any, dtype: type = np.float32) -> np.ndarray:
    """A numpy copy-free view of a numpy array or a (CPU/GPU) torch tensor, as ``dtype``."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def _pair(result: Any, truth: Any) -> tuple[np.ndarray, np.ndarray]:
    a, b = as_numpy(result, np.float64), as_numpy(truth, np.float64)
    if a.shape != b.shape:
        raise InputError(f"result has shape {a.shape} but the truth has {b.shape}; compare images of the same size")
    return a, b


def _mask(mask: Any, shape: tuple[int, ...]) -> np.ndarray | None:
    """Check a pixel mask against an image shape (..., H, W, C) or (..., H, W)."""
    if mask is None:
        return None
    m = as_numpy(mask, bool)
    if m.shape != shape[: m.ndim] or m.ndim < len(shape) - 1:
        raise InputError(f"mask has shape {m.shape}; expected {shape[:-1]} for images of shape {shape}")
    return m


def mse(result: Any, truth: Any, mask: Any | None = None) -> float:
    """Mean squared error over the selected pixels (all channels); NaN when nothing is selected."""
    a, b = _pair(result, truth)
    sq = (a - b) ** 2
    m = _mask(mask, a.shape)
    if m is not None:
        sq = sq[m]
    return float(sq.mean()) if sq.size else math.nan


def psnr(result: Any, truth: Any, mask: Any | None = None, peak: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB, ``10 log10(peak^2 / MSE)``.

    Args:
        result, truth: ``(..., H, W, C)`` arrays of the same shape.
        mask: optional ``(..., H, W)`` bool (or a leading part of that shape) of pixels to score.
        peak: largest possible value; defaults to 1.0.

    Returns:
        dB; ``inf`` for identical pixels, NaN when the mask selects nothing.
    """
    err = mse(result, truth, mask)
    if math.isnan(err):
        return math.nan
    if err == 0.0:
        return math.inf
    return float(10.0 * math.log10(peak * peak / err))


def ssim_map(result: Any, truth: Any) -> np.ndarray:
    """Per-pixel SSIM ``(..., H, W)`` float64 of images ``(..., H, W, 3)`` in [0, 1] (channel mean).

    Uses ``cv2.quality.QualitySSIM_compute`` frame by frame on values scaled to [0, 255],
    the range its constants assume.
    """
    a, b = _pair(result, truth)
    lead, (h, w, c) = a.shape[:-3], a.shape[-3:]
    a2, b2 = a.reshape(-1, h, w, c) * 255.0, b.reshape(-1, h, w, c) * 255.0
    out = np.empty((a2.shape[0], h, w), np.float64)
    for i in range(a2.shape[0]):
        _, quality = cv2.quality.QualitySSIM_compute(a2[i].astype(np.float32), b2[i].astype(np.float32))
        out[i] = np.asarray(quality).reshape(h, w, -1)[..., :c].mean(axis=-1)
    return out.reshape(*lead, h, w)


def ssim(result: Any, truth: Any, mask: Any | None = None) -> float:
    """Mean SSIM over the selected pixels (all pixels without a mask); 1.0 for identical images.

    Args:
        result, truth: ``(..., H, W, 3)`` in [0, 1].
        mask: optional ``(..., H, W)`` bool.
    """
    smap = ssim_map(result, truth)
    m = _mask(mask, smap.shape + (1,))
    values = smap if m is None else smap[m]
    return float(values.mean()) if values.size else math.nan


# ---------------------------------------------------------------- motion and flicker


def _gray_u8(frames: np.ndarray) -> np.ndarray:
    luma = frames @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.clip(luma * 255.0 + 0.5, 0, 255).astype(np.uint8)


def estimate_backward_flow(frames: Any, *, consistency_px: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Backward optical flow of a clip (OpenCV DIS, medium preset) and where it is reliable.

    Args:
        frames: ``(T, H, W, 3)`` in [0, 1].
        consistency_px: largest forward-backward round-trip error in pixels of a reliable
            flow vector; defaults to 1.

    Returns:
        ``flow`` ``(T, H, W, 2)`` float32 (frame t to frame t-1; frame 0 zeros) and
        ``valid`` ``(T, H, W)`` bool (inside frame t-1 and round-trip consistent; frame 0 False).
    """
    video = as_numpy(frames)
    if video.ndim != 4 or video.shape[-1] != 3:
        raise InputError(f"frames must be (T, H, W, 3); got shape {video.shape}")
    t, h, w, _ = video.shape
    gray = _gray_u8(video)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    grid = np.stack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)), axis=-1)
    flow = np.zeros((t, h, w, 2), np.float32)
    valid = np.zeros((t, h, w), bool)
    for i in range(1, t):
        back = dis.calc(gray[i], gray[i - 1], None)
        fwd = dis.calc(gray[i - 1], gray[i], None)
        coords = grid + back
        fwd_at = cv2.remap(fwd, coords, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        inside = (coords[..., 0] >= 0) & (coords[..., 0] <= w - 1) & (coords[..., 1] >= 0) & (coords[..., 1] <= h - 1)
        flow[i] = back
        valid[i] = inside & (np.linalg.norm(back + fwd_at, axis=-1) <= consistency_px)
    return flow, valid


def compensated_difference(frames: Any, flow: Any) -> tuple[np.ndarray, np.ndarray]:
    """``|I_t(x) - I_{t-1}(x + flow_t(x))|`` averaged over channels, and where it is defined.

    Args:
        frames: ``(T, H, W, 3)`` in [0, 1].
        flow: ``(T, H, W, 2)`` backward flow in pixels.

    Returns:
        ``diff`` ``(T, H, W)`` float32 (frame 0 zeros) and ``inside`` ``(T, H, W)`` bool
        (the sample point lies inside frame t-1; frame 0 False).
    """
    video, fl = as_numpy(frames), as_numpy(flow)
    if video.ndim != 4 or fl.shape != video.shape[:3] + (2,):
        raise InputError(f"flow must be (T, H, W, 2) for frames {video.shape}; got {fl.shape}")
    t, h, w, _ = video.shape
    grid = np.stack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)), axis=-1)
    diff = np.zeros((t, h, w), np.float32)
    inside = np.zeros((t, h, w), bool)
    for i in range(1, t):
        coords = grid + fl[i]
        prev = cv2.remap(np.ascontiguousarray(video[i - 1]), coords, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        diff[i] = np.abs(video[i] - prev).mean(axis=-1)
        inside[i] = (coords[..., 0] >= 0) & (coords[..., 0] <= w - 1) & (coords[..., 1] >= 0) & (coords[..., 1] <= h - 1)
    return diff, inside


def flicker(frames: Any, region: Any | None = None, flow: Any | None = None, valid: Any | None = None) -> float:
    """Motion-compensated temporal change of a clip inside a region (0 = perfectly steady).

    Args:
        frames: ``(T, H, W, 3)`` in [0, 1], T >= 2.
        region: ``(T, H, W)`` bool pixels to measure in each frame t >= 1 (e.g. the filled
            pixels); defaults to all.
        flow: ``(T, H, W, 2)`` backward flow; defaults to zero motion (a static camera).
        valid: ``(T, H, W)`` bool where the flow is trusted; defaults to everywhere the
            flow points inside the previous frame.

    Returns:
        mean absolute change in [0, 1] units; NaN when no pixel qualifies.
    """
    video = as_numpy(frames)
    if video.ndim != 4 or video.shape[0] < 2:
        raise InputError(f"flicker needs frames (T, H, W, 3) with T >= 2; got shape {video.shape}")
    fl = np.zeros(video.shape[:3] + (2,), np.float32) if flow is None else flow
    diff, inside = compensated_difference(video, fl)
    use = inside
    if region is not None:
        use = use & as_numpy(region, bool)
    if valid is not None:
        use = use & as_numpy(valid, bool)
    return float(diff[use].mean()) if use.any() else math.nan


def flicker_against_truth(result: Any, truth: Any, region: Any, flow: Any, valid: Any | None = None) -> dict[str, float]:
    """Flicker of ``result`` and of ``truth`` over the same pixels and motion, and the excess.

    Returns:
        ``{"result": ..., "truth": ..., "excess": result - truth}`` in [0, 1] units.
    """
    f_result = flicker(result, region, flow, valid)
    f_truth = flicker(truth, region, flow, valid)
    return {"result": f_result, "truth": f_truth, "excess": f_result - f_truth}


# ---------------------------------------------------------------- stereo and depth


def lr_consistency(
    left: Any, right: Any, disparity_px: Any, *, valid: Any | None = None, interpolation: str = "linear"
) -> dict[str, float]:
    """How well the right image, sampled back through the left's disparity, reproduces the left.

    For every left pixel x that is visible in the right view (it wins its target pixel in
    a nearest-pixel z-buffer splat to ``x - d(x)``), compare ``left(x)`` with
    ``right(x - d(x))``. Occluded left pixels are not compared.

    Args:
        left, right: ``(T, H, W, 3)`` or ``(H, W, 3)`` in [0, 1].
        disparity_px: ``(T, H, W)`` or ``(H, W)`` non-negative disparity of the left image
            in pixels (the right view shows left pixel x at x - d).
        valid: optional mask of left pixels to consider.
        interpolation: ``"linear"`` (bilinear sampling, for real pairs) or ``"nearest"``
            (the pixel a nearest-pixel warp lands on, exact for s2vg's own warps);
            defaults to ``"linear"``.

    Returns:
        ``{"mae": mean absolute difference, "psnr": dB, "checked": fraction of pixels compared}``.
    """
    if interpolation not in ("linear", "nearest"):
        raise OptionError(f"interpolation must be linear or nearest; got {interpolation!r}")
    l_img, r_img = _pair(left, right)
    d = as_numpy(disparity_px, np.float64)
    if l_img.ndim == 3:
        l_img, r_img, d = l_img[None], r_img[None], d[None]
        valid = None if valid is None else as_numpy(valid, bool)[None]
    if d.shape != l_img.shape[:3] or not np.isfinite(d).all():
        raise InputError(f"disparity must be finite with shape {l_img.shape[:3]}; got {d.shape}")
    t, h, w, _ = l_img.shape
    xs = np.arange(w, dtype=np.float64)[None, None, :]
    target = xs - d
    col = np.rint(target).astype(np.int64)
    inside = (col >= 0) & (col < w)
    # Visible iff this pixel has the largest disparity (nearest) among those landing on its target pixel.
    rows = np.broadcast_to(np.arange(t * h).reshape(t, h, 1), d.shape)
    flat = np.where(inside, rows * w + col, t * h * w)
    best = np.full(t * h * w + 1, -np.inf)
    np.maximum.at(best, flat.reshape(-1), d.reshape(-1))
    visible = inside & (d >= best[flat])
    if valid is not None:
        visible &= as_numpy(valid, bool)
    map_x = (np.rint(target) if interpolation == "nearest" else target).astype(np.float32)
    map_y = np.broadcast_to(np.arange(h, dtype=np.float32)[:, None], (h, w))
    sampled = np.empty_like(l_img)
    for i in range(t):
        maps = np.ascontiguousarray(np.stack([map_x[i], map_y], axis=-1))
        mode = cv2.INTER_NEAREST if interpolation == "nearest" else cv2.INTER_LINEAR
        sampled[i] = cv2.remap(r_img[i].astype(np.float32), maps, None, mode, borderMode=cv2.BORDER_REPLICATE)
    err = np.abs(l_img - sampled)[visible]
    return {
        "mae": float(err.mean()) if err.size else math.nan,
        "psnr": psnr(sampled, l_img, visible),
        "checked": float(visible.mean()),
    }


def depth_error(estimate: Any, truth_m: Any, *, kind: str = "relative", mask: Any | None = None) -> dict[str, float]:
    """Error of estimated depth against true metric depth.

    Args:
        estimate: ``(..., H, W)``: relative inverse depth (``kind="relative"``, larger =
            nearer, unknown scale and shift) or metres (``kind="metric"``).
        truth_m: ``(..., H, W)`` true depth in metres, > 0.
        kind: ``"relative"`` aligns the estimate to the true inverse depth with the
            least-squares scale and shift (as depth benchmarks do for relative models)
            and converts it to depth; ``"metric"`` compares as given.
        mask: optional pixels to score.

    Returns:
        ``{"abs_rel": mean |z - z*| / z*, "rmse_m": root mean square error in metres,
        "delta1": fraction with max(z/z*, z*/z) < 1.25}``.
    """
    est, gt = as_numpy(estimate, np.float64), as_numpy(truth_m, np.float64)
    if est.shape != gt.shape:
        raise InputError(f"depth estimate has shape {est.shape} but the true depth has {gt.shape}")
    m = np.isfinite(est) & np.isfinite(gt) & (gt > 0)
    if mask is not None:
        m &= as_numpy(mask, bool)
    if kind == "relative":
        inv_gt = 1.0 / gt[m]
        design = np.stack([est[m], np.ones_like(est[m])], axis=1)
        (scale, shift), *_ = np.linalg.lstsq(design, inv_gt, rcond=None)
        inv = scale * est[m] + shift
        z = 1.0 / np.clip(inv, 1.0 / (gt[m].max() * 10.0), None)
    elif kind == "metric":
        z = est[m]
    else:
        raise OptionError(f"depth error kind must be relative or metric; got {kind!r}")
    g = gt[m]
    ratio = np.maximum(z / g, g / np.maximum(z, 1e-12))
    return {
        "abs_rel": float(np.mean(np.abs(z - g) / g)),
        "rmse_m": float(np.sqrt(np.mean((z - g) ** 2))),
        "delta1": float(np.mean(ratio < 1.25)),
    }
