"""Layered scenes rendered in closed form from any parallel camera, for the classical fill.

A scene is a stack of fronto-parallel textured layers. A layer at depth z seen by a
camera displaced by (cx, cy) metres shows, at pixel (x, y), its texture at
(x + f*cx/z - vx*t, y + f*cy/z - vy*t) (texture coordinates of the source camera at
t = 0, moving with the layer's velocity in px/frame). Choosing f*b/z as whole pixels
makes the rendered views equal to a nearest-pixel forward warp, so the true colour of
every disoccluded pixel is known exactly. Used by tests/test_classical*.py (loaded by
path) and benchmarks/classical_fill.py; the foreground is red and the background has
little red, so foreground smeared into a hole is easy to count.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.geometry.rig import CameraRig

MARGIN = 256  # texture pixels beyond the frame on every side


@dataclass(frozen=True)
class Layer:
    """One fronto-parallel layer.

    Attributes:
        depth_m: depth in metres.
        texture: ``(H + 2*MARGIN, W + 2*MARGIN, 3)`` float32 in [0, 1]; texture pixel
            (u + MARGIN, v + MARGIN) shows at source pixel (u, v) at t = 0.
        rect: (x0, y0, x1, y1) support in texture coordinates (half-open), or None for a
            layer that covers everything.
        velocity: (vx, vy) in source pixels per frame.
    """

    depth_m: float
    texture: np.ndarray
    rect: tuple[int, int, int, int] | None = None
    velocity: tuple[float, float] = (0.0, 0.0)


def smooth_texture(
    rng: np.random.Generator, height: int, width: int, low: tuple, high: tuple, sigma: float
) -> np.ndarray:
    """``(H + 2*MARGIN, W + 2*MARGIN, 3)`` float32 smooth random texture with channel c in [low[c], high[c]]."""
    noise = rng.standard_normal((height + 2 * MARGIN, width + 2 * MARGIN, 3)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), sigma)
    noise = (noise - noise.min(axis=(0, 1))) / (np.ptp(noise, axis=(0, 1)) + 1e-8)
    low_a, high_a = np.asarray(low, np.float32), np.asarray(high, np.float32)
    return (low_a + noise * (high_a - low_a)).astype(np.float32)


def render(
    layers: list[Layer], cam: tuple[float, float], t: int, height: int, width: int, focal: float
) -> tuple[np.ndarray, np.ndarray]:
    """Colours ``(H, W, 3)`` float32 and depth ``(H, W)`` float32 seen by a camera at ``cam``
    (metres) at frame ``t``."""
    ys, xs = np.mgrid[0:height, 0:width]
    colors = np.zeros((height, width, 3), np.float32)
    depth = np.zeros((height, width), np.float32)
    for layer in sorted(layers, key=lambda l: -l.depth_m):
        u = np.rint(xs + focal * cam[0] / layer.depth_m - layer.velocity[0] * t).astype(np.int64)
        v = np.rint(ys + focal * cam[1] / layer.depth_m - layer.velocity[1] * t).astype(np.int64)
        cover = np.ones((height, width), bool)
        if layer.rect is not None:
            x0, y0, x1, y1 = layer.rect
            cover = (u >= x0) & (u < x1) & (v >= y0) & (v < y1)
        uc = np.clip(u + MARGIN, 0, layer.texture.shape[1] - 1)
        vc = np.clip(v + MARGIN, 0, layer.texture.shape[0] - 1)
        colors[cover] = layer.texture[vc[cover], uc[cover]]
        depth[cover] = layer.depth_m
    return colors, depth


def two_layer_scene(
    height: int, width: int, *, seed: int = 0, fg_velocity: float = 0.0, far: float = 8.0, near: float = 2.0
) -> list[Layer]:
    """A red textured rectangle at ``near`` metres in front of a blue-green background at ``far``."""
    rng = np.random.default_rng(seed)
    bg = smooth_texture(rng, height, width, (0.0, 0.2, 0.3), (0.3, 0.9, 0.9), sigma=4.0)
    fg = smooth_texture(rng, height, width, (0.7, 0.0, 0.0), (1.0, 0.3, 0.3), sigma=2.0)
    rect = (width // 3, height // 4, width // 3 + width // 4, 3 * height // 4)
    return [Layer(far, bg), Layer(near, fg, rect, (fg_velocity, 0.0))]


@dataclass(frozen=True)
class RenderedCase:
    """A frame matrix built by the project's geometry and the true views.

    Attributes:
        matrix: the warped :class:`FrameMatrix` (holes unknown).
        truth: ``(V, T, H, W, 3)`` float32 true colours of every view.
        truth_depth: ``(V, T, H, W)`` float32 true depth.
    """

    matrix: FrameMatrix
    truth: np.ndarray
    truth_depth: np.ndarray


def render_case(
    layers: list[Layer],
    offsets: np.ndarray,
    frames: int,
    height: int,
    width: int,
    focal: float,
    *,
    pan: float = 0.0,
    cleanup: bool = False,
    mode: str = "left2right",
) -> RenderedCase:
    """Render the source video, warp it into the rig with the project's geometry, render the truth.

    Args:
        offsets: ``(V, 2)`` view positions (x, y) in metres; the row equal to (0, 0) is the source.
        pan: camera translation along x in metres per frame (all views move together).
        cleanup: run the multi-plane cleanup of the geometry stage.
    """
    from s2vg.geometry.build import build_frame_matrix

    offsets = np.asarray(offsets, np.float64)
    views = offsets.shape[0]
    truth = np.zeros((views, frames, height, width, 3), np.float32)
    truth_depth = np.zeros((views, frames, height, width), np.float32)
    for v in range(views):
        for t in range(frames):
            truth[v, t], truth_depth[v, t] = render(
                layers, (pan * t + offsets[v, 0], offsets[v, 1]), t, height, width, focal
            )
    src = int(np.flatnonzero(np.all(offsets == 0.0, axis=1))[0])
    positions = np.concatenate([offsets, np.zeros((views, 1))], axis=1)
    rig = CameraRig(width=width, height=height, focal=focal, positions=positions, mode=mode)
    matrix = build_frame_matrix(torch.from_numpy(truth[src]), torch.from_numpy(truth_depth[src]), rig, cleanup=cleanup)
    return RenderedCase(matrix, truth, truth_depth)
