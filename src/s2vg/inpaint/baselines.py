"""Simple inpainters that give the quality numbers a floor (issue 5's comparison).

- ``black``: leaves every unknown pixel at 0.
- ``telea``: OpenCV's Telea inpainting of each frame of each view on its own.
- ``nearest-background``: each hole pixel copies the nearer-to-it end of its row's hole
  run on the background (farther) side, frame by frame, with no temporal or cross-view
  propagation and no smoothing.

Like every inpainter they keep ``known`` as it came and never change a known pixel.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from s2vg.errors import InputError, OptionError
from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.inpaint.classical.rowfill import nearest_background_values
from s2vg.inpaint.classical.scan import find_anchors
from s2vg.progress import SILENT, Progress


def _arrays(matrix: FrameMatrix, who: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not isinstance(matrix, FrameMatrix):
        raise InputError(f"the {who} inpainter needs a FrameMatrix; got {type(matrix).__name__}")
    colors = matrix.colors.detach().to("cpu", torch.float32).numpy().copy()
    known = matrix.known.detach().cpu().numpy().astype(bool)
    depth = matrix.depth.detach().to("cpu", torch.float32).numpy().copy()
    return colors, known, depth


def _result(matrix: FrameMatrix, colors: np.ndarray, depth: np.ndarray | None = None) -> FrameMatrix:
    # Known pixels come from the input itself, so no dtype round trip touches them.
    known = matrix.known.to(matrix.colors.device)
    filled = torch.from_numpy(colors).to(matrix.colors.device, matrix.colors.dtype)
    changes: dict[str, torch.Tensor] = {"colors": torch.where(known[..., None], matrix.colors, filled)}
    if depth is not None:
        filled_depth = torch.from_numpy(depth).to(matrix.depth.device, matrix.depth.dtype)
        changes["depth"] = torch.where(known, matrix.depth, filled_depth)
    return matrix.replace(**changes)


class BlackInpainter:
    """Leaves holes black: every unknown pixel's colour is set to 0 (depth untouched)."""

    name = "black"

    def __call__(self, matrix: FrameMatrix, progress: Progress = SILENT) -> FrameMatrix:
        colors, known, _ = _arrays(matrix, self.name)
        colors[~known] = 0.0
        return _result(matrix, colors)


class TeleaInpainter:
    """OpenCV's Telea inpainting (``cv2.inpaint``) of every frame of every view, independently.

    Args:
        radius: neighbourhood radius in pixels of the inpainting; defaults to 3.
    """

    name = "telea"

    def __init__(self, radius: float = 3.0) -> None:
        if not np.isfinite(radius) or radius <= 0:
            raise OptionError(f"telea radius must be a positive number of pixels; got {radius!r}")
        self.radius = float(radius)

    def __call__(self, matrix: FrameMatrix, progress: Progress = SILENT) -> FrameMatrix:
        colors, known, _ = _arrays(matrix, self.name)
        todo = [(v, t) for v in range(known.shape[0]) for t in range(known.shape[1]) if not known[v, t].all()]
        with progress.stage("telea fill", total=len(todo), unit="frame") as bar:
            for v, t in todo:
                hole = ~known[v, t]
                if hole.all():
                    colors[v, t] = 0.5  # nothing to inpaint from
                else:
                    image = np.clip(colors[v, t] * 255.0 + 0.5, 0, 255).astype(np.uint8)
                    filled = cv2.inpaint(image, hole.astype(np.uint8), self.radius, cv2.INPAINT_TELEA)
                    colors[v, t][hole] = filled[hole].astype(np.float32) / 255.0
                bar.update(1)
        return _result(matrix, colors)


class NearestBackgroundInpainter:
    """Per-frame fill from the background-side end of each row's hole run (no propagation).

    Depth of a filled pixel is the depth of the end it copied. Rows with no known pixel
    take the colour of the nearest filled row above or below.
    """

    name = "nearest-background"

    def __call__(self, matrix: FrameMatrix, progress: Progress = SILENT) -> FrameMatrix:
        colors, known, depth = _arrays(matrix, self.name)
        depth[~known] = 0.0
        with progress.stage("nearest-background fill", total=known.shape[0], unit="view") as bar:
            for v in range(known.shape[0]):
                avail = known[v].copy()
                # Rows first; then columns for rows that had nothing to copy from.
                passes = (
                    (colors[v], depth[v], avail),
                    (colors[v].swapaxes(1, 2), depth[v].swapaxes(1, 2), avail.swapaxes(1, 2)),
                )
                for c, d, av in passes:
                    if av.all():
                        break
                    anchors = find_anchors(av, d, same_surface_ratio=0.0)
                    anchors = anchors.subset(anchors.has_anchor)
                    c[anchors.t, anchors.y, anchors.x] = nearest_background_values(c, anchors)
                    d[anchors.t, anchors.y, anchors.x] = anchors.depth
                    av[anchors.t, anchors.y, anchors.x] = True
                colors[v][~avail] = 0.5  # frames with no known pixel at all
                bar.update(1)
        return _result(matrix, colors, depth)
