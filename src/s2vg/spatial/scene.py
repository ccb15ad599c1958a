"""A fitted dynamic scene: canonical Gaussians, their deformation, the rig they were fitted to.

A scene folder holds::

    point_cloud.ply   canonical Gaussians, standard 3DGS properties (viewers open it)
    deformation.pt    deformation weights, its settings, and the per-Gaussian temporal
                      visibility (time_center, time_log_half, time_log_scale)
    rig.json          the frame matrix's cameras (CameraRig.to_dict)
    scene.json        frames, fps, depth range, SH degree, Gaussian count, fit settings

It is written into a hidden temporary folder next to the destination and moved into
place when whole.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import torch

from s2vg.errors import InputError
from s2vg.geometry.rig import CameraRig
from s2vg.io.staging import staged_folder
from s2vg.spatial.deformation import Deformation
from s2vg.spatial.gaussians import Gaussians, gaussians_from_ply, read_ply, temporal_tensors, write_ply
from s2vg.spatial.rasterize import Rendered, rasterization

SCENE_FORMAT = "s2vg-spatial-scene"
SCENE_VERSION = 1


@dataclass
class GaussianState:
    """Activated Gaussians at one time, ready for :func:`~s2vg.spatial.rasterize.rasterization`.

    Attributes:
        means ``(N, 3)``, quats ``(N, 4)``, scales ``(N, 3)`` metres, opacities ``(N,)``
        (temporal visibility included), sh ``(N, K, 3)``, sh_degree.
    """

    means: torch.Tensor
    quats: torch.Tensor
    scales: torch.Tensor
    opacities: torch.Tensor
    sh: torch.Tensor
    sh_degree: int


def gaussians_at(gaussians: Gaussians, deformation: Deformation | None, time: float) -> GaussianState:
    """Deform the canonical Gaussians to ``time`` (frames) and activate them (differentiable)."""
    means, quats, log_scales = gaussians.means_at(time), gaussians.quats, gaussians.log_scales
    if deformation is not None:
        d_means, d_quats, d_log_scales = deformation(means, time)
        means, quats, log_scales = means + d_means, quats + d_quats, log_scales + d_log_scales
    return GaussianState(
        means=means,
        quats=quats,
        scales=torch.exp(log_scales),
        opacities=gaussians.opacities(time),
        sh=gaussians.sh,
        sh_degree=gaussians.sh_degree,
    )


@dataclass
class SpatialScene:
    """A fitted scene (see the module docstring).

    Attributes:
        gaussians: canonical Gaussians.
        deformation: the deformation field, or None (static scene).
        rig: cameras of the matrix it was fitted to (sets the image size and focal).
        frames: number of frames T; times run over [0, T - 1].
        fps: frame rate of the source clip.
        depth_range: (near, far) in metres: 2nd and 98th percentiles of the Gaussians' depth.
        info: free-form record (fit settings and statistics) saved in scene.json.
    """

    gaussians: Gaussians
    deformation: Deformation | None
    rig: CameraRig
    frames: int
    fps: Fraction = Fraction(24)
    depth_range: tuple[float, float] = (1.0, 10.0)
    info: dict = field(default_factory=dict)

    @property
    def median_depth(self) -> float:
        return float(self.gaussians.means[:, 2].detach().median())

    def at(self, time: float) -> GaussianState:
        return gaussians_at(self.gaussians, self.deformation, time)

    @torch.no_grad()
    def render(
        self,
        viewmats: torch.Tensor,
        Ks: torch.Tensor,
        time: float,
        *,
        width: int | None = None,
        height: int | None = None,
        tile_size: int = 4,
        backend: str = "auto",
    ) -> Rendered:
        """Render the scene at ``time`` into ``(C, 4, 4)`` world-to-camera ``viewmats`` with ``(C, 3, 3)`` ``Ks``."""
        state = self.at(time)
        device = state.means.device
        return rasterization(
            state.means, state.quats, state.scales, state.opacities, state.sh,
            viewmats.to(device, state.means.dtype), Ks.to(device, state.means.dtype),
            width or self.rig.width, height or self.rig.height,
            sh_degree=state.sh_degree, tile_size=tile_size, backend=backend,  # type: ignore[arg-type]
        )

    def save(self, folder: str | Path) -> Path:
        """Write the scene folder (see the module docstring); returns it."""
        folder = Path(folder)
        with staged_folder(folder, option="--save-scene") as staging:
            write_ply(staging / "point_cloud.ply", self.gaussians)
            torch.save(
                {
                    "format": SCENE_FORMAT,
                    "version": SCENE_VERSION,
                    "deformation": None if self.deformation is None else {
                        "config": self.deformation.config,
                        "state_dict": {k: v.detach().cpu() for k, v in self.deformation.state_dict().items()},
                    },
                    "temporal": temporal_tensors(self.gaussians),
                },
                staging / "deformation.pt",
            )
            (staging / "rig.json").write_text(json.dumps(self.rig.to_dict(), indent=2))
            meta = {
                "format": SCENE_FORMAT,
                "version": SCENE_VERSION,
                "frames": self.frames,
                "fps": str(self.fps),
                "depth_range": list(self.depth_range),
                "sh_degree": self.gaussians.sh_degree,
                "gaussians": self.gaussians.count,
                "info": self.info,
            }
            (staging / "scene.json").write_text(json.dumps(meta, indent=2))
        return folder


def load_scene(folder: str | Path, device: str | torch.device = "cpu") -> SpatialScene:
    """Read a scene folder written by :meth:`SpatialScene.save`.

    Raises:
        InputError: the folder or one of its files is missing or unreadable.
    """
    folder = Path(folder)
    hint = "give a folder written by `s2vg spatial --save-scene`"
    if not folder.is_dir():
        raise InputError(f"scene folder {str(folder)!r} does not exist or is not a folder; {hint}")
    missing = [name for name in ("point_cloud.ply", "deformation.pt", "rig.json", "scene.json") if not (folder / name).is_file()]
    if missing:
        raise InputError(f"scene folder {str(folder)!r} lacks {', '.join(missing)}; {hint}")
    try:
        meta = json.loads((folder / "scene.json").read_text())
        rig = CameraRig.from_dict(json.loads((folder / "rig.json").read_text()))
        if meta.get("format") != SCENE_FORMAT:
            raise ValueError(f"format is {meta.get('format')!r}, not {SCENE_FORMAT!r}")
        frames = int(meta["frames"])
        fps = Fraction(str(meta.get("fps", "24")))
        depth_range = tuple(float(x) for x in meta.get("depth_range", (1.0, 10.0)))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"scene folder {str(folder)!r} has an unreadable scene.json or rig.json ({exc}); {hint}") from exc
    try:
        payload = torch.load(folder / "deformation.pt", map_location="cpu", weights_only=True)
        temporal = payload["temporal"]
    except Exception as exc:  # torch raises many types for a corrupt file
        raise InputError(f"{str(folder / 'deformation.pt')!r} is unreadable ({type(exc).__name__}: {exc}); {hint}") from exc
    gaussians = gaussians_from_ply(read_ply(folder / "point_cloud.ply"), temporal, source=str(folder / "point_cloud.ply"))
    deformation = None
    if payload.get("deformation") is not None:
        cfg = dict(payload["deformation"]["config"])
        state = payload["deformation"]["state_dict"]
        time_range = tuple(cfg.pop("time_range"))
        encoding = cfg.pop("encoding")
        bounds = torch.zeros(2, 3)
        deformation = Deformation(bounds, time_range, encoding=encoding, **cfg)
        try:
            deformation.load_state_dict(state)
        except RuntimeError as exc:
            raise InputError(f"{str(folder / 'deformation.pt')!r} does not match its settings ({exc}); {hint}") from exc
        deformation.eval()
    scene = SpatialScene(
        gaussians=gaussians.to(device),
        deformation=None if deformation is None else deformation.to(device),
        rig=rig, frames=frames, fps=fps, depth_range=depth_range, info=meta.get("info", {}),
    )
    return scene
