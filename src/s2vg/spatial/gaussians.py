"""Canonical 3D Gaussians: parameters, initialisation from a frame matrix, and the 3DGS .ply format.

Parameters are stored unactivated, as 3DGS optimises and saves them:

==================  ============  ==================================================
name                shape         meaning
==================  ============  ==================================================
``means``           (N, 3)        centres in the source camera's frame (world), metres
``quats``           (N, 4)        rotation (w, x, y, z), any norm
``log_scales``      (N, 3)        log of the standard deviations, log-metres
``opacity_logits``  (N,)          logit of the opacity
``sh``              (N, K, 3)     SH coefficients, K = (degree + 1)^2; ``sh[:, 0]`` is
                                  ``f_dc`` (colour = 0.5 + 0.2821 * f_dc)
``time_center``     (N,)          frame time where the Gaussian is seen
``time_log_half``   (N,)          log of the half-width (frames) of its visible span
``time_log_scale``  (N,)          log of the fall-off (frames) outside that span
``velocity``        (N, 3)        metres per frame; the mean at time t is
                                  ``means + velocity * (t - time_center)``
==================  ============  ==================================================

The temporal visibility ``exp(-0.5 * max(0, |t - center| - half)^2 / scale^2)``
multiplies the opacity. It exists because the initial point cloud holds a moving object
once per frame; each copy is visible around its own frame, while static content (seen
in every frame, merged into one Gaussian) spans the whole clip. The velocity, seeded
from optical flow (:mod:`s2vg.spatial.motion`), moves each copy towards where the object
is at the neighbouring frames, so two copies meet between frames instead of fading into
each other; the deformation network (:mod:`s2vg.spatial.deformation`) then refines the
motion of every Gaussian.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch

from s2vg.errors import InputError
from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.spatial.rasterize import SH_C0

#: Names of the optimised per-Gaussian tensors, in a fixed order.
PARAM_NAMES: tuple[str, ...] = (
    "means", "quats", "log_scales", "opacity_logits", "sh", "time_center", "time_log_half", "time_log_scale", "velocity",
)


@dataclass
class Gaussians:
    """Canonical Gaussians (see the module docstring for each tensor)."""

    means: torch.Tensor
    quats: torch.Tensor
    log_scales: torch.Tensor
    opacity_logits: torch.Tensor
    sh: torch.Tensor
    time_center: torch.Tensor
    time_log_half: torch.Tensor
    time_log_scale: torch.Tensor
    velocity: torch.Tensor

    def __post_init__(self) -> None:
        n = self.means.shape[0]
        expected = {
            "means": (n, 3), "quats": (n, 4), "log_scales": (n, 3), "opacity_logits": (n,),
            "time_center": (n,), "time_log_half": (n,), "time_log_scale": (n,), "velocity": (n, 3),
        }
        bad = [f"{k} {tuple(getattr(self, k).shape)} (expected {v})" for k, v in expected.items() if tuple(getattr(self, k).shape) != v]
        k = self.sh.shape[1] if self.sh.dim() == 3 else 0
        if self.sh.dim() != 3 or self.sh.shape[0] != n or self.sh.shape[2] != 3 or k not in (1, 4):
            bad.append(f"sh {tuple(self.sh.shape)} (expected ({n}, 1 or 4, 3))")
        if bad:
            raise ValueError("Gaussians got " + "; ".join(bad))

    @property
    def count(self) -> int:
        return int(self.means.shape[0])

    @property
    def sh_degree(self) -> int:
        return int(math.isqrt(self.sh.shape[1])) - 1

    def tensors(self) -> dict[str, torch.Tensor]:
        return {name: getattr(self, name) for name in PARAM_NAMES}

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor]) -> "Gaussians":
        return cls(**{name: tensors[name] for name in PARAM_NAMES})

    def detach(self) -> "Gaussians":
        return Gaussians.from_tensors({k: v.detach().clone() for k, v in self.tensors().items()})

    def to(self, device: torch.device | str) -> "Gaussians":
        return Gaussians.from_tensors({k: v.to(device) for k, v in self.tensors().items()})

    def scales(self) -> torch.Tensor:
        """``(N, 3)`` standard deviations in metres."""
        return torch.exp(self.log_scales)

    def opacities(self, time: float | None = None) -> torch.Tensor:
        """``(N,)`` opacity in [0, 1], times the temporal visibility at ``time`` (frames) if given."""
        opacity = torch.sigmoid(self.opacity_logits)
        if time is None:
            return opacity
        return opacity * self.visibility(time)

    def means_at(self, time: float) -> torch.Tensor:
        """``(N, 3)`` means moved by their velocity to ``time`` (before any deformation)."""
        return self.means + self.velocity * (time - self.time_center)[:, None]

    def visibility(self, time: float) -> torch.Tensor:
        """``(N,)`` temporal visibility in [0, 1] at ``time`` in frames."""
        outside = torch.clamp_min((time - self.time_center).abs() - torch.exp(self.time_log_half), 0.0)
        return torch.exp(-0.5 * (outside / torch.exp(self.time_log_scale)) ** 2)


def _voxel_keys(points: torch.Tensor, focal: float, voxel_px: float, depth_bin: float) -> torch.Tensor:
    """``(P, 3)`` int64 cell of each point: ``voxel_px`` pixels of the source image across,
    ``depth_bin`` relative depth deep, so near and far content never share a cell.

    Cells are centred on source pixel centres (rounding, not flooring): points lifted
    from source pixels sit exactly on integers, where a floor would split neighbours
    unevenly by rounding error.
    """
    z = points[:, 2].clamp_min(1e-6)
    iu = torch.round(focal * points[:, 0] / z / voxel_px).long()
    iv = torch.round(focal * points[:, 1] / z / voxel_px).long()
    iz = torch.floor(torch.log(z) / math.log1p(depth_bin)).long()
    return torch.stack([iu, iv, iz], dim=1)


@dataclass(frozen=True)
class PointCloud:
    """Coloured points lifted from a frame matrix, each valid over a span of frames.

    Attributes:
        points: ``(P, 3)`` float32 world positions, metres.
        colors: ``(P, 3)`` float32 in [0, 1].
        t_min, t_max: ``(P,)`` float32 first and last frame time of the point's run.
        velocity: ``(P, 3)`` float32 metres per frame (zero where unknown).
    """

    points: torch.Tensor
    colors: torch.Tensor
    t_min: torch.Tensor
    t_max: torch.Tensor
    velocity: torch.Tensor


def matrix_point_cloud(
    matrix: FrameMatrix,
    *,
    times: torch.Tensor | None = None,
    stride: int = 2,
    depth_bin: float = 0.02,
    colour_tolerance: float = 0.1,
    motion: bool = True,
) -> PointCloud:
    """Lift the matrix to points: one per pixel and *run* of frames where it stays the same.

    Pixels used: every ``stride``-th pixel of the source view (all real), and of the other
    views only the filled ones (their known pixels are warped copies of source pixels,
    at positions rounded to their pixel grid). A run is a maximal stretch of consecutive
    frames in which a pixel keeps its depth (within ``depth_bin``, relative) and colour
    (within ``colour_tolerance`` per channel): static content gives one point for the
    whole clip, moving content one point per frame, so nothing moving is averaged over time.

    Args:
        matrix: the (inpainted) frame matrix; ``depth (V, T, H, W)`` is each view's z (> 0
            where usable).
        times: ``(T,)`` frame time of each matrix frame; defaults to ``0..T-1``.
        motion: estimate the source view's scene flow for the points' velocities
            (:func:`s2vg.spatial.motion.source_velocity`); else they are zero.
    """
    from s2vg.geometry.warp import unproject
    from s2vg.spatial.motion import source_velocity

    t_count = matrix.frames
    times = torch.arange(t_count, dtype=torch.float32) if times is None else times.float()
    rig = matrix.rig
    cam_to_world = rig.cam_to_world(torch.float64)
    pts, cols, t_lo, t_hi, vels = [], [], [], [], []
    grid = (slice(None), slice(0, None, stride), slice(0, None, stride))
    source = rig.source_index
    source_motion = None
    if motion and t_count > 1:
        source_motion = torch.from_numpy(source_velocity(
            matrix.colors[source].float().numpy(), matrix.depth[source].float().numpy(),
            rig.intrinsics(torch.float64, view=source).numpy(), times.numpy(),
        ))
    for view in range(matrix.views):
        depth = matrix.depth[view][grid].float()
        colors = matrix.colors[view][grid].float()
        usable = depth > 0
        if view != rig.source_index:
            usable &= ~matrix.known[view][grid]
        if not bool(usable.any()):
            continue
        same = (
            usable[1:] & usable[:-1]
            & ((depth[1:] - depth[:-1]).abs() <= depth_bin * depth[:-1])
            & ((colors[1:] - colors[:-1]).abs().amax(-1) <= colour_tolerance)
        )
        starts = torch.cat([torch.ones_like(usable[:1]), ~same], dim=0)
        run = torch.cumsum(starts.long(), dim=0)  # run number per pixel, along time
        h, w = depth.shape[1:]
        pixel = torch.arange(h * w).view(1, h, w).expand(t_count, h, w)
        key = (pixel * (t_count + 1) + run)[usable]
        uniq, inverse = torch.unique(key, return_inverse=True)
        m = uniq.numel()
        count = torch.zeros(m).index_add_(0, inverse, torch.ones(inverse.numel()))
        K = rig.intrinsics(torch.float64, view=view)
        points = unproject(matrix.depth[view].double(), K)[grid][usable]
        points = (points @ cam_to_world[view, :3, :3].T + cam_to_world[view, :3, 3]).float()
        frame_times = times[:, None, None].expand(usable.shape)[usable]
        pts.append(torch.zeros(m, 3).index_add_(0, inverse, points) / count[:, None])
        cols.append(torch.zeros(m, 3).index_add_(0, inverse, colors[usable]) / count[:, None])
        t_lo.append(torch.full((m,), math.inf).scatter_reduce_(0, inverse, frame_times, "amin"))
        t_hi.append(torch.full((m,), -math.inf).scatter_reduce_(0, inverse, frame_times, "amax"))
        if view == source and source_motion is not None:
            vels.append(torch.zeros(m, 3).index_add_(0, inverse, source_motion[grid][usable]) / count[:, None])
        else:
            vels.append(torch.zeros(m, 3))
    if not pts:
        empty = torch.zeros(0)
        return PointCloud(torch.zeros(0, 3), torch.zeros(0, 3), empty, empty, torch.zeros(0, 3))
    return PointCloud(torch.cat(pts), torch.cat(cols), torch.cat(t_lo), torch.cat(t_hi), torch.cat(vels))


def merge_on_voxels(cloud: PointCloud, focal: float, voxel_px: float, depth_bin: float) -> PointCloud:
    """Merge points that share a voxel and a span of frames (mean position and colour).

    Points of different spans stay apart, so a moving object never merges with what
    passes through the same place at another time.
    """
    cells = _voxel_keys(cloud.points, focal, voxel_px, depth_bin)
    rows = torch.cat([cells, torch.round(cloud.t_min * 64).long()[:, None], torch.round(cloud.t_max * 64).long()[:, None]], 1)
    _, inverse = torch.unique(rows, dim=0, return_inverse=True)
    m = int(inverse.max()) + 1 if inverse.numel() else 0
    count = torch.zeros(m).index_add_(0, inverse, torch.ones(inverse.numel()))
    points = torch.zeros(m, 3).index_add_(0, inverse, cloud.points) / count[:, None]
    colors = torch.zeros(m, 3).index_add_(0, inverse, cloud.colors) / count[:, None]
    t_min = torch.full((m,), math.inf).scatter_reduce_(0, inverse, cloud.t_min, "amin")
    t_max = torch.full((m,), -math.inf).scatter_reduce_(0, inverse, cloud.t_max, "amax")
    velocity = torch.zeros(m, 3).index_add_(0, inverse, cloud.velocity) / count[:, None]
    return PointCloud(points, colors, t_min, t_max, velocity)


def init_gaussians(
    matrix: FrameMatrix,
    *,
    times: torch.Tensor | None = None,
    stride: int = 1,
    voxel_px: float = 1.0,
    depth_bin: float = 0.02,
    max_gaussians: int = 100_000,
    sh_degree: int = 0,
    opacity: float = 0.9,
    scale_factor: float = 0.5,
    time_falloff: float = 0.5,
) -> Gaussians:
    """Gaussians from the matrix's depth as a coloured point cloud, de-duplicated on a voxel grid.

    Points come from :func:`matrix_point_cloud` and merge per voxel of ``voxel_px``
    source-image pixels by ``depth_bin`` relative depth (and the same span of frames).
    When more than ``max_gaussians`` remain, the voxel grows until they fit. Each
    Gaussian is isotropic with a standard deviation of ``scale_factor`` voxels at its
    depth, and visible over its span of frames with ``time_falloff`` frames of fall-off.

    Returns:
        :class:`Gaussians` (float32, CPU).
    """
    if matrix.views < 2:
        raise InputError(f"spatial fitting needs a frame matrix of at least 2 views; got {matrix.views}")
    cloud = matrix_point_cloud(matrix, times=times, stride=stride, depth_bin=depth_bin)
    if cloud.points.shape[0] == 0:
        raise InputError("the frame matrix has no pixel with depth > 0; give a matrix with depth (s2vg matrix --save-depth)")
    focal = matrix.rig.focal
    voxel = max(voxel_px, float(stride))
    while True:
        merged = merge_on_voxels(cloud, focal, voxel, depth_bin)
        m = merged.points.shape[0]
        if m <= max_gaussians:
            break
        voxel *= max(1.05, math.sqrt(m / max_gaussians))
    z = merged.points[:, 2].clamp_min(1e-3)
    sigma = scale_factor * voxel * z / focal
    sh = torch.zeros(m, (sh_degree + 1) ** 2, 3)
    sh[:, 0] = (merged.colors - 0.5) / SH_C0
    quats = torch.zeros(m, 4)
    quats[:, 0] = 1.0
    half = 0.5 * (merged.t_max - merged.t_min)
    return Gaussians(
        means=merged.points.float(),
        quats=quats,
        log_scales=torch.log(sigma)[:, None].repeat(1, 3).float(),
        opacity_logits=torch.full((m,), math.log(opacity / (1 - opacity))),
        sh=sh.float(),
        time_center=(0.5 * (merged.t_max + merged.t_min)).float(),
        time_log_half=torch.log(half.clamp_min(0.05)).float(),
        time_log_scale=torch.full((m,), math.log(time_falloff)),
        velocity=merged.velocity.float(),
    )


# --- the 3DGS .ply format ---------------------------------------------------------------

def ply_property_names(sh_degree: int) -> list[str]:
    """Vertex properties in the order 3DGS writes them."""
    rest = 3 * ((sh_degree + 1) ** 2 - 1)
    return (
        ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
        + [f"f_rest_{i}" for i in range(rest)]
        + ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    )


def write_ply(path: str | Path, gaussians: Gaussians) -> Path:
    """Write the canonical Gaussians as a binary little-endian 3DGS .ply.

    Properties: ``x y z nx ny nz f_dc_0..2 f_rest_* opacity scale_0..2 rot_0..3`` as
    float32; ``opacity`` is the logit, ``scale_*`` the log of the standard deviation,
    ``rot_*`` the quaternion (w, x, y, z), ``f_rest`` channel-major (all coefficients
    of red, then green, then blue), normals zero: what 3DGS viewers read.
    """
    path = Path(path)
    g = gaussians.detach().to("cpu")
    n = g.count
    names = ply_property_names(g.sh_degree)
    rest = g.sh[:, 1:].transpose(1, 2).reshape(n, -1)  # (N, 3, K-1) channel-major
    columns = [g.means, torch.zeros(n, 3), g.sh[:, 0], rest, g.opacity_logits[:, None], g.log_scales, g.quats]
    data = torch.cat(columns, dim=1).numpy().astype("<f4")
    header = ["ply", "format binary_little_endian 1.0", f"element vertex {n}"]
    header += [f"property float {name}" for name in names]
    header += ["end_header"]
    with open(path, "wb") as fh:
        fh.write(("\n".join(header) + "\n").encode("ascii"))
        fh.write(np.ascontiguousarray(data).tobytes())
    return path


_PLY_TYPES = {"float": "f4", "float32": "f4", "double": "f8", "float64": "f8", "uchar": "u1", "uint8": "u1",
              "char": "i1", "int8": "i1", "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
              "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4"}


def read_ply(path: str | Path) -> dict[str, np.ndarray]:
    """Read the vertex properties of a binary .ply as float32 arrays by name.

    Raises:
        InputError: not a readable binary .ply with a vertex element.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {str(path)!r} ({exc.strerror}); give a scene folder written by `s2vg spatial --save-scene`") from exc
    end = raw.find(b"end_header\n")
    if not raw.startswith(b"ply") or end < 0:
        raise InputError(f"{str(path)!r} is not a .ply file (no ply header); give a scene folder written by `s2vg spatial --save-scene`")
    header = raw[:end].decode("ascii", errors="replace").splitlines()
    fmt, count, props, in_vertex = None, 0, [], False
    for line in header:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "format":
            fmt = parts[1]
        elif parts[0] == "element":
            in_vertex = parts[1] == "vertex"
            if in_vertex:
                count = int(parts[2])
        elif parts[0] == "property" and in_vertex:
            if parts[1] == "list" or parts[1] not in _PLY_TYPES:
                raise InputError(f"{str(path)!r} has an unsupported vertex property {line.strip()!r}")
            props.append((parts[2], _PLY_TYPES[parts[1]]))
    if fmt not in ("binary_little_endian", "binary_big_endian") or not props:
        raise InputError(f"{str(path)!r} must be a binary .ply with vertex properties; got format {fmt!r}")
    order = "<" if fmt == "binary_little_endian" else ">"
    dtype = np.dtype([(name, order + code) for name, code in props])
    body = raw[end + len(b"end_header\n"):]
    if len(body) < dtype.itemsize * count:
        raise InputError(f"{str(path)!r} is truncated: {count} vertices need {dtype.itemsize * count} bytes, found {len(body)}")
    table = np.frombuffer(body, dtype=dtype, count=count)
    return {name: table[name].astype(np.float32) for name, _ in props}


def gaussians_from_ply(
    properties: dict[str, np.ndarray], temporal: dict[str, torch.Tensor] | None = None, source: str = "scene"
) -> Gaussians:
    """Canonical Gaussians from :func:`read_ply` properties (plus the temporal tensors, else always visible)."""
    required = ["x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    missing = [name for name in required if name not in properties]
    if missing:
        raise InputError(f"{source} lacks the 3DGS properties {', '.join(missing)}; write it with `s2vg spatial --save-scene`")

    def col(*names: str) -> torch.Tensor:
        return torch.from_numpy(np.stack([properties[name] for name in names], axis=1).copy())

    n = len(properties["x"])
    rest_names = sorted((k for k in properties if k.startswith("f_rest_")), key=lambda k: int(k.split("_")[-1]))
    if len(rest_names) not in (0, 9):
        raise InputError(f"{source} has {len(rest_names)} f_rest properties; s2vg reads SH degree 0 (none) or 1 (9)")
    sh = col("f_dc_0", "f_dc_1", "f_dc_2")[:, None, :]
    if rest_names:
        rest = col(*rest_names).reshape(n, 3, 3).transpose(1, 2)
        sh = torch.cat([sh, rest], dim=1)
    if temporal is None:
        temporal = {
            "time_center": torch.zeros(n), "time_log_half": torch.full((n,), math.log(1e6)), "time_log_scale": torch.zeros(n),
            "velocity": torch.zeros(n, 3),
        }
    for name, value in temporal.items():
        if value.shape[0] != n:
            raise InputError(f"{source}: {name} has {tuple(value.shape)} entries but the .ply has {n} Gaussians; save the scene again")
    return Gaussians(
        means=col("x", "y", "z"),
        quats=col("rot_0", "rot_1", "rot_2", "rot_3"),
        log_scales=col("scale_0", "scale_1", "scale_2"),
        opacity_logits=torch.from_numpy(properties["opacity"].copy()),
        sh=sh.contiguous(),
        time_center=temporal["time_center"].float(),
        time_log_half=temporal["time_log_half"].float(),
        time_log_scale=temporal["time_log_scale"].float(),
        velocity=temporal.get("velocity", torch.zeros(n, 3)).float(),
    )


def temporal_tensors(gaussians: Gaussians) -> dict[str, torch.Tensor]:
    """The per-Gaussian tensors the .ply has no standard property for (time and velocity)."""
    return {
        f.name: getattr(gaussians, f.name).detach().cpu()
        for f in fields(gaussians)
        if f.name.startswith("time_") or f.name == "velocity"
    }
