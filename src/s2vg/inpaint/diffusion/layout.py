"""How a frame matrix is laid out for a video model: sizes it can take, latent frame groups.

Spatial: H and W must be multiples of the model's ``size_multiple`` (the VAE's spatial
factor times the transformer's patch size: 8 for Zeroscope, 16 for Wan and CogVideoX, 32
for LTX-Video). :func:`pad_matrix` pads the bottom and right edges by repeating the edge
pixels and their known-mask (an unknown strip at an edge stays unknown in the padding, so
it is generated with the strip and cropped away); :func:`crop_frames` undoes it.

Temporal: a VAE that compresses time by ``k`` with a causal first frame (Wan and
CogVideoX ``k = 4``, LTX-Video ``k = 8``) takes ``F = k n + 1`` frames and gives
``n + 1`` latent frames: latent frame 0 holds frame 0 alone, latent frame ``j >= 1`` holds
frames ``k (j - 1) + 1 .. k j``. Any other count is padded by repeating the last frame up
to the next valid count (:func:`valid_frames`, :func:`pad_frames`) and cropped back after
decoding, never rejected. A per-frame VAE (``k = 1``) takes any count.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from s2vg.geometry.frame_matrix import FrameMatrix


def valid_frames(frames: int, factor: int) -> int:
    """The smallest frame count ``>= frames`` that a VAE compressing time by ``factor`` takes."""
    if factor <= 1:
        return frames
    return 1 + factor * math.ceil((frames - 1) / factor)


def latent_frames(frames: int, factor: int) -> int:
    """Latent frames of a video of ``frames`` frames (padded to a valid count first)."""
    if factor <= 1:
        return frames
    return 1 + (valid_frames(frames, factor) - 1) // factor


def pad_frames(x: torch.Tensor, count: int, dim: int = 1) -> torch.Tensor:
    """``x`` with its ``dim`` axis padded to ``count`` entries by repeating the last one."""
    have = x.shape[dim]
    if have >= count:
        return x
    last = x.narrow(dim, have - 1, 1)
    shape = [-1] * x.ndim
    shape[dim] = count - have
    return torch.cat([x, last.expand(*shape)], dim=dim)


def group_frames(cells: torch.Tensor, factor: int) -> torch.Tensor:
    """Latent-frame masks from per-frame masks: a latent cell is True only where it is True
    in every frame of its group.

    Args:
        cells: ``(N, F, h, w)`` bool per frame, ``F`` a valid count for ``factor``.
        factor: frames per latent frame (the causal first frame is its own group).

    Returns:
        ``(N, F', h, w)`` bool with ``F' = (F - 1) / factor + 1`` (``F`` when ``factor`` is 1).
    """
    if factor <= 1:
        return cells
    n, f, h, w = cells.shape
    rest = cells[:, 1:].reshape(n, (f - 1) // factor, factor, h, w).all(dim=2)
    return torch.cat([cells[:, :1], rest], dim=1)


def pad_matrix(matrix: FrameMatrix, multiple: int) -> tuple[FrameMatrix, tuple[int, int]]:
    """Pad H and W up to multiples of ``multiple`` by repeating the bottom row and right column.

    Returns the padded matrix (its rig is the input's: the padding is cropped away before
    anyone reads geometry) and the original ``(H, W)``.
    """
    h, w = matrix.height, matrix.width
    ph, pw = -h % multiple, -w % multiple
    if ph == 0 and pw == 0:
        return matrix, (h, w)
    v, t = matrix.views, matrix.frames

    def pad(x: torch.Tensor) -> torch.Tensor:  # (V, T, H, W, C) -> replicate-padded
        flat = x.reshape(v * t, h, w, -1).permute(0, 3, 1, 2).float()
        flat = F.pad(flat, (0, pw, 0, ph), mode="replicate")
        return flat.permute(0, 2, 3, 1).reshape(v, t, h + ph, w + pw, -1)

    colors = pad(matrix.colors)
    known = pad(matrix.known.unsqueeze(-1)).squeeze(-1) > 0.5
    depth = pad(matrix.depth.unsqueeze(-1)).squeeze(-1)
    return FrameMatrix(colors=colors.to(matrix.colors.dtype), known=known, depth=depth, rig=matrix.rig), (h, w)


def crop_frames(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``(..., H', W', 3)`` frames cropped to the top-left ``size = (H, W)``."""
    h, w = size
    return frames[..., :h, :w, :]
