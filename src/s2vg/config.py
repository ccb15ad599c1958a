"""Options of every stage, one frozen dataclass each; every default is written once, here.

The CLI takes its defaults from these classes, so Python callers and CLI users get the
same behaviour. ``__post_init__`` rejects impossible values with a one-line message.
Derived values (the focal length for a given width, the source view of a rig) are
computed by the stages, not configured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from s2vg.errors import OptionError

RigMode = Literal["left2right", "right2left", "middle2leftright", "circle"]
RIG_MODES: tuple[str, ...] = ("left2right", "right2left", "middle2leftright", "circle")

DepthKind = Literal["relative", "metric", "disparity"]
DEPTH_KINDS: tuple[str, ...] = ("relative", "metric", "disparity")

#: Focal length in pixels that the method uses for a 576-px-wide frame (about 39.6° hfov).
REFERENCE_FOCAL_PX = 800.0
REFERENCE_WIDTH_PX = 576


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise OptionError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def _check_positive(name: str, value: float | None, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if value is None or not math.isfinite(value) or value <= 0:
        raise OptionError(f"{name} must be a positive number; got {value!r}")


@dataclass(frozen=True)
class RigConfig:
    """The virtual cameras of the frame matrix (DESIGN.md section 2, "Cameras").

    Args:
        mode: where the source camera sits among the views; defaults to ``"left2right"``
            (the source is the left eye, the views move right).
        views: number of views V, source included; defaults to 8.
        baseline: largest distance B between the source and a view, in metres
            (for ``middle2leftright`` the outer views are at ±B/2); defaults to 0.08.
        focal: focal length in pixels; defaults to None, meaning 800 px scaled by
            width/576.
        circle_diameter: diameter D of the ``circle`` rig in metres; defaults to 0.075.
        circle_squash: vertical squash factor of the ``circle`` rig; defaults to 0.5.
    """

    mode: RigMode = "left2right"
    views: int = 8
    baseline: float = 0.08
    focal: float | None = None
    circle_diameter: float = 0.075
    circle_squash: float = 0.5

    def __post_init__(self) -> None:
        _check_choice("rig mode", self.mode, RIG_MODES)
        if not isinstance(self.views, int) or self.views < 2:
            raise OptionError(f"views must be an integer >= 2 (the source and at least one new view); got {self.views!r}")
        if self.mode == "circle" and self.views % 2:
            raise OptionError(f"the circle rig needs an even number of views; got {self.views}")
        if self.mode == "circle":
            _check_positive("circle diameter", self.circle_diameter)
            if not math.isfinite(self.circle_squash) or self.circle_squash < 0:
                raise OptionError(f"circle squash must be >= 0; got {self.circle_squash!r}")
        else:
            _check_positive("baseline", self.baseline)
        _check_positive("focal", self.focal, allow_none=True)


@dataclass(frozen=True)
class DepthConfig:
    """How depth input becomes metric-like depth (DESIGN.md section 2, "Depth normalisation").

    Args:
        kind: ``"relative"`` inverse depth (larger = nearer, normalised over the whole clip),
            ``"metric"`` depth in metres, or ``"disparity"`` in pixels of shift between the
            source and a view at the rig's baseline; defaults to ``"relative"``.
        far: depth in metres of the farthest content for relative input; defaults to 10.
        near: optional divisor of the normalised inverse depth, moving the nearest content
            to 1/(1/near + 1/far) metres; defaults to None (nearest at about 0.9 m).
    """

    kind: DepthKind = "relative"
    far: float | None = 10.0
    near: float | None = None

    def __post_init__(self) -> None:
        _check_choice("depth kind", self.kind, DEPTH_KINDS)
        _check_positive("far depth", self.far, allow_none=True)
        _check_positive("near depth", self.near, allow_none=True)


@dataclass(frozen=True)
class CleanupConfig:
    """Multi-plane cleanup of warped views (DESIGN.md section 2, "Multi-plane cleanup").

    Args:
        planes: number of depth planes P; defaults to 4. 1 disables the plane split
            (isolated points and cracks are still handled on the whole view).
        enabled: run the cleanup at all; defaults to True.
    """

    planes: int = 4
    enabled: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.planes, int) or self.planes < 1:
            raise OptionError(f"planes must be an integer >= 1; got {self.planes!r}")
