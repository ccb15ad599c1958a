"""The two conditions of stereo super-resolution and where each is reliable.

* **Temporal**: the previous upscaled frame of the same eye, motion-compensated to the
  current frame with optical flow (OpenCV DIS on the low-resolution frames, scaled up).
  Reliable where the flow survives a forward-backward round trip, away from motion edges,
  and where the warped frame, taken back to low resolution, matches the current
  low-resolution frame.
* **Cross-view**: the upscaled left frame warped into the right view with the stereo
  disparity (right pixel ``x`` shows left pixel ``x + d_R(x)``; the right-view disparity
  comes from splatting the left disparity with a z-buffer, the larger disparity winning,
  so that only pixels both eyes see are filled). Reliable where a left pixel lands, away
  from depth edges, and where it matches the right low-resolution frame.

Disparity convention (as :func:`s2vg.metrics.metrics.lr_consistency`): the right view
shows left pixel ``x`` at ``x - d(x)``; nearer content has larger ``d``.

Every mask is ``(sH, sW)`` float32 in [0, 1]: a binary reliable region eroded by
``erode`` pixels and softened by a Gaussian inside it, so blends have no seams.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from s2vg.sr.resample import downscale, upscale_field, warp

#: Disparity or flow difference, in low-resolution pixels between 4-neighbours, that marks an edge.
EDGE_JUMP = 0.75


@dataclass(frozen=True)
class Condition:
    """A candidate high-resolution frame and how much to trust it.

    Attributes:
        frame: ``(sH, sW, 3)`` float32 in [0, 1].
        weight: ``(sH, sW)`` float32 in [0, 1] (0 where the candidate is not reliable).
    """

    frame: np.ndarray
    weight: np.ndarray


def gray_u8(frame: np.ndarray) -> np.ndarray:
    """Luma of ``(H, W, 3)`` in [0, 1] as uint8."""
    return cv2.cvtColor(np.clip(frame * 255.0 + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)


def _jumps(field: np.ndarray) -> np.ndarray:
    """``(H, W)`` bool: the largest change of ``field`` ``(H, W, C)`` to a 4-neighbour exceeds :data:`EDGE_JUMP`."""
    f = field.reshape(field.shape[0], field.shape[1], -1)
    edge = np.zeros(f.shape[:2], bool)
    dx = np.abs(np.diff(f, axis=1)).max(axis=-1) > EDGE_JUMP
    dy = np.abs(np.diff(f, axis=0)).max(axis=-1) > EDGE_JUMP
    edge[:, 1:] |= dx
    edge[:, :-1] |= dx
    edge[1:] |= dy
    edge[:-1] |= dy
    return edge


def soft_mask(reliable_hr: np.ndarray, erode: int, scale: int) -> np.ndarray:
    """Binary ``(sH, sW)`` mask -> eroded by ``erode`` px and softened inside (sigma ``scale / 2``)."""
    mask = reliable_hr.astype(np.uint8)
    if erode > 0:
        mask = cv2.erode(mask, np.ones((2 * erode + 1, 2 * erode + 1), np.uint8))
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigmaX=max(scale / 2.0, 0.5))
    # Softening only inside: 1 deep in the region, falling to 0 at its edge.
    return np.clip(2.0 * soft - 1.0, 0.0, 1.0) * mask


#: Gaussian sigma, in low-resolution pixels, applied to both sides of the colour check: it
#: removes the sampling-phase detail on which two good upscales may differ, and keeps the
#: misregistration of a wrong flow or disparity.
CHECK_BLUR = 1.0


def matches_low(candidate_hr: np.ndarray, low: np.ndarray, scale: int, tolerance: float) -> np.ndarray:
    """``(H, W)`` bool: the candidate, taken to low resolution, is within ``tolerance`` (mean
    absolute over channels, both sides blurred by :data:`CHECK_BLUR`) of the low-resolution frame."""
    a = cv2.GaussianBlur(downscale(candidate_hr, scale), (0, 0), CHECK_BLUR)
    b = cv2.GaussianBlur(low, (0, 0), CHECK_BLUR)
    return np.abs(a - b).mean(axis=-1) <= tolerance


# ----------------------------------------------------------------------------- temporal


class FlowEstimator:
    """Backward optical flow between consecutive low-resolution frames: OpenCV DIS (medium
    preset) on the frames upsampled by ``upsample`` (sub-pixel accuracy matters: an error
    of a quarter low-resolution pixel is a pixel at 4x)."""

    def __init__(self, upsample: int = 2) -> None:
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        self.upsample = upsample

    def _flow(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        h, w = a.shape
        if self.upsample > 1:
            size = (w * self.upsample, h * self.upsample)
            a, b = cv2.resize(a, size, interpolation=cv2.INTER_CUBIC), cv2.resize(b, size, interpolation=cv2.INTER_CUBIC)
        return cv2.resize(self._dis.calc(a, b, None), (w, h), interpolation=cv2.INTER_AREA) / self.upsample

    def __call__(self, previous: np.ndarray, current: np.ndarray, consistency: float) -> tuple[np.ndarray, np.ndarray]:
        """Flow ``(H, W, 2)`` from ``current`` to ``previous`` (where each current pixel was)
        and ``(H, W)`` bool where it is reliable (round trip within ``consistency`` px,
        inside the previous frame, not at a motion edge)."""
        g0, g1 = gray_u8(previous), gray_u8(current)
        back = self._flow(g1, g0)
        fwd = self._flow(g0, g1)
        h, w = g1.shape
        xs = np.arange(w, dtype=np.float32)[None, :] + back[..., 0]
        ys = np.arange(h, dtype=np.float32)[:, None] + back[..., 1]
        fwd_at = cv2.remap(fwd, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        inside = (xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)
        consistent = np.linalg.norm(back + fwd_at, axis=-1) <= consistency
        return back, inside & consistent & ~_jumps(back)


def temporal_condition(previous_hr: np.ndarray, flow_lr: np.ndarray, reliable_lr: np.ndarray, low: np.ndarray,
                       scale: int, tolerance: float, erode: int) -> Condition:
    """The previous upscaled frame motion-compensated to the current one.

    Args:
        previous_hr: ``(sH, sW, 3)`` the previous upscaled frame of this eye.
        flow_lr: ``(H, W, 2)`` backward flow (current -> previous) in low-resolution pixels.
        reliable_lr: ``(H, W)`` bool where the flow is trusted.
        low: ``(H, W, 3)`` the current low-resolution frame.
    """
    flow_hr = upscale_field(flow_lr, scale) * scale
    frame = warp(previous_hr, flow_hr[..., 0], flow_hr[..., 1])
    reliable = reliable_lr & matches_low(frame, low, scale, tolerance)
    return Condition(frame, soft_mask(upscale_field(reliable.astype(np.uint8), scale, nearest=True) > 0, erode, scale))


# ----------------------------------------------------------------------------- cross-view


def estimate_disparity(left: np.ndarray, right: np.ndarray, max_disparity: float, tolerance: float = 0.5,
                       upsample: int = 2) -> np.ndarray:
    """Left-view disparity ``(H, W)`` float32 of a low-resolution pair; NaN where unreliable.

    Optical flow restricted to the horizontal: OpenCV DIS (medium preset) from left to
    right and back, on the pair upsampled by ``upsample`` (DIS is accurate to about a
    tenth of a pixel there, against a quarter pixel for semi-global matching on these
    small frames; see ``benchmarks/sr_stereo.py``). A pixel is kept where the flow is
    nearly horizontal, the left-right round trip agrees within ``tolerance`` pixels
    (occluded pixels fail it) and ``|d| <= max_disparity``.

    Args:
        left, right: ``(H, W, 3)`` in [0, 1].
        max_disparity: largest |disparity| accepted, in pixels (both signs: a converged
            pair has content behind and in front of the screen).
    """
    h, w = left.shape[:2]
    a, b = gray_u8(left), gray_u8(right)
    if upsample > 1:
        a = cv2.resize(a, (w * upsample, h * upsample), interpolation=cv2.INTER_CUBIC)
        b = cv2.resize(b, (w * upsample, h * upsample), interpolation=cv2.INTER_CUBIC)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    forward = cv2.resize(dis.calc(a, b, None), (w, h), interpolation=cv2.INTER_AREA) / upsample  # left -> right
    backward = cv2.resize(dis.calc(b, a, None), (w, h), interpolation=cv2.INTER_AREA) / upsample  # right -> left
    d = -forward[..., 0]
    xs = np.arange(w, dtype=np.float32)[None, :] - d
    ys = np.broadcast_to(np.arange(h, dtype=np.float32)[:, None], (h, w)).astype(np.float32)
    back_at = cv2.remap(backward[..., 0], xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inside = (xs >= 0) & (xs <= w - 1)
    keep = inside & (np.abs(back_at - d) <= tolerance) & (np.abs(forward[..., 1]) <= tolerance) & (np.abs(d) <= max_disparity)
    return np.where(keep, d, np.nan).astype(np.float32)


def right_view_disparity(disparity_hr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Splat a left-view disparity ``(sH, sW)`` (NaN = unknown) into the right view.

    Returns:
        ``d_right`` ``(sH, sW)`` float32 (right pixel x shows left pixel ``x + d_right``)
        and ``seen`` ``(sH, sW)`` bool (some left pixel lands there: both eyes see it).
    """
    from s2vg.geometry.warp import splat_nearest

    h, w = disparity_hr.shape
    d = torch.from_numpy(np.ascontiguousarray(disparity_hr, dtype=np.float32))
    valid = torch.isfinite(d)
    d0 = torch.where(valid, d, torch.zeros_like(d))
    xs = torch.arange(w, dtype=torch.float32).expand(h, w)
    ys = torch.arange(h, dtype=torch.float32)[:, None].expand(h, w)
    uv = torch.stack([xs - d0, ys], dim=-1).reshape(1, h * w, 2)
    # The z-buffer keeps the smallest z: z decreasing in d makes the nearest point win.
    top = float(d0.max()) if valid.any() else 0.0
    z = torch.where(valid, top + 1.0 - d0, torch.full_like(d0, -1.0)).reshape(1, h * w)
    winner, _ = splat_nearest(uv, z, h, w)
    winner = winner[0]
    seen = winner >= 0
    d_right = torch.where(seen, d0.reshape(-1)[winner.clamp(min=0)], torch.zeros_like(d0))
    return d_right.numpy(), seen.numpy()


@dataclass(frozen=True)
class CrossView(Condition):
    """The cross-view condition, plus what maps the right view back to the left.

    Attributes:
        disparity: ``(sH, sW)`` left-view disparity in high-resolution pixels (NaN = unknown).
        disparity_right: ``(sH, sW)`` right-view disparity (right pixel x shows left x + d).
        seen: ``(sH, sW)`` bool, right pixels that some left pixel lands on.
    """

    disparity: np.ndarray = None  # type: ignore[assignment]
    disparity_right: np.ndarray = None  # type: ignore[assignment]
    seen: np.ndarray = None  # type: ignore[assignment]

    def back_to_left(self, right_hr: np.ndarray, weight: np.ndarray) -> Condition:
        """A right-view frame ``(sH, sW, 3)`` and its weight ``(sH, sW)`` sampled into the
        left view (left pixel x takes right pixel ``x - d(x)``), weighted 0 at left pixels
        the right eye does not see (they lose the z-buffer at their target)."""
        known = np.isfinite(self.disparity)
        d = np.where(known, self.disparity, 0.0).astype(np.float32)
        h, w = d.shape
        target = np.rint(np.arange(w, dtype=np.float32)[None, :] - d).astype(np.int64)
        inside = known & (target >= 0) & (target < w)
        at_target = self.disparity_right[np.arange(h)[:, None], target.clip(0, w - 1)]
        visible = inside & (np.abs(at_target - d) < 0.5)
        frame = warp(right_hr, -d)
        back_weight = cv2.remap(weight.astype(np.float32), np.arange(w, dtype=np.float32)[None, :] - d,
                                np.broadcast_to(np.arange(h, dtype=np.float32)[:, None], (h, w)).copy(),
                                cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
        return Condition(frame, (back_weight * visible).astype(np.float32))


def cross_view_condition(left_hr: np.ndarray, disparity_lr: np.ndarray, low_right: np.ndarray, scale: int,
                         tolerance: float, erode: int) -> CrossView:
    """The upscaled left frame warped into the right view.

    Args:
        left_hr: ``(sH, sW, 3)`` the upscaled left frame.
        disparity_lr: ``(H, W)`` left-view disparity in low-resolution pixels (NaN = unknown).
        low_right: ``(H, W, 3)`` the right low-resolution frame.
    """
    known = np.isfinite(disparity_lr)
    filled = np.where(known, disparity_lr, 0.0).astype(np.float32)
    d_hr = upscale_field(filled, scale) * scale
    # A high-resolution pixel is known only if every low-resolution pixel it blends is.
    known_hr = upscale_field(known.astype(np.float32), scale) > 0.999
    d_hr[~known_hr] = np.nan
    d_right, seen = right_view_disparity(d_hr)
    frame = warp(left_hr, d_right)
    edges = cv2.dilate(_jumps(filled[..., None]).astype(np.uint8) | (~known).astype(np.uint8), np.ones((3, 3), np.uint8))
    reliable_lr = ~edges.astype(bool) & matches_low(frame, low_right, scale, tolerance)
    reliable = seen & (upscale_field(reliable_lr.astype(np.uint8), scale, nearest=True) > 0)
    return CrossView(frame, soft_mask(reliable, erode, scale), d_hr, d_right, seen)
