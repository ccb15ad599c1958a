"""Where a point seen in one view of a parallel rig lies in another view.

A parallel rig's view at position X (metres, along the scan axis) with sensor shift c
(pixels, the principal point moved for convergence) sees a source pixel u of depth z at
``u - f X / z + c``. So a point seen at x in view a lies at
``x + f (X_a - X_b) / z + (c_b - c_a)`` in view b: a parallax term that falls with the
depth and a constant from the two sensor shifts. Every step of the fill that reads
another view (the source's flow and pixels, a filled donor view) goes through this map,
so a convergent rig (``s2vg convert --convergence``) reads the same points as a parallel one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Parallax:
    """The map from one view to another: ``(x, y)`` at inverse depth ``1/z`` goes to
    ``(x + along / z + offset_along, y + across / z + offset_across)``.

    Attributes:
        along, across: focal * (this view's position - the other view's), along and across
            the scan axis, in pixel·metres.
        offset_along, offset_across: the other view's sensor shift minus this view's, in
            pixels (0 for a parallel rig without convergence).
    """

    along: float
    across: float = 0.0
    offset_along: float = 0.0
    offset_across: float = 0.0

    @classmethod
    def between(cls, offsets: np.ndarray, sensor_shift: np.ndarray, focal: float, view: int, other: int) -> "Parallax":
        """The map from ``view`` to ``other``.

        Args:
            offsets: ``(V, 2)`` camera positions (metres) along and across the scan axis.
            sensor_shift: ``(V, 2)`` principal-point shifts (pixels) in the same axes.
            focal: focal length in pixels.
        """
        d = focal * (offsets[view] - offsets[other])
        c = sensor_shift[other] - sensor_shift[view]
        return cls(float(d[0]), float(d[1]), float(c[0]), float(c[1]))

    def __call__(self, x: np.ndarray, y: np.ndarray, inv_z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(x', y')`` float64 in the other view of points at ``(x, y)`` with inverse depth
        ``inv_z`` (all ``(N,)``; ``inv_z`` 0 for a point at infinity)."""
        return (
            np.asarray(x, np.float64) + self.along * inv_z + self.offset_along,
            np.asarray(y, np.float64) + self.across * inv_z + self.offset_across,
        )
