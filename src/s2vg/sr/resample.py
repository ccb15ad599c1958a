"""Resampling pieces of stereo super-resolution: the interpolating upscaler, the
degradation model, and warping by a dense displacement.

All frames are ``(H, W, 3)`` float32 in [0, 1] (numpy, OpenCV underneath). Pixel centres
are at integer coordinates; OpenCV's resize aligns low- and high-resolution centres
(``x_low = (x_high + 0.5) / s - 0.5``).
"""

from __future__ import annotations

import cv2
import numpy as np

_INTERPOLATION = {"lanczos": cv2.INTER_LANCZOS4, "cubic": cv2.INTER_CUBIC}


def interpolate(frame: np.ndarray, scale: int, method: str = "lanczos") -> np.ndarray:
    """``(H, W, C)`` -> ``(sH, sW, C)`` by Lanczos-4 or bicubic interpolation, clipped to [0, 1]."""
    h, w = frame.shape[:2]
    out = cv2.resize(frame, (w * scale, h * scale), interpolation=_INTERPOLATION[method])
    return np.clip(out, 0.0, 1.0).reshape(h * scale, w * scale, *frame.shape[2:])


def sharpen(frame: np.ndarray, amount: float, scale: int) -> np.ndarray:
    """Unsharp mask: ``frame + amount * (frame - gaussian(frame))`` with sigma ``scale / 2``
    pixels (the blur an interpolating upscaler leaves), clipped to [0, 1]."""
    if amount <= 0:
        return frame
    blurred = cv2.GaussianBlur(frame, (0, 0), sigmaX=scale / 2.0)
    return np.clip(frame + amount * (frame - blurred), 0.0, 1.0)


def downscale(frame: np.ndarray, scale: int) -> np.ndarray:
    """The degradation model: ``(sH, sW, C)`` -> ``(H, W, C)`` by area averaging (box filter)."""
    h, w = frame.shape[0] // scale, frame.shape[1] // scale
    out = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
    return out.reshape(h, w, *frame.shape[2:])


def upscale_field(field: np.ndarray, scale: int, nearest: bool = False) -> np.ndarray:
    """A per-pixel field ``(H, W)`` or ``(H, W, C)`` at ``s`` times the resolution (bilinear,
    or nearest for masks); values are not rescaled."""
    h, w = field.shape[:2]
    mode = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    return cv2.resize(field, (w * scale, h * scale), interpolation=mode).reshape(h * scale, w * scale, *field.shape[2:])


def warp(frame: np.ndarray, dx: np.ndarray, dy: np.ndarray | None = None) -> np.ndarray:
    """Backward warp: ``out(x, y) = frame(x + dx(x, y), y + dy(x, y))`` (Lanczos-4, which
    blurs less than bicubic when a frame is warped again every frame; edges replicated),
    clipped to [0, 1]."""
    h, w = dx.shape
    xs = np.arange(w, dtype=np.float32)[None, :] + dx.astype(np.float32)
    ys = np.broadcast_to(np.arange(h, dtype=np.float32)[:, None], (h, w))
    if dy is not None:
        ys = ys + dy.astype(np.float32)
    out = cv2.remap(frame, xs, np.ascontiguousarray(ys, dtype=np.float32), cv2.INTER_LANCZOS4, borderMode=cv2.BORDER_REPLICATE)
    return np.clip(out, 0.0, 1.0).reshape(frame.shape)


def back_project(estimate: np.ndarray, low: np.ndarray, scale: int, iterations: int, method: str = "lanczos",
                 frozen: np.ndarray | None = None) -> np.ndarray:
    """Iterative back-projection: pull ``estimate`` ``(sH, sW, 3)`` towards agreeing with its
    low-resolution frame ``low`` ``(H, W, 3)`` under :func:`downscale`.

    Each iteration adds the interpolated low-resolution residual. ``frozen`` ``(sH, sW)``
    float in [0, 1] is how much each pixel is held fixed (1 = unchanged), for pixels that
    carry a condition to keep exactly.
    """
    for _ in range(iterations):
        residual = interpolate_signed(low - downscale(estimate, scale), scale, method)
        if frozen is not None:
            residual = residual * (1.0 - frozen)[..., None]
        estimate = np.clip(estimate + residual, 0.0, 1.0)
    return estimate


def interpolate_signed(field: np.ndarray, scale: int, method: str = "lanczos") -> np.ndarray:
    """:func:`interpolate` without clipping (for residuals)."""
    h, w = field.shape[:2]
    return cv2.resize(field, (w * scale, h * scale), interpolation=_INTERPOLATION[method]).reshape(
        h * scale, w * scale, *field.shape[2:])
