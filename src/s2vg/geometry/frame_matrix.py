"""The frame matrix: every timestamp seen from every view of the rig.

Rows are timestamps (T videos of V frames), columns are views (V videos of T frames).
This is the one structure that geometry produces and every inpainter and output consumes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from s2vg.geometry.rig import CameraRig


@dataclass(frozen=True, eq=False)
class FrameMatrix:
    """Warped views of a clip, with what is known and at what depth.

    Attributes:
        colors: ``(V, T, H, W, 3)`` float32 in [0, 1]; unknown pixels hold 0 until filled.
        known: ``(V, T, H, W)`` bool, True where the colour comes from a real source pixel
            (or, after inpainting, False where it was invented).
        depth: ``(V, T, H, W)`` float32 metric-like depth in each view's camera; 0 where unknown.
        rig: the cameras; view ``rig.source_index`` is the source video, fully known.
    """

    colors: torch.Tensor
    known: torch.Tensor
    depth: torch.Tensor
    rig: CameraRig

    def __post_init__(self) -> None:
        v, t, h, w, c = self.colors.shape
        if c != 3 or tuple(self.known.shape) != (v, t, h, w) or tuple(self.depth.shape) != (v, t, h, w):
            raise ValueError(
                f"FrameMatrix shapes disagree: colors {tuple(self.colors.shape)}, known "
                f"{tuple(self.known.shape)}, depth {tuple(self.depth.shape)}; expected (V, T, H, W, 3) and (V, T, H, W)"
            )
        if v != self.rig.views:
            raise ValueError(f"FrameMatrix has {v} views but its rig has {self.rig.views}")

    @property
    def views(self) -> int:
        return int(self.colors.shape[0])

    @property
    def frames(self) -> int:
        return int(self.colors.shape[1])

    @property
    def height(self) -> int:
        return int(self.colors.shape[2])

    @property
    def width(self) -> int:
        return int(self.colors.shape[3])

    @property
    def source_index(self) -> int:
        return self.rig.source_index

    def columns(self) -> torch.Tensor:
        """``(V, T, H, W, 3)``: each view as a T-frame video (the storage order)."""
        return self.colors

    def rows(self) -> torch.Tensor:
        """``(T, V, H, W, 3)``: each timestamp as a V-frame "video" across the views."""
        return self.colors.transpose(0, 1)

    def view(self, index: int) -> torch.Tensor:
        """``(T, H, W, 3)`` frames of one view."""
        return self.colors[index]

    def replace(self, **changes: object) -> "FrameMatrix":
        """A new matrix with some fields replaced (the dataclass is frozen)."""
        return dataclasses.replace(self, **changes)

    @property
    def unknown_fraction(self) -> float:
        return float((~self.known).float().mean())
