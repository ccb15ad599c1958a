"""VR180: a perspective eye placed on a half-equirectangular (180 x 180 degree) canvas.

What is done, and why: a converted clip was filmed by an ordinary (pinhole) camera, so
it covers only the field of view of its lens. Each eye is re-projected into the front
hemisphere of an equirectangular image at the angles the camera saw: the pixel at
longitude ``lon`` and latitude ``lat`` looks along ``d = (cos lat sin lon, sin lat,
cos lat cos lon)`` (x right, y down, z forward) and takes the colour of the source
pixel ``(cx + fx d_x / d_z, cy + fy d_y / d_z)`` (bilinear). The horizontal field of view
is therefore ``2 atan(W / 2f)`` with the rig's focal ``f`` (about 40 degrees for the
default focal; a smaller ``--focal`` shows the picture larger). Everything outside the
picture is black. With parallel cameras (no convergence, the default) infinity lies at
infinity, as VR180 players expect.

Size: one eye is ``N x N`` with ``N = pi f`` rounded to even, so that the centre of the
picture keeps its resolution (the equirectangular image has ``N / pi`` pixels per
radian, a pinhole image ``f`` at its centre), capped at :data:`VR180_MAX_EYE_PX` so that
the side-by-side frame (``2N x N``) stays within what H.264 level 5.1 decoders of
headsets accept. Above the cap the picture is first reduced with area averaging.

The side-by-side result is tagged with Spherical Video V2 metadata (stereo left-right,
equirectangular cropped to 180 degrees) by :mod:`s2vg.io.mp4boxes`.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import cv2
import numpy as np

from s2vg.config import REFERENCE_FOCAL_PX, REFERENCE_WIDTH_PX
from s2vg.errors import InputError, OptionError

#: Largest side of one eye, in pixels: 2048 makes a 4096 x 2048 side-by-side frame
#: (8.4 Mpixel, inside H.264 level 5.1's 8.9 Mpixel limit).
VR180_MAX_EYE_PX = 2048


def focal_or_default(width: int, focal: float | None) -> float:
    """The rig's focal in pixels: ``focal``, or 800 px scaled by ``width / 576`` (the rig's default)."""
    if focal is None:
        return REFERENCE_FOCAL_PX * width / REFERENCE_WIDTH_PX
    if not math.isfinite(focal) or focal <= 0:
        raise OptionError(f"focal must be a positive number of pixels; got {focal!r}")
    return float(focal)


def vr180_eye_size(width: int, focal: float | None = None) -> int:
    """Side ``N`` in pixels of one half-equirectangular eye for a ``width``-pixel-wide picture."""
    f = focal_or_default(width, focal)
    n = min(VR180_MAX_EYE_PX, max(2, int(round(math.pi * f))))
    return n + n % 2


def field_of_view(width: int, height: int, focal: float | None = None) -> tuple[float, float]:
    """(horizontal, vertical) field of view in degrees of a ``width x height`` pinhole picture."""
    f = focal_or_default(width, focal)
    return math.degrees(2 * math.atan(width / (2 * f))), math.degrees(2 * math.atan(height / (2 * f)))


@functools.lru_cache(maxsize=8)
def _maps(width: int, height: int, fx: float, fy: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """cv2.remap maps ``(N, N)`` float32: source pixel coordinates (pixel centres at integers)
    of each equirectangular pixel; -1 where the ray misses the picture."""
    angles = ((np.arange(n, dtype=np.float64) + 0.5) / n - 0.5) * math.pi  # pixel centres, -pi/2..pi/2
    lat, lon = np.meshgrid(angles, angles, indexing="ij")
    dx = np.cos(lat) * np.sin(lon)
    dy = np.sin(lat)
    dz = np.cos(lat) * np.cos(lon)
    ahead = dz > 1e-9  # the edge of the hemisphere (dz = 0) sees nothing of a pinhole picture
    safe = np.where(ahead, dz, 1.0)
    # Continuous image coordinates put the principal point at (W/2, H/2) and pixel i's
    # centre at i + 0.5 (the rig's convention); remap wants the centre at i.
    u = np.where(ahead, width / 2 + fx * dx / safe - 0.5, -1.0)
    v = np.where(ahead, height / 2 + fy * dy / safe - 0.5, -1.0)
    return u.astype(np.float32), v.astype(np.float32)


def to_half_equirect(frames: Any, focal: float | None = None) -> Any:
    """Re-project pinhole frames onto the front half of an equirectangular sphere.

    Args:
        frames: ``(T, H, W, 3)`` float32 in [0, 1] (numpy or torch), one eye.
        focal: the camera's focal length in pixels; defaults to None (the rig's default
            for this width).

    Returns:
        ``(T, N, N, 3)`` float32 in [0, 1] of the same type, ``N`` = :func:`vr180_eye_size`;
        longitude -90..90 degrees left to right, latitude -90..90 top to bottom, black
        outside the picture.
    """
    torch_input = hasattr(frames, "detach")
    if torch_input:
        import torch

        device = frames.device
        frames = frames.detach().cpu().numpy()
    frames = np.asarray(frames, dtype=np.float32)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise InputError(f"frames must have shape (T, H, W, 3); got {frames.shape}")
    _, height, width, _ = frames.shape
    f = focal_or_default(width, focal)
    n = vr180_eye_size(width, f)
    scale = min(1.0, n / (math.pi * f))
    src_w, src_h = max(1, round(width * scale)), max(1, round(height * scale))
    fx, fy = f * src_w / width, f * src_h / height
    map_u, map_v = _maps(src_w, src_h, fx, fy, n)
    out = np.empty((len(frames), n, n, 3), np.float32)
    for i, frame in enumerate(frames):
        if (src_w, src_h) != (width, height):
            frame = cv2.resize(frame, (src_w, src_h), interpolation=cv2.INTER_AREA)
        out[i] = cv2.remap(frame, map_u, map_v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if torch_input:
        return torch.from_numpy(out).to(device)
    return out
