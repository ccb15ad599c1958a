"""Spoiled lines at a frame's border, which a new view must not show inside the picture.

Many videos carry one to a few dark or bright lines at their left and right borders
(scaler edge handling, encoder padding, a letterbox's soft edge). At the border of the
source view they go unnoticed; warped into a new view they move inward by the
background's parallax and show as a line inside one eye only, with the off-frame strip
beyond it. The lines found here are dropped from the warp (:func:`~s2vg.geometry.warp.forward_warp`
``drop``), so the strip's fill continues from the first clean line instead.

A line counts as spoiled when, over the rows of the frame, it differs from the first line
inside the checked band by a consistent offset: the median of the signed per-row
difference (texture averages out, an added line does not) is larger than ``tolerance`` and
than twice the same offset between interior lines at the same spacing (a gradient of the
picture itself), and nearly every row differs in that direction (a texture near the border
has rows of either sign; on the rendered eval scenes, which have no spoiled lines, the row
test alone removed every false find). An object that covers most of the height at the
border, over smooth shading, can still pass: its outermost lines (at most ``band``) are then
filled in the new view from the next line, a sliver at the frame's edge.
"""

from __future__ import annotations

import math

import torch


def default_edge_band(width: int) -> int:
    """Lines checked at each border: 4, or one per 240 pixels of width (8 at 1080p, 16 at 4K)."""
    return max(4, math.ceil(width / 240))


def spoiled_edge_lines(
    frames: torch.Tensor, *, band: int | None = None, tolerance: float = 4.0 / 255.0, min_rows: float = 0.9,
) -> torch.Tensor:
    """Count the spoiled lines at the start and the end of each frame's width.

    Args:
        frames: ``(T, H, W, 3)`` float in [0, 1].
        band: lines checked at each border (>= 1); defaults to :func:`default_edge_band`.
            Frames narrower than ``4 * band`` have none.
        tolerance: smallest consistent offset (of the channels' mean, [0, 1] units) of a
            spoiled line; defaults to 4 levels of 255.
        min_rows: share of the rows that must differ in the offset's direction by at least
            half the tolerance; defaults to 0.9 (an object at the border over most of the
            height can still pass; dropping its outermost lines then costs a sliver of it
            in the new view, filled from the next line).

    Returns:
        ``(T, 2)`` int64: per frame, how many lines from the left border and from the right
        border are spoiled (only a run that starts at the border counts).

    Example:
        >>> frames = torch.full((1, 8, 40, 3), 0.5)
        >>> frames[0, :, -1] = 0.2  # a dark last column
        >>> spoiled_edge_lines(frames).tolist()
        [[0, 1]]
    """
    if frames.dim() != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be (T, H, W, 3); got {tuple(frames.shape)}")
    n, _, width, _ = frames.shape
    band = default_edge_band(width) if band is None else int(band)
    if band < 1:
        raise ValueError(f"edge band must be >= 1 line; got {band}")
    out = torch.zeros((n, 2), dtype=torch.int64, device=frames.device)
    if width < 4 * band:
        return out
    # Only the 2 * band + 1 lines at each border are read (a flipped copy of whole 4K
    # frames would cost more memory than the warp).
    near = 2 * band + 1
    for side, lines in enumerate((frames[:, :, :near].float(), frames[:, :, -near:].flip(2).float())):
        ref = lines[:, :, band]  # (T, H, 3): the first line inside the band
        # Offset of each border line j from the reference, and of the mirrored interior
        # line (2 * band - j, as far inside the reference as j is outside it).
        j = torch.arange(band, device=frames.device)
        diff = (lines[:, :, :band] - ref[:, :, None]).mean(dim=-1)  # (T, H, band), grey levels
        mirror = (lines[:, :, 2 * band - j] - ref[:, :, None]).mean(dim=-1)
        offset = diff.median(dim=1).values  # (T, band)
        inner = mirror.median(dim=1).values.abs()
        # Nearly every row must move the offset's way: a texture near the border moves rows
        # both ways, a line added to the picture moves every row alike. (Asking each row for
        # more, half the offset or more than its own change inside, missed the lines on
        # textured pictures, whose rows vary more than that.)
        agree = (diff * offset.sign()[:, None] > 0.5 * tolerance).float().mean(dim=1)
        spoiled = (offset.abs() > tolerance) & (offset.abs() > 2.0 * inner) & (agree >= min_rows)
        # The run of spoiled lines that starts at the border.
        run = torch.cumprod(spoiled.long(), dim=1).sum(dim=1)
        out[:, side] = run
    return out


def edge_drop_mask(frames: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """``(T, H, W)`` bool: the spoiled lines of ``counts`` (see :func:`spoiled_edge_lines`)."""
    n, height, width, _ = frames.shape
    x = torch.arange(width, device=frames.device)
    left = x[None] < counts[:, :1]
    right = x[None] >= width - counts[:, 1:]
    return (left | right)[:, None, :].expand(n, height, width)
