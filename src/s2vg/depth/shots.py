"""Shot-cut detection from colour histograms, usable on a whole clip or chunk by chunk.

A cut is where the colour distribution jumps: the Bhattacharyya distance between the
HSV histograms of consecutive frames is far above what the recent frames of the same
shot showed. Measured on the sample clips (320x576 to 960x540, 8-24 fps), distances
inside a shot are 0.04-0.10 even with fast motion, and 0.75-0.88 across a cut.

Depth smoothing and depth normalisation restart at every cut, so that nothing bleeds
from one shot into the next.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

from s2vg.config import DepthStageConfig
from s2vg.depth._checks import check_frames

# Histogram bins for hue, saturation, value: enough to separate scenes, coarse enough
# that motion inside a shot barely moves mass between bins.
_BINS = (16, 8, 8)
_RANGES = (0, 180, 0, 256, 0, 256)
# Frames are shrunk to this width before the histogram: the histogram hardly changes, the cost drops.
_HIST_WIDTH = 128


def colour_histogram(frame: np.ndarray) -> np.ndarray:
    """Normalised HSV histogram of one frame ``(H, W, 3)`` float32 RGB in [0, 1]; returns ``(16, 8, 8)`` float32."""
    h, w = frame.shape[:2]
    small_w = min(w, _HIST_WIDTH)
    small_h = max(1, round(h * small_w / w))
    rgb = np.clip(frame * 255.0 + 0.5, 0, 255).astype(np.uint8)
    small = cv2.resize(rgb, (small_w, small_h), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, list(_BINS), list(_RANGES))
    return hist / max(float(hist.sum()), 1.0)


@dataclass
class ShotCutDetector:
    """Streaming shot-cut test with an adaptive threshold; feed it chunks in order.

    A frame ``t`` starts a new shot when the histogram distance ``d_t`` to frame ``t - 1``
    exceeds all of: ``min_distance``; ``ratio`` times the median of the last ``history``
    distances of the current shot; and that median plus ``sensitivity`` robust standard
    deviations (1.4826 x MAD). The adaptive terms keep fast motion or flashing light from
    firing; ``min_distance`` alone decides at the start of a shot, when there is no history.

    Args:
        min_distance: absolute floor of the Bhattacharyya distance (0..1); defaults to
            ``DepthStageConfig.cut_min_distance`` (0.3).
        ratio: factor over the recent median distance; defaults to 3.
        sensitivity: robust z-score over the recent distances; defaults to 6.
        history: number of recent distances kept; defaults to 24.
    """

    min_distance: float = DepthStageConfig().cut_min_distance
    ratio: float = 3.0
    sensitivity: float = 6.0
    history: int = 24
    frames_seen: int = 0
    _previous: np.ndarray | None = field(default=None, repr=False)
    _recent: deque = field(default_factory=deque, repr=False)

    def threshold(self) -> float:
        """The distance the next frame must exceed to count as a cut."""
        if not self._recent:
            return self.min_distance
        recent = np.asarray(self._recent)
        median = float(np.median(recent))
        mad = float(np.median(np.abs(recent - median))) * 1.4826
        return max(self.min_distance, self.ratio * median, median + self.sensitivity * mad)

    def update(self, frames: np.ndarray) -> list[int]:
        """Consume the next chunk ``(T, H, W, 3)`` float32 in [0, 1]; return the cuts in it.

        Returns:
            Indices counted from the first frame ever fed (not from this chunk) of the
            frames that start a new shot. Frame 0 of the video is never reported.
        """
        frames = check_frames(frames)
        cuts: list[int] = []
        for frame in frames:
            hist = colour_histogram(frame)
            if self._previous is not None:
                distance = cv2.compareHist(self._previous, hist, cv2.HISTCMP_BHATTACHARYYA)
                if distance > self.threshold():
                    cuts.append(self.frames_seen)
                    self._recent.clear()  # a new shot has its own motion statistics
                else:
                    self._recent.append(distance)
                    if len(self._recent) > self.history:
                        self._recent.popleft()
            self._previous = hist
            self.frames_seen += 1
        return cuts


def detect_shot_cuts(frames: np.ndarray, detector: ShotCutDetector | None = None) -> list[int]:
    """Indices of the frames that start a new shot.

    Args:
        frames: ``(T, H, W, 3)`` float32 RGB in [0, 1].
        detector: a :class:`ShotCutDetector` carrying state from earlier chunks of the same
            video (indices are then counted from the video's first frame); defaults to a
            fresh detector, i.e. ``frames`` is the whole clip.

    Returns:
        Sorted frame indices ``t > 0`` at which a new shot starts; empty for one shot.
    """
    return (detector if detector is not None else ShotCutDetector()).update(frames)
