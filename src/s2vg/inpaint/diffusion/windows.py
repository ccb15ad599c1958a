"""Overlapping windows along a video's frame axis, for models that take few frames at once.

A column (T frames) or row (V views) longer than the model's ``max_frames`` is cut into
windows of exactly ``max_frames`` frames that start every ``max_frames - overlap``
frames; the last window is moved back to end on the last frame, so it may share more
than ``overlap`` frames with its neighbour. The model's outputs are blended with
weights that ramp linearly across each shared stretch: frame ``k`` of window
``[a, b)`` weighs ``min(1, (k - a + 1) / (overlap + 1), (b - k) / (overlap + 1))``,
without a ramp at the clip's own ends, and every frame is divided by the sum of its
weights. Two regular windows therefore hand over from one to the other in
``overlap + 1`` equal steps, which leaves no seam in time.
"""

from __future__ import annotations

import torch

from s2vg.errors import OptionError


def frame_windows(length: int, size: int | None, overlap: int) -> list[tuple[int, int]]:
    """``[start, stop)`` spans covering ``length`` frames with windows of ``size`` frames.

    Args:
        length: frames in the sequence.
        size: frames the model takes at once; None or ``>= length`` gives one window.
        overlap: frames shared by consecutive regular windows, ``< size``.
    """
    if size is None or length <= size:
        return [(0, length)]
    if not 0 <= overlap < size:
        raise OptionError(f"window overlap must be in [0, {size - 1}] for a model that takes {size} frames; got {overlap}")
    stride = size - overlap
    spans = [(start, start + size) for start in range(0, length - size + 1, stride)]
    if spans[-1][1] < length:
        spans.append((length - size, length))
    return spans


def window_weights(length: int, spans: list[tuple[int, int]], overlap: int) -> list[torch.Tensor]:
    """Blend weights of each span, ``(stop - start,)`` float32, normalised to sum to 1 per frame."""
    ramp = float(overlap + 1)
    raw = []
    for start, stop in spans:
        k = torch.arange(start, stop, dtype=torch.float32)
        rise = (k - start + 1) / ramp if start > 0 else torch.ones_like(k)
        fall = (stop - k) / ramp if stop < length else torch.ones_like(k)
        raw.append(torch.minimum(torch.minimum(rise, fall), torch.ones_like(k)))
    total = torch.zeros(length)
    for (start, stop), w in zip(spans, raw):
        total[start:stop] += w
    return [w / total[start:stop] for (start, stop), w in zip(spans, raw)]
