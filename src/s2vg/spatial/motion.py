"""Scene flow of the source view: how each pixel's 3D point moves between frames.

Optical flow (OpenCV DIS) between consecutive frames gives each pixel's match; its depth
there lifts both ends to 3D. A match counts when the backward flow returns within
``consistency_px`` of the start and the depth changes by less than ``depth_ratio``.
The velocity of a pixel is the mean of its forward and backward 3D displacements, per
unit of time, in the source camera's frame (which is the world).

It seeds the per-Gaussian velocity of :mod:`s2vg.spatial.gaussians`, so that the
per-frame copies of a moving object meet half-way between frames instead of fading.
"""

from __future__ import annotations

import cv2
import numpy as np


def _gray(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor((np.clip(frame, 0, 1) * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2GRAY)


def _lift(uv: np.ndarray, depth: np.ndarray, K: np.ndarray) -> np.ndarray:
    """``(..., 2)`` pixels with ``(...)`` depth -> ``(..., 3)`` camera points."""
    x = (uv[..., 0] - K[0, 2]) * depth / K[0, 0]
    y = (uv[..., 1] - K[1, 2]) * depth / K[1, 1]
    return np.stack([x, y, depth], axis=-1)


def _displacement(flow_ab, flow_ba, depth_a, depth_b, K, grid, consistency_px, depth_ratio):
    """3D displacement of every pixel of frame a to its match in frame b, and where it is trusted."""
    h, w = depth_a.shape
    target = grid + flow_ab
    back = cv2.remap(flow_ba, target, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    z_b = cv2.remap(depth_b, target, None, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
    inside = (target[..., 0] >= 0) & (target[..., 0] <= w - 1) & (target[..., 1] >= 0) & (target[..., 1] <= h - 1)
    consistent = np.linalg.norm(flow_ab + back, axis=-1) <= consistency_px
    ok = inside & consistent & (depth_a > 0) & (z_b > 0) & (np.abs(z_b / np.maximum(depth_a, 1e-9) - 1) <= depth_ratio)
    moved = _lift(target, z_b, K) - _lift(grid, depth_a, K)
    return moved, ok


def source_velocity(
    frames: np.ndarray,
    depth_m: np.ndarray,
    K: np.ndarray,
    times: np.ndarray,
    *,
    consistency_px: float = 1.0,
    depth_ratio: float = 0.1,
) -> np.ndarray:
    """Per-pixel 3D velocity of a clip.

    Args:
        frames: ``(T, H, W, 3)`` float32 in [0, 1].
        depth_m: ``(T, H, W)`` float32 depth in metres.
        K: ``(3, 3)`` intrinsics.
        times: ``(T,)`` time of each frame (frames).

    Returns:
        ``(T, H, W, 3)`` float32 metres per unit of time; zeros where no direction gives a
        trusted match (and everywhere for a single frame, or frames under 16 pixels,
        too small for DIS's patches).
    """
    t_count, h, w, _ = frames.shape
    velocity = np.zeros((t_count, h, w, 3), np.float32)
    if t_count < 2 or min(h, w) < 16:
        return velocity
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    gray = [_gray(f) for f in frames]
    cols, rows = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    grid = np.stack([cols, rows], axis=-1)
    K = np.asarray(K, np.float32)
    depth_m = np.asarray(depth_m, np.float32)
    total = np.zeros((t_count, h, w, 3), np.float32)
    count = np.zeros((t_count, h, w), np.float32)
    for t in range(t_count - 1):
        dt = float(times[t + 1] - times[t])
        fwd = dis.calc(gray[t], gray[t + 1], None)
        bwd = dis.calc(gray[t + 1], gray[t], None)
        moved, ok = _displacement(fwd, bwd, depth_m[t], depth_m[t + 1], K, grid, consistency_px, depth_ratio)
        total[t] += np.where(ok[..., None], moved / dt, 0)
        count[t] += ok
        moved, ok = _displacement(bwd, fwd, depth_m[t + 1], depth_m[t], K, grid, consistency_px, depth_ratio)
        total[t + 1] += np.where(ok[..., None], -moved / dt, 0)
        count[t + 1] += ok
    np.divide(total, np.maximum(count, 1)[..., None], out=velocity)
    return velocity
