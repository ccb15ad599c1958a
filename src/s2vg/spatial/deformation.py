"""Deformation field: (position, time) -> offsets of each Gaussian's mean, rotation and scale.

Inputs are encoded in the source camera's *frustum* coordinates ``(x/z, y/z, 1/z)``:
every view of the rig sits near the source, so this box is resolved like the image
itself (near content gets as many cells as far content), whereas an xyz box would spend
most cells on empty space far away. Each coordinate and time is scaled to [-1, 1].

Two encodings, one small MLP head:

- ``"hexplane"`` (default): six feature planes (xy, xz, yz, xt, yt, zt) sampled
  bilinearly and multiplied (K-planes / 4DGaussians style). A lookup costs six
  ``grid_sample`` calls whatever the resolution, and each step only updates the cells
  near the Gaussians it saw, which makes it the faster of the two to fit on a CPU.
- ``"frequency"``: the NeRF positional encoding ``[p, sin(2^k pi p), cos(2^k pi p)]``.

The head's last layer starts at zero, so the field starts as the identity; the time
planes start at one (the product is then time-independent). Offsets: the mean moves by
``out[:3] * motion_scale * z`` metres (a fraction of the depth, so an output of 1 moves
near and far content by the same number of pixels), the quaternion by ``out[3:7]`` and
the log-scales by ``out[7:10]``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

_PLANES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))  # pairs of (x, y, z, t) axes


class Deformation(nn.Module):
    """Maps canonical Gaussians at a time to offsets (see the module docstring).

    Args:
        bounds: ``(2, 3)`` float tensor, min and max of the frustum coordinates
            ``(x/z, y/z, 1/z)`` over the canonical means.
        time_range: (first, last) frame time; mapped to [-1, 1].
        encoding: ``"hexplane"`` or ``"frequency"``.
        resolution: cells per spatial axis of the planes; defaults to 64.
        time_resolution: cells along time; defaults to 16.
        features: channels per plane; defaults to 16.
        frequencies: octaves of the frequency encoding; defaults to 6.
        hidden: width of the MLP head; defaults to 64.
        motion_scale: mean offset per unit of output, as a fraction of depth; defaults to 0.01.
        generator: random source of the initial plane values (determinism).
    """

    def __init__(
        self,
        bounds: torch.Tensor,
        time_range: tuple[float, float],
        *,
        encoding: str = "hexplane",
        resolution: int = 64,
        time_resolution: int = 16,
        features: int = 16,
        frequencies: int = 6,
        hidden: int = 64,
        motion_scale: float = 0.01,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if encoding not in ("hexplane", "frequency"):
            raise ValueError(f"deformation encoding must be hexplane or frequency; got {encoding!r}")
        self.encoding = encoding
        self.motion_scale = motion_scale
        lo, hi = bounds[0].float(), bounds[1].float()
        span = torch.clamp_min(hi - lo, 1e-6)
        self.register_buffer("center", (lo + hi) / 2)
        self.register_buffer("half_span", span / 2 * 1.05)  # a margin for Gaussians that move out
        t0, t1 = float(time_range[0]), float(time_range[1])
        self.register_buffer("time_center", torch.tensor(0.5 * (t0 + t1)))
        self.register_buffer("time_half", torch.tensor(max(0.5 * (t1 - t0), 0.5)))
        self.config = {
            "encoding": encoding, "resolution": resolution, "time_resolution": time_resolution, "features": features,
            "frequencies": frequencies, "hidden": hidden, "motion_scale": motion_scale, "time_range": [t0, t1],
        }
        if encoding == "hexplane":
            planes = []
            for a, b in _PLANES:
                h = time_resolution if b == 3 else resolution
                w = resolution
                if b == 3:  # time planes start at one: no time dependence at first
                    values = torch.ones(1, features, h, w)
                else:
                    values = torch.empty(1, features, h, w).uniform_(0.1, 0.5, generator=generator)
                planes.append(nn.Parameter(values))
            self.planes = nn.ParameterList(planes)
            width_in = features
        else:
            self.planes = nn.ParameterList()
            width_in = 4 * (1 + 2 * frequencies)
        self.frequencies = frequencies
        layer1 = nn.Linear(width_in, hidden)
        layer2 = nn.Linear(hidden, 10)
        with torch.no_grad():
            bound = 1 / math.sqrt(width_in)
            layer1.weight.uniform_(-bound, bound, generator=generator)
            layer1.bias.uniform_(-bound, bound, generator=generator)
            layer2.weight.zero_()
            layer2.bias.zero_()
        self.head = nn.Sequential(layer1, nn.ReLU(), layer2)

    def normalise(self, means: torch.Tensor, time: float) -> torch.Tensor:
        """``(N, 4)`` frustum coordinates and time of ``(N, 3)`` means, scaled to about [-1, 1]."""
        z = means[:, 2:3].clamp_min(1e-3)
        frustum = torch.cat([means[:, :2] / z, 1 / z], dim=1)
        p = (frustum - self.center) / self.half_span
        t = torch.full_like(p[:, :1], (time - float(self.time_center)) / float(self.time_half))
        return torch.cat([p, t], dim=1)

    def encode(self, coords: torch.Tensor) -> torch.Tensor:
        """``(N, 4)`` normalised coordinates -> ``(N, F)`` features."""
        if self.encoding == "frequency":
            scales = (2.0 ** torch.arange(self.frequencies, dtype=coords.dtype, device=coords.device)) * math.pi
            angles = coords[:, :, None] * scales
            return torch.cat([coords, torch.sin(angles).flatten(1), torch.cos(angles).flatten(1)], dim=1)
        out = None
        for plane, (a, b) in zip(self.planes, _PLANES):
            # grid_sample takes (x, y) = (width axis, height axis) = (coordinate a, coordinate b).
            grid = torch.stack([coords[:, a], coords[:, b]], dim=-1).view(1, -1, 1, 2)
            feat = F.grid_sample(plane, grid, mode="bilinear", padding_mode="border", align_corners=True)
            feat = feat.view(plane.shape[1], -1).T
            out = feat if out is None else out * feat
        return out

    def forward(self, means: torch.Tensor, time: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Offsets for ``(N, 3)`` canonical means at ``time`` (frames).

        Returns:
            ``d_means (N, 3)`` metres, ``d_quats (N, 4)``, ``d_log_scales (N, 3)``.
        """
        coords = self.normalise(means.detach(), time)
        out = self.head(self.encode(coords))
        z = means[:, 2:3].detach()
        return out[:, :3] * (self.motion_scale * z), out[:, 3:7], out[:, 7:10]

    def time_smoothness(self) -> torch.Tensor:
        """Mean squared second difference along time of the time planes (0 for the frequency encoding)."""
        if self.encoding != "hexplane":
            return torch.zeros(())
        total = torch.zeros((), device=self.center.device)
        for plane, (_, b) in zip(self.planes, _PLANES):
            if b == 3 and plane.shape[2] > 2:
                total = total + (plane[:, :, 2:] - 2 * plane[:, :, 1:-1] + plane[:, :, :-2]).pow(2).mean()
        return total


def frustum_bounds(means: torch.Tensor) -> torch.Tensor:
    """``(2, 3)`` min and max of ``(x/z, y/z, 1/z)`` over ``(N, 3)`` means (1st and 99th percentiles)."""
    z = means[:, 2:3].clamp_min(1e-3)
    frustum = torch.cat([means[:, :2] / z, 1 / z], dim=1).float()
    sample = frustum[:: max(1, frustum.shape[0] // 100_000)]
    return torch.stack([torch.quantile(sample, 0.01, dim=0), torch.quantile(sample, 0.99, dim=0)])
