"""The camera rig of the frame matrix: shared pinhole intrinsics and one pose per view.

Convention: pixel centres at integer coordinates, origin top-left; camera axes x right,
y down, z forward; poses are camera-to-world. The source camera is the world origin,
and every view is the source camera translated (parallel cameras, no toe-in). A view at
+b along x sees a point at depth z shifted by -f*b/z pixels, so a positive baseline
moves the camera right and makes the source the left eye.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from s2vg.config import REFERENCE_FOCAL_PX, REFERENCE_WIDTH_PX, RigConfig


def default_focal(width: int) -> float:
    """Focal length in pixels for a frame ``width`` pixels wide: 800 px at 576, scaled."""
    return REFERENCE_FOCAL_PX * width / REFERENCE_WIDTH_PX


def view_positions(config: RigConfig) -> np.ndarray:
    """Camera centres of the rig's views in the source camera's frame.

    Returns:
        ``(V, 3)`` float64 array of (x, y, z) in metres; z is always 0.
    """
    v = config.views
    xy = np.zeros((v, 2), dtype=np.float64)
    if config.mode == "left2right":
        xy[:, 0] = np.linspace(0.0, config.baseline, v)
    elif config.mode == "right2left":
        xy[:, 0] = np.linspace(0.0, -config.baseline, v)
    elif config.mode == "middle2leftright":
        xy[:, 0] = np.linspace(-0.5 * config.baseline, 0.5 * config.baseline, v)
        # The reference sets the middle entry to exactly 0, which makes the inner
        # spacing uneven for even V; the outer views stay at +-B/2.
        xy[v // 2, 0] = 0.0
    else:  # circle through the source, centred at (D/2, 0)
        d = config.circle_diameter
        r = 0.5 * d
        x_top = np.linspace(0.0, d, v // 2 + 1)
        x_bottom = x_top[1:-1][::-1]
        y_top = np.sqrt(np.maximum(r * r - (x_top - r) ** 2, 0.0))
        y_bottom = -np.sqrt(np.maximum(r * r - (x_bottom - r) ** 2, 0.0))
        xy[:, 0] = np.concatenate([x_top, x_bottom])
        xy[:, 1] = np.concatenate([y_top, y_bottom]) * config.circle_squash
    return np.concatenate([xy, np.zeros((v, 1))], axis=1)


@dataclass(frozen=True, eq=False)
class CameraRig:
    """Pinhole intrinsics shared by all views plus one camera-to-world translation per view.

    Build it with :meth:`from_config`. ``positions`` is ``(V, 3)`` float64 in metres.
    ``principal_shift`` is an optional ``(V,)`` horizontal offset in pixels of each view's
    principal point (a sensor shift, not a rotation): it moves the zero-disparity plane
    (convergence) while keeping the cameras parallel.
    """

    width: int
    height: int
    focal: float
    positions: np.ndarray
    mode: str = "left2right"
    principal_shift: np.ndarray | None = None

    @classmethod
    def from_config(cls, config: RigConfig, height: int, width: int) -> "CameraRig":
        focal = config.focal if config.focal is not None else default_focal(width)
        return cls(width=width, height=height, focal=float(focal), positions=view_positions(config), mode=config.mode)

    @property
    def views(self) -> int:
        return int(self.positions.shape[0])

    @property
    def source_index(self) -> int:
        """Index of the view that sits exactly at the source camera."""
        at_origin = np.flatnonzero(np.all(self.positions == 0.0, axis=1))
        return int(at_origin[0])

    @property
    def target_indices(self) -> tuple[int, ...]:
        """The views a stereo output reads: the last view, or both ends around a middle source."""
        if self.mode == "middle2leftright":
            return (0, self.views - 1)
        return (self.views - 1,)

    @property
    def principal_point(self) -> tuple[float, float]:
        """(cx, cy) = (W/2, H/2), as the reference sets it."""
        return 0.5 * self.width, 0.5 * self.height

    def intrinsics(self, dtype: torch.dtype = torch.float64, view: int | None = None) -> torch.Tensor:
        """``(3, 3)`` pinhole matrix K of the source camera, or of ``view`` with its sensor shift."""
        cx, cy = self.principal_point
        if view is not None and self.principal_shift is not None:
            cx += float(self.principal_shift[view])
        return torch.tensor([[self.focal, 0.0, cx], [0.0, self.focal, cy], [0.0, 0.0, 1.0]], dtype=dtype)

    def with_convergence(self, shift_per_metre: float) -> "CameraRig":
        """A rig whose views are sensor-shifted by ``shift_per_metre * x`` pixels.

        A point at depth z lands ``-f*x/z + shift_per_metre*x`` pixels from its source
        position in the view at x; choosing ``shift_per_metre = f / z0`` puts depth z0 at
        zero disparity (the screen plane).
        """
        shift = self.positions[:, 0] * shift_per_metre
        return dataclasses.replace(self, principal_shift=shift)

    def cam_to_world(self, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """``(V, 4, 4)`` camera-to-world poses (identity rotation, translation = position)."""
        poses = torch.eye(4, dtype=dtype).repeat(self.views, 1, 1)
        poses[:, :3, 3] = torch.as_tensor(self.positions, dtype=dtype)
        return poses

    def tgt_from_src(self, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """``(V, 4, 4)`` transforms taking points in the source camera to each view's camera."""
        return torch.linalg.inv(self.cam_to_world(dtype))

    def to_dict(self) -> dict:
        return {
            "width": self.width,
            "height": self.height,
            "focal": self.focal,
            "mode": self.mode,
            "positions": self.positions.tolist(),
            "principal_shift": None if self.principal_shift is None else self.principal_shift.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "CameraRig":
        return cls(
            width=int(data["width"]),
            height=int(data["height"]),
            focal=float(data["focal"]),
            positions=np.asarray(data["positions"], dtype=np.float64).reshape(-1, 3),
            mode=str(data.get("mode", "left2right")),
            principal_shift=None if data.get("principal_shift") is None else np.asarray(data["principal_shift"], dtype=np.float64),
        )
