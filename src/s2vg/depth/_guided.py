"""Edge-aware smoothing with OpenCV's guided filter (contrib ``ximgproc``)."""

from __future__ import annotations

import cv2
import numpy as np


class GuidedFilter:
    """Guided filter steered by one colour image, so that filtered maps' edges follow its colour edges.

    Building it does the guide's share of the work once; each call then filters one map.

    Args:
        guide_rgb: ``(H, W, 3)`` float32 RGB in [0, 1].
        radius: window radius in pixels.
        eps: regulariser in squared colour units of [0, 1]; edges whose contrast is well
            above ``sqrt(eps)`` are kept.
    """

    def __init__(self, guide_rgb: np.ndarray, radius: int, eps: float) -> None:
        # OpenCV's 3-channel path loses precision for a guide in [0, 1] with a small eps (a
        # step edge came out as a plain box blur for eps <= 1e-3); in 0..255 units it is
        # exact, so the guide and eps are rescaled together.
        self._filter = cv2.ximgproc.createGuidedFilter(np.ascontiguousarray(guide_rgb * 255.0), int(radius), float(eps) * 255.0**2)

    def __call__(self, src: np.ndarray) -> np.ndarray:
        """Filter ``src`` ``(H, W)`` float32 (any units; the filter is linear in it); returns ``(H, W)`` float32."""
        return self._filter.filter(np.ascontiguousarray(src, dtype=np.float32))


def guided_filter(guide_rgb: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """One-off :class:`GuidedFilter` of ``src`` ``(H, W)`` float32 with ``guide_rgb`` ``(H, W, 3)`` float32 in [0, 1]."""
    return GuidedFilter(guide_rgb, radius, eps)(src)
