"""Depth conventions: the one place that turns depth input into metric-like depth.

Depth models give *relative inverse depth* (``inv_depth``: larger = nearer, arbitrary
scale). Geometry needs depth in metres along z (``depth_m``). Stereo datasets give
``disparity_px``: pixels of horizontal shift between the source and a view at the rig's
baseline. Nothing else in s2vg interprets these conventions.
"""

from __future__ import annotations

import torch

from s2vg.errors import InputError

#: The reference clamps inverse depth to this floor and adds it again before inverting,
#: so that fully-far content (normalised inverse depth 0, no ``far`` given) lands at 1e6 m
#: instead of infinity. Keeping both makes projected pixels round exactly as the reference.
INV_DEPTH_EPS = 1e-6


def _require_finite(name: str, values: torch.Tensor) -> None:
    if not torch.isfinite(values).all():
        bad = int((~torch.isfinite(values)).sum())
        raise InputError(f"{name} has {bad} NaN or infinite values; give finite values (fill invalid pixels first)")


def normalise_inv_depth(inv_depth: torch.Tensor) -> torch.Tensor:
    """Scale relative inverse depth to [0, 1] with the min and max of the whole clip.

    Statistics over the whole clip (not per frame) keep the scene from pumping when
    content enters or leaves. Values are clamped to >= 1e-6 first, as the reference does.

    Args:
        inv_depth: ``(*, H, W)`` float32 relative inverse depth, larger = nearer.

    Returns:
        ``(*, H, W)`` float32 in [0, 1].
    """
    _require_finite("relative inverse depth", inv_depth)
    d = torch.clamp(inv_depth.float(), min=INV_DEPTH_EPS)
    lo, hi = d.min(), d.max()
    if hi <= lo:
        # A constant map: a fronto-parallel scene. Put it all at the far plane.
        return torch.zeros_like(d)
    return (d - lo) / (hi - lo)


def inv_depth_to_depth(norm_inv_depth: torch.Tensor, far: float | None = 10.0, near: float | None = None) -> torch.Tensor:
    """Metric-like depth from normalised inverse depth in [0, 1] (DESIGN.md section 2).

    ``d' = d / near (if given) + 1 / far (if given)``, ``z = 1 / (d' + 1e-6)``: the nearest
    content lands at about 1/(1/near + 1/far) m (0.9 m by default), the farthest at ``far``.

    Args:
        norm_inv_depth: ``(*, H, W)`` float32 in [0, 1], larger = nearer.
        far: depth of the farthest content in metres, or None for infinity.
        near: optional divisor that moves the nearest content away.

    Returns:
        ``(*, H, W)`` float32 depth in metres, > 0.
    """
    d = norm_inv_depth.float()
    if near is not None:
        d = d / near
    if far is not None:
        d = d + 1.0 / far
    return 1.0 / (d + INV_DEPTH_EPS)


def relative_to_depth(inv_depth: torch.Tensor, far: float | None = 10.0, near: float | None = None) -> torch.Tensor:
    """Relative inverse depth of a whole clip to metric-like depth: normalise, then invert.

    Args:
        inv_depth: ``(T, H, W)`` float32, larger = nearer.

    Returns:
        ``(T, H, W)`` float32 depth in metres.
    """
    return inv_depth_to_depth(normalise_inv_depth(inv_depth), far=far, near=near)


def check_metric_depth(depth_m: torch.Tensor) -> torch.Tensor:
    """Validate depth given in metres: finite and positive everywhere.

    Args:
        depth_m: ``(*, H, W)`` depth in metres.

    Returns:
        the same values as float32.
    """
    _require_finite("metric depth", depth_m)
    if (depth_m <= 0).any():
        bad = int((depth_m <= 0).sum())
        lowest = float(depth_m.min())
        raise InputError(
            f"metric depth has {bad} values <= 0 (lowest {lowest:g}); metric depth must be positive metres "
            "(use --depth-kind relative for inverse depth from a depth model)"
        )
    return depth_m.float()


def disparity_to_depth(disparity_px: torch.Tensor, focal: float, baseline: float) -> torch.Tensor:
    """Depth from disparity in pixels between the source and a view ``baseline`` metres away.

    ``z = focal * baseline / d``, so warping to that view shifts every pixel by exactly d.
    Zero disparity (infinitely far) maps to a depth where the shift is below 1e-6 px.

    Args:
        disparity_px: ``(*, H, W)`` non-negative disparity in pixels.
        focal: focal length in pixels.
        baseline: distance between the two cameras in metres.

    Returns:
        ``(*, H, W)`` float32 depth in metres.
    """
    _require_finite("disparity", disparity_px)
    if (disparity_px < 0).any():
        lowest = float(disparity_px.min())
        raise InputError(
            f"disparity has negative values (lowest {lowest:g} px); give the left image's disparity as "
            "non-negative pixels (or --depth-kind relative for inverse depth)"
        )
    d = torch.clamp(disparity_px.double(), min=1e-6)
    return (focal * baseline / d).float()


def to_depth_m(
    values: torch.Tensor,
    kind: str,
    *,
    far: float | None = 10.0,
    near: float | None = None,
    focal: float | None = None,
    baseline: float | None = None,
) -> torch.Tensor:
    """Depth in metres from any supported depth input (the ``--depth-kind`` switch).

    Args:
        values: ``(T, H, W)`` depth input of the given kind.
        kind: ``"relative"`` inverse depth (normalised over the clip, then inverted with
            ``far``/``near``), ``"metric"`` metres (taken literally) or ``"disparity"``
            pixels at ``baseline`` (taken literally: ``z = focal * baseline / d``).
        focal, baseline: needed for ``"disparity"``.

    Returns:
        ``(T, H, W)`` float32 depth in metres.
    """
    if kind == "relative":
        return relative_to_depth(values, far=far, near=near)
    if kind == "metric":
        return check_metric_depth(values)
    if kind == "disparity":
        if focal is None or baseline is None:
            raise ValueError("disparity needs the rig's focal length and baseline")
        return disparity_to_depth(values, focal, baseline)
    raise ValueError(f"unknown depth kind {kind!r}")


def normalise_inv_depth_range(inv_depth: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """Scale inverse depth to [0, 1] with a per-frame range (robust, smoothed over time).

    Args:
        inv_depth: ``(T, H, W)`` relative inverse depth, larger = nearer.
        lo, hi: ``(T,)`` the range of each frame (see :func:`s2vg.depth.robust_range`).

    Returns:
        ``(T, H, W)`` float32 in [0, 1]; values outside the range are clipped.
    """
    _require_finite("relative inverse depth", inv_depth)
    lo = lo.to(torch.float64).view(-1, 1, 1)
    span = (hi.to(torch.float64).view(-1, 1, 1) - lo).clamp(min=1e-12)
    return ((inv_depth.double() - lo) / span).clamp(0.0, 1.0).float()
