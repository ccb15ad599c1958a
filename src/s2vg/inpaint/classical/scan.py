"""Hole runs along the scan axis and the background side of each hole pixel.

Disocclusions of a parallel-camera rig are background revealed beside a nearer edge,
along the direction the camera moved. Each hole run (a maximal stretch of hole pixels
in a row; the scan axis is the last array axis) ends at an available pixel on each
side; the end with the larger depth is the background, and the fill is taken from
that side only. All functions work on flat
lists of hole pixels so that the cost follows the hole area, not the frame area.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class HoleAnchors:
    """Where the background of each hole pixel lies along its row.

    All arrays are flat, one entry per hole pixel, in C order of ``(T, H, W)``
    (so sorted by frame, then row, then position).

    Attributes:
        t, y, x: ``(N,)`` int64 frame, row and position along the scan axis.
        anchor: ``(N,)`` int64 position of the available pixel that ends the hole run on
            the background side (the farther of the two ends), -1 where the row has
            no available pixel at all.
        direction: ``(N,)`` int64, +1 when the anchor lies after the pixel (larger x),
            -1 when before; stepping from the anchor by ``direction`` moves away from the hole.
        depth: ``(N,)`` float32 depth at the anchor (0 where there is none).
        other: ``(N,)`` int64 position of the other end when both ends lie on the same
            surface (depths within the same-surface ratio), else -1; such pixels are
            interpolated between both ends (cracks, not disocclusions).
        other_depth: ``(N,)`` float32 depth at ``other`` (0 where unused).
        open_end: ``(N,)`` bool, True where the run reaches the end of the row (the strip a
            new view shows beyond the source's border, not a disocclusion).
    """

    t: np.ndarray
    y: np.ndarray
    x: np.ndarray
    anchor: np.ndarray
    direction: np.ndarray
    depth: np.ndarray
    other: np.ndarray
    other_depth: np.ndarray
    open_end: np.ndarray

    @property
    def count(self) -> int:
        return int(self.t.shape[0])

    @property
    def has_anchor(self) -> np.ndarray:
        return self.anchor >= 0

    def subset(self, keep: np.ndarray) -> "HoleAnchors":
        """The anchors of the hole pixels selected by the ``(N,)`` bool mask ``keep``."""
        return HoleAnchors(*(getattr(self, f)[keep] for f in _FIELDS))

    def background_depth(self) -> np.ndarray:
        """``(N,)`` float32 depth of the background at each hole pixel: the anchor's depth,
        or the linear interpolation between both ends where they are one surface."""
        two = self.other >= 0
        out = self.depth.copy()
        if two.any():
            span = np.abs(self.other[two] - self.anchor[two]).astype(np.float32)
            lam = np.abs(self.x[two] - self.anchor[two]).astype(np.float32) / span
            out[two] = (1.0 - lam) * self.depth[two] + lam * self.other_depth[two]
        return out


_FIELDS = ("t", "y", "x", "anchor", "direction", "depth", "other", "other_depth", "open_end")


def hole_runs(t: np.ndarray, y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split hole pixels into runs: maximal stretches of consecutive positions in one row.

    Args:
        t, y, x: ``(N,)`` int64 hole pixels in C order of ``(T, H, W)``.

    Returns:
        ``(run_of, first, last)``: ``(N,)`` run index of every pixel, and ``(R,)`` indices
        of the first and last pixel of every run.
    """
    n = t.shape[0]
    new_run = np.ones(n, dtype=bool)
    new_run[1:] = (t[1:] != t[:-1]) | (y[1:] != y[:-1]) | (x[1:] != x[:-1] + 1)
    first = np.flatnonzero(new_run)
    last = np.append(first[1:] - 1, n - 1).astype(first.dtype)
    return np.cumsum(new_run) - 1, first, last


def find_anchors(avail: np.ndarray, depth: np.ndarray, same_surface_ratio: float) -> HoleAnchors:
    """Background-side anchors of every unavailable pixel, scanning along the last axis.

    Args:
        avail: ``(T, H, W)`` bool, True where a pixel holds a value (real or already filled).
        depth: ``(T, H, W)`` float32 depth of the available pixels (ignored elsewhere).
        same_surface_ratio: two run ends whose depths differ by at most this fraction
            of the larger one count as one surface and are interpolated.

    Returns:
        The :class:`HoleAnchors` of the pixels where ``avail`` is False.
    """
    width = avail.shape[-1]
    t, y, x = np.nonzero(~avail)
    if t.shape[0] == 0:
        return HoleAnchors(t, y, x, x.copy(), x.copy(), np.zeros(0, np.float32), x.copy(), np.zeros(0, np.float32),
                           np.zeros(0, bool))
    run_of, first, last = hole_runs(t, y, x)
    # The pixels just before and after a run are available (or outside the row).
    r_t, r_y = t[first], y[first]
    lo = x[first] - 1
    hi = x[last] + 1
    has_lo = lo >= 0
    has_hi = hi < width
    z_lo = np.where(has_lo, depth[r_t, r_y, np.maximum(lo, 0)], np.float32(0.0)).astype(np.float32)
    z_hi = np.where(has_hi, depth[r_t, r_y, np.minimum(hi, width - 1)], np.float32(0.0)).astype(np.float32)
    # The background is the farther end (ties go after the run); a one-sided run takes its side.
    use_hi = has_hi & (~has_lo | (z_hi >= z_lo))
    anchor = np.where(use_hi, hi, np.where(has_lo, lo, -1))
    direction = np.where(use_hi, 1, -1).astype(np.int64)
    z_anchor = np.where(use_hi, z_hi, z_lo).astype(np.float32)
    same = has_lo & has_hi & (np.abs(z_lo - z_hi) <= same_surface_ratio * np.maximum(z_lo, z_hi))
    other = np.where(same, np.where(use_hi, lo, hi), -1)
    other_depth = np.where(same, np.where(use_hi, z_lo, z_hi), 0.0).astype(np.float32)
    open_end = ~has_lo | ~has_hi
    return HoleAnchors(
        t, y, x, anchor[run_of], direction[run_of], z_anchor[run_of], other[run_of], other_depth[run_of],
        open_end[run_of],
    )


@dataclass(frozen=True)
class BackgroundStretch:
    """The real background beside each of ``n`` hole pixels' runs, read once (and compared
    with other frames under several motions, :meth:`score`): positions ``x``, ``y``
    ``(n, R, K)`` (``R`` rows around the hole's, ``K`` pixels from ``start`` beyond its
    background end), ``ok`` where they are real and far enough, and their colours
    ``(n, R, K, 3)``. The arrays it reads are a view's, flattened over ``(T, H, W)``."""

    x: np.ndarray
    y: np.ndarray
    ok: np.ndarray
    colors: np.ndarray

    @classmethod
    def beside(cls, flat_c: np.ndarray, flat_k: np.ndarray, flat_d: np.ndarray, shape: tuple[int, int, int],
               anchors: HoleAnchors, idx: np.ndarray, z_min: np.ndarray, rows: tuple[int, ...],
               start: int, count: int) -> "BackgroundStretch":
        _, height, width = shape
        t, y, anchor, direction = anchors.t[idx], anchors.y[idx], anchors.anchor[idx], anchors.direction[idx]
        along = anchor[:, None, None] + direction[:, None, None] * np.arange(start, start + count)
        x1 = np.broadcast_to(along, (idx.size, len(rows), count))
        y1 = np.broadcast_to(y[:, None, None] + np.asarray(rows)[None, :, None], x1.shape)
        ok = (x1 >= 0) & (x1 < width) & (y1 >= 0) & (y1 < height)
        i1 = (t[:, None, None] * height + np.clip(y1, 0, height - 1)) * width + np.clip(x1, 0, width - 1)
        ok &= flat_k[i1] & (flat_d[i1] >= z_min[:, None, None])
        return cls(x1, y1, ok, flat_c[i1])

    def subset(self, sel: np.ndarray) -> "BackgroundStretch":
        return BackgroundStretch(self.x[sel], self.y[sel], self.ok[sel], self.colors[sel])

    def score(self, flat_c: np.ndarray, flat_k: np.ndarray, flat_d: np.ndarray, shape: tuple[int, int, int],
              s: np.ndarray, ux: np.ndarray, uy: np.ndarray, z_min: np.ndarray) -> np.ndarray:
        """``(n,)`` mean absolute colour difference between the stretch and the same pixels
        moved by ``(ux, uy)`` into frames ``s``, over the pixels real and at least ``z_min``
        far in both; inf where none is."""
        _, height, width = shape
        x2, y2 = self.x + ux[:, None, None], self.y + uy[:, None, None]
        ok = self.ok & (x2 >= 0) & (x2 < width) & (y2 >= 0) & (y2 < height)
        i2 = (s[:, None, None] * height + np.clip(y2, 0, height - 1)) * width + np.clip(x2, 0, width - 1)
        ok &= flat_k[i2] & (flat_d[i2] >= z_min[:, None, None])
        diff = np.abs(self.colors - flat_c[i2]).mean(axis=-1)
        n = ok.sum(axis=(1, 2))
        return np.where(n > 0, np.where(ok, diff, 0.0).sum(axis=(1, 2)) / np.maximum(n, 1), np.inf)
