"""Chunk seams: do consecutive frames jump more at chunk boundaries than inside chunks?

A video converted in chunks can show a periodic flash or a jump of the 3D effect where
one chunk ends and the next begins. Two measures per pair of consecutive frames
``(t - 1, t)``:

* colour jump: the mean absolute change of the frame's mean R, G and B (frames in [0, 1]);
* disparity jump: the absolute change of the frame's mean disparity in pixels between
  the two eyes (measured with DIS optical flow from the left eye to the right eye, so it
  needs only the output video).

Pairs where ``t`` starts a chunk are *boundary* pairs, the others *interior* pairs. A seam
shows when a boundary jump stands out of the interior ones; :class:`SeamReport` says
whether every boundary jump lies within the spread (the range) of the interior jumps and
gives their z-scores. Scene cuts make large interior jumps too; measure clips without
cuts, or read the numbers with that in mind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


@dataclass(frozen=True)
class SeamStats:
    """One measure's jumps.

    Attributes:
        boundary: ``(B,)`` jumps of the pairs that cross a chunk boundary.
        interior: ``(P,)`` jumps of the pairs inside chunks.
    """

    boundary: np.ndarray
    interior: np.ndarray

    @property
    def within_spread(self) -> bool:
        """Every boundary jump is at most the largest interior jump."""
        if not len(self.boundary) or not len(self.interior):
            return True
        return bool(self.boundary.max() <= self.interior.max())

    def z_scores(self) -> np.ndarray:
        """``(B,)`` boundary jumps in interior standard deviations above the interior mean."""
        std = float(self.interior.std()) if len(self.interior) > 1 else 0.0
        return (self.boundary - float(self.interior.mean() if len(self.interior) else 0.0)) / max(std, 1e-12)

    def as_dict(self) -> dict:
        interior = self.interior
        return {
            "boundary": [round(float(v), 6) for v in self.boundary],
            "boundary_max": round(float(self.boundary.max()), 6) if len(self.boundary) else None,
            "interior_mean": round(float(interior.mean()), 6) if len(interior) else None,
            "interior_std": round(float(interior.std()), 6) if len(interior) else None,
            "interior_max": round(float(interior.max()), 6) if len(interior) else None,
            "boundary_z": [round(float(z), 3) for z in self.z_scores()] if len(interior) else [],
            "within_spread": self.within_spread,
        }


@dataclass(frozen=True)
class SeamReport:
    """Seam measures of one video.

    Attributes:
        boundaries: frame indices that start a chunk (frame 0 excluded).
        colour: jumps of the mean colour.
        disparity: jumps of the mean disparity in pixels, or None when not measured.
    """

    boundaries: tuple[int, ...]
    colour: SeamStats
    disparity: SeamStats | None = None

    @property
    def within_spread(self) -> bool:
        """No measure shows a boundary jump beyond the interior ones."""
        return self.colour.within_spread and (self.disparity is None or self.disparity.within_spread)

    def as_dict(self) -> dict:
        return {
            "boundaries": list(self.boundaries),
            "colour": self.colour.as_dict(),
            "disparity": None if self.disparity is None else self.disparity.as_dict(),
            "within_spread": self.within_spread,
        }


def chunk_boundaries(frames: int, chunk_frames: int) -> list[int]:
    """Frames that start a chunk of ``chunk_frames`` in a video of ``frames`` frames (0 excluded)."""
    return list(range(chunk_frames, frames, chunk_frames))


def mean_colour(frames: np.ndarray) -> np.ndarray:
    """``(T, 3)`` float64 mean R, G, B of frames ``(T, H, W, 3)`` in [0, 1]."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must have shape (T, H, W, 3); got {frames.shape}")
    return frames.reshape(len(frames), -1, 3).mean(axis=1, dtype=np.float64)


class _DisparityMeter:
    """Mean horizontal disparity (pixels) from the left eye to the right eye, by DIS flow."""

    def __init__(self) -> None:
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)

    def __call__(self, left: np.ndarray, right: np.ndarray) -> float:
        gray = [cv2.cvtColor(np.clip(eye * 255.0 + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY) for eye in (left, right)]
        flow = self._dis.calc(gray[0], gray[1], None)
        # A point of the left eye appears flow_x pixels further right in the right eye;
        # disparity (left x - right x) is its negative: positive for content nearer than infinity.
        return float(-flow[..., 0].mean())


def mean_disparity(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``(T,)`` float64 mean disparity in pixels of each frame of a stereo pair.

    Args:
        left, right: ``(T, H, W, 3)`` float32 eyes in [0, 1].
    """
    left, right = np.asarray(left, np.float32), np.asarray(right, np.float32)
    if left.shape != right.shape or left.ndim != 4:
        raise ValueError(f"left and right eyes must both be (T, H, W, 3); got {left.shape} and {right.shape}")
    meter = _DisparityMeter()
    return np.array([meter(a, b) for a, b in zip(left, right)], np.float64)


def _split(values: np.ndarray, boundaries: Iterable[int]) -> SeamStats:
    """Jumps between consecutive entries of ``values`` ``(T,)`` or ``(T, C)``, split at boundaries."""
    values = np.asarray(values, np.float64)
    jumps = np.abs(np.diff(values, axis=0))
    if jumps.ndim == 2:
        jumps = jumps.mean(axis=1)
    starts = {int(b) for b in boundaries if 0 < int(b) < len(values)}
    at_boundary = np.array([t + 1 in starts for t in range(len(jumps))], bool)
    return SeamStats(boundary=jumps[at_boundary], interior=jumps[~at_boundary])


def seam_measure(frames: np.ndarray, boundaries: Sequence[int], disparity: np.ndarray | None = None) -> SeamReport:
    """Colour (and disparity) jumps at chunk boundaries against those inside chunks.

    Args:
        frames: ``(T, H, W, 3)`` float32 in [0, 1]: the output frames (or one eye).
        boundaries: frame indices that start a chunk (e.g. :func:`chunk_boundaries`).
        disparity: ``(T,)`` mean disparity per frame in pixels (e.g. :func:`mean_disparity`),
            or None.

    Returns:
        A :class:`SeamReport`.
    """
    boundaries = tuple(sorted({int(b) for b in boundaries if 0 < int(b) < len(frames)}))
    colour = _split(mean_colour(frames), boundaries)
    return SeamReport(boundaries, colour, None if disparity is None else _split(disparity, boundaries))


#: How each stereo layout packs the eyes: (axis to split, left eye first).
_EYES = {"sbs": (1, True), "half-sbs": (1, True), "cross": (1, False), "tb": (0, True), "half-tb": (0, True)}


def video_seams(path: str | Path, chunk_frames: int, layout: str = "sbs") -> SeamReport:
    """The seam measures of a converted video file, read frame by frame (bounded memory).

    Args:
        path: the converted video (or image folder).
        chunk_frames: the chunk size it was converted with (``s2vg convert --chunk-frames``).
        layout: its stereo layout; the eyes of ``sbs``, ``half-sbs``, ``cross``, ``tb`` and
            ``half-tb`` are split to measure disparity (half layouts in squeezed pixels);
            other layouts get the colour measure only.

    Returns:
        A :class:`SeamReport` over the whole frame (both eyes).
    """
    from s2vg.io import iter_frames

    colours, disparities = [], []
    meter = _DisparityMeter() if layout in _EYES else None
    for frame in iter_frames(path):
        colours.append(frame.reshape(-1, 3).mean(axis=0, dtype=np.float64))
        if meter is not None:
            axis, left_first = _EYES[layout]
            half = frame.shape[axis] // 2
            first, second = (frame[:, :half], frame[:, half : 2 * half]) if axis == 1 else (frame[:half], frame[half : 2 * half])
            left, right = (first, second) if left_first else (second, first)
            disparities.append(meter(left, right))
    colour = np.array(colours)
    boundaries = tuple(chunk_boundaries(len(colour), chunk_frames))
    return SeamReport(
        boundaries, _split(colour, boundaries), _split(np.array(disparities), boundaries) if disparities else None
    )
