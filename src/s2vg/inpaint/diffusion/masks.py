"""Latent known-masks of the frame matrix (DESIGN.md section 3b, "Latent masks").

A latent cell may take the (noised) source latent only where every pixel under it is
reliably known: the VAE mixes hole pixels into the latents around a hole. Per frame:

1. erode the pixel known-mask with a ``erode x erode`` square (depth edges are unreliable;
   OpenCV's default border keeps the image border known);
2. box-filter it with the VAE's spatial factor ``f`` (an ``f x f`` mean, OpenCV's
   BORDER_REFLECT_101) and keep pixels whose known fraction is >= ``threshold``, among
   the pixels that were known after erosion;
3. go to the latent grid keeping only cells whose ``f x f`` pixels are all kept
   (wholly known cells): the hard latent mask;
4. soften it with an OpenCV Gaussian of side ``soft_kernel`` (sigma from the side),
   restricted to the hard mask, so the blend fades in over known cells only.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from s2vg.errors import InputError

# A Gaussian of a region that is known all around sums its normalised weights, which in
# float32 can land a few ulps below 1; such cells are wholly known and count as exactly 1.
_ONE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class LatentMasks:
    """Masks of N frames at pixel and latent resolution.

    Attributes:
        pixel: ``(N, H, W)`` bool, the eroded pixel known-mask (the real pixels that
            re-injection and the final paste trust).
        hard: ``(N, h, w)`` bool, wholly known latent cells.
        soft: ``(N, h, w)`` float32 in [0, 1], the blend weight of the source latents;
            0 wherever ``hard`` is False.
    """

    pixel: torch.Tensor
    hard: torch.Tensor
    soft: torch.Tensor


def latent_masks(known: torch.Tensor, factor: int, erode: int = 3, threshold: float = 0.7,
                 soft_kernel: int = 5) -> LatentMasks:
    """Latent masks of ``known`` pixel masks.

    Args:
        known: ``(N, H, W)`` bool, True where the pixel is a real source pixel; H and W
            divisible by ``factor``.
        factor: pixels per latent cell along each axis (the VAE's spatial factor).
        erode: side of the square erosion kernel in pixels (1 = no erosion).
        threshold: known fraction of the ``factor x factor`` box at or above which a
            pixel is kept.
        soft_kernel: odd side of the Gaussian that softens the latent mask (1 = hard).

    Returns:
        :class:`LatentMasks` on the device of ``known``.
    """
    if known.ndim != 3:
        raise InputError(f"known-mask must be (N, H, W); got shape {tuple(known.shape)}")
    n, height, width = known.shape
    if height % factor or width % factor:
        raise InputError(
            f"frame size {height}x{width} is not divisible by the model's latent factor {factor}; "
            f"resize the clip to a multiple of {factor} pixels"
        )
    masks = known.detach().cpu().numpy().astype(np.uint8)
    pixel = np.empty_like(masks)
    kept = np.empty_like(masks)
    element = np.ones((erode, erode), np.uint8)
    for i in range(n):
        eroded = cv2.erode(masks[i], element) if erode > 1 else masks[i]
        pixel[i] = eroded
        if factor > 1:
            box = cv2.blur(eroded.astype(np.float32), (factor, factor))
            kept[i] = (box >= threshold) & (eroded > 0)
        else:
            kept[i] = eroded
    h, w = height // factor, width // factor
    hard = kept.reshape(n, h, factor, w, factor).all(axis=(2, 4))
    device = known.device
    hard_t = torch.from_numpy(hard)
    return LatentMasks(
        pixel=torch.from_numpy(pixel.astype(bool)).to(device),
        hard=hard_t.to(device),
        soft=soften(hard_t, soft_kernel).to(device),
    )


def soften(hard: torch.Tensor, soft_kernel: int = 5) -> torch.Tensor:
    """Step 4 alone: ``(N, h, w)`` bool hard latent masks to float32 soft masks in [0, 1]
    (an OpenCV Gaussian of side ``soft_kernel``, restricted to the hard mask). The
    time-compressing sampler applies it to masks grouped over latent frames."""
    hard_np = hard.detach().cpu().numpy().astype(bool)
    soft = hard_np.astype(np.float32)
    if soft_kernel > 1:
        for i in range(soft.shape[0]):
            soft[i] = cv2.GaussianBlur(soft[i], (soft_kernel, soft_kernel), 0) * hard_np[i]
        soft[soft > 1.0 - _ONE_TOLERANCE] = 1.0
    return torch.from_numpy(soft).to(hard.device)
