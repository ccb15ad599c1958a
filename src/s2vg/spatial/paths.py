"""Camera paths for rendering a fitted scene: stereo pair, dolly, orbit, or a file.

Convention (as :mod:`s2vg.geometry.rig`): world = the source camera's frame, x right,
y down, z forward, metres; poses are camera-to-world; the rig's views sit at
``rig.positions``. A path gives, per output frame, a camera-to-world pose, intrinsics
and the scene time (in frames) to render.

Path files (one camera per output frame):

- CSV with a header naming at least ``x,y,z,look_x,look_y,look_z`` and optionally
  ``time`` (frames), e.g. ``x,y,z,look_x,look_y,look_z,time`` then ``0.01,0,0,0,0,3,0``.
- JSON: a list of objects ``{"position": [x, y, z], "look_at": [x, y, z], "time": t}``
  (``time`` optional), or ``{"frames": [...]}`` holding that list.

Without a time column, frames are spread evenly over the clip (row i of n at
``i * (T - 1) / (n - 1)``). Up is -y (the source camera's up).
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from s2vg.errors import InputError, OptionError
from s2vg.geometry.rig import CameraRig
from s2vg.geometry.stereo import baseline_for_divergence, convergence_shift_per_metre

PATH_FILE_COLUMNS = ("x", "y", "z", "look_x", "look_y", "look_z")


@dataclass(frozen=True)
class CameraPath:
    """Cameras of one output stream.

    Attributes:
        cam_to_world: ``(F, 4, 4)`` float64 poses.
        Ks: ``(F, 3, 3)`` float64 intrinsics.
        times: ``(F,)`` float64 scene time of each frame, in frames.
    """

    cam_to_world: torch.Tensor
    Ks: torch.Tensor
    times: torch.Tensor

    def __len__(self) -> int:
        return int(self.times.shape[0])

    def viewmats(self) -> torch.Tensor:
        """``(F, 4, 4)`` world-to-camera transforms."""
        return torch.linalg.inv(self.cam_to_world)

    def offset(self, right_m: float, shift_px: float = 0.0) -> "CameraPath":
        """The same path moved ``right_m`` metres along each camera's own x axis, its
        principal point moved ``shift_px`` pixels (a parallel stereo eye)."""
        poses = self.cam_to_world.clone()
        poses[:, :3, 3] += right_m * poses[:, :3, 0]
        Ks = self.Ks.clone()
        Ks[:, 0, 2] += shift_px
        return CameraPath(poses, Ks, self.times.clone())


def look_at_pose(position: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``(4, 4)`` camera-to-world pose at ``position`` with z towards ``target`` and up = -y.

    Raises:
        ValueError: the target is the position, or straight above/below it.
    """
    forward = np.asarray(target, np.float64) - np.asarray(position, np.float64)
    norm = np.linalg.norm(forward)
    if not np.isfinite(norm) or norm < 1e-9:
        raise ValueError("look-at point equals the camera position")
    forward /= norm
    down = np.array([0.0, 1.0, 0.0])
    right = np.cross(down, forward)
    if np.linalg.norm(right) < 1e-6:
        raise ValueError("the camera looks straight up or down")
    right /= np.linalg.norm(right)
    y = np.cross(forward, right)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, y, forward, position
    return pose


def _path(poses: np.ndarray, rig: CameraRig, times: np.ndarray) -> CameraPath:
    K = rig.intrinsics(torch.float64)
    return CameraPath(torch.as_tensor(poses, dtype=torch.float64), K.expand(len(poses), 3, 3).clone(), torch.as_tensor(times, dtype=torch.float64))


def clip_times(frames: int, count: int | None = None) -> np.ndarray:
    """``count`` times spread over ``[0, frames - 1]`` (one per frame by default)."""
    count = frames if count is None else count
    if count == 1:
        return np.zeros(1)
    return np.linspace(0.0, frames - 1, count)


def rig_centre(rig: CameraRig) -> np.ndarray:
    """Middle of the rig's bounding box (3,)."""
    return 0.5 * (rig.positions.min(0) + rig.positions.max(0))


def static_path(rig: CameraRig, frames: int, position: np.ndarray | None = None) -> CameraPath:
    """A camera parallel to the source's at ``position`` (default: the rig's centre) for every frame."""
    position = rig_centre(rig) if position is None else np.asarray(position, np.float64)
    pose = np.eye(4)
    pose[:3, 3] = position
    return _path(np.repeat(pose[None], frames, 0), rig, clip_times(frames))


def dolly_path(rig: CameraRig, frames: int) -> CameraPath:
    """A horizontal move from the rig's leftmost to its rightmost x, looking straight ahead."""
    centre = rig_centre(rig)
    xs = np.linspace(rig.positions[:, 0].min(), rig.positions[:, 0].max(), frames)
    poses = np.repeat(np.eye(4)[None], frames, 0)
    poses[:, 0, 3], poses[:, 1, 3], poses[:, 2, 3] = xs, centre[1], centre[2]
    return _path(poses, rig, clip_times(frames))


def orbit_path(rig: CameraRig, frames: int, look_at_depth: float) -> CameraPath:
    """One loop on an ellipse inside the rig's range, looking at ``(centre x, centre y, look_at_depth)``.

    The ellipse's radii are half the rig's x and y extents; a rig with no vertical
    extent (every mode but ``circle``) gets a vertical radius of a quarter of its width.
    """
    centre = rig_centre(rig)
    extent = rig.positions.max(0) - rig.positions.min(0)
    rx = 0.5 * extent[0]
    ry = 0.5 * extent[1] if extent[1] > 0 else 0.25 * extent[0]
    angles = np.linspace(0.0, 2 * math.pi, frames, endpoint=False)
    target = np.array([centre[0], centre[1], look_at_depth])
    poses = [look_at_pose(centre + np.array([rx * math.cos(a), ry * math.sin(a), 0.0]), target) for a in angles]
    return _path(np.stack(poses), rig, clip_times(frames))


def stereo_eyes(
    path: CameraPath,
    rig: CameraRig,
    *,
    baseline: float | None,
    divergence: float,
    depth_range: tuple[float, float],
    convergence: float | None,
) -> tuple[CameraPath, CameraPath, float]:
    """Left and right eyes around ``path`` (parallel, principal point shifted for convergence).

    Args:
        baseline: eye separation in metres, or None to derive it from ``divergence``
            (percent of the width of disparity at ``depth_range[0]``, the nearest depth),
            at most the rig's width in x (the range the scene was fitted from).
        depth_range: (near, far) metres of the scene.
        convergence: 0 (far) to 1 (near) depth at the screen plane, or None (parallel).

    Returns:
        (left, right, baseline in metres).
    """
    near, far = depth_range
    if baseline is None:
        baseline = baseline_for_divergence(divergence, rig.width, rig.focal, 1.0 / near)
        # Stay inside the range the scene was fitted from (the rig's width), where it is known.
        extent = float(rig.positions[:, 0].max() - rig.positions[:, 0].min())
        if extent > 0:
            baseline = min(baseline, extent)
    shift = 0.0
    if convergence is not None:
        shift = convergence_shift_per_metre(convergence, rig.focal, 1.0 / far, 1.0 / near) * 0.5 * baseline
    # A point at depth z0 sits at zero disparity when each eye's principal point moves
    # by f * x_eye / z0 (x_eye = -+B/2), as CameraRig.with_convergence does.
    left = path.offset(-0.5 * baseline, -shift)
    right = path.offset(0.5 * baseline, shift)
    return left, right, float(baseline)


def _number(value: str | float, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise InputError(f"{where}: {value!r} is not a finite number")
    return number


def read_path_file(path: str | Path, rig: CameraRig, frames: int) -> CameraPath:
    """Cameras from a JSON or CSV path file (see the module docstring).

    Raises:
        InputError: unreadable file, missing columns, or a bad row (named by its number:
            the CSV line, or the JSON list index).
    """
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read path file {str(path)!r} ({exc}); give a JSON or CSV file with x,y,z,look_x,look_y,look_z per frame") from exc
    rows: list[tuple[str, list[float], float | None]] = []
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"path file {str(path)!r} is not valid JSON (line {exc.lineno}: {exc.msg})") from exc
        if isinstance(data, dict):
            data = data.get("frames")
        if not isinstance(data, list) or not data:
            raise InputError(f"path file {str(path)!r} must hold a non-empty list of {{\"position\": [x,y,z], \"look_at\": [x,y,z]}} (or {{\"frames\": [...]}})")
        for i, item in enumerate(data):
            where = f"path file {str(path)!r} entry {i}"
            if not isinstance(item, dict) or "position" not in item or "look_at" not in item:
                raise InputError(f"{where}: expected an object with \"position\" and \"look_at\"; got {json.dumps(item)[:80]}")
            pos, look = item["position"], item["look_at"]
            if not (isinstance(pos, list) and isinstance(look, list) and len(pos) == 3 and len(look) == 3):
                raise InputError(f"{where}: position and look_at must be lists of 3 numbers; got {json.dumps(pos)} and {json.dumps(look)}")
            values = [_number(v, where) for v in pos + look]
            t = None if item.get("time") is None else _number(item["time"], where)
            rows.append((where, values, t))
    else:
        reader = csv.reader(io.StringIO(text))
        lines = [(n, row) for n, row in enumerate(reader, start=1) if row and any(cell.strip() for cell in row) and not row[0].lstrip().startswith("#")]
        if not lines:
            raise InputError(f"path file {str(path)!r} is empty; give a header x,y,z,look_x,look_y,look_z[,time] and one row per frame")
        header = [cell.strip().lower() for cell in lines[0][1]]
        missing = [c for c in PATH_FILE_COLUMNS if c not in header]
        if missing:
            raise InputError(f"path file {str(path)!r} header lacks {', '.join(missing)}; its first line must name x,y,z,look_x,look_y,look_z[,time]; got {','.join(header)}")
        columns = [header.index(c) for c in PATH_FILE_COLUMNS]
        time_column = header.index("time") if "time" in header else None
        for n, row in lines[1:]:
            where = f"path file {str(path)!r} row {n}"
            if len(row) != len(header):
                raise InputError(f"{where}: expected {len(header)} values ({','.join(header)}); got {len(row)}: {','.join(row)[:80]}")
            values = [_number(row[c].strip(), where) for c in columns]
            t = None if time_column is None else _number(row[time_column].strip(), where)
            rows.append((where, values, t))
        if not rows:
            raise InputError(f"path file {str(path)!r} has a header but no camera rows")
    have_time = [t is not None for _, _, t in rows]
    if any(have_time) and not all(have_time):
        where = rows[have_time.index(False)][0]
        raise InputError(f"{where}: time is missing while other rows give one; give a time on every row or on none")
    times = np.array([t for _, _, t in rows]) if all(have_time) else clip_times(frames, len(rows))
    poses = []
    for (where, values, t), time in zip(rows, times):
        if not -1e-9 <= time <= frames - 1 + 1e-9:
            raise InputError(f"{where}: time {time:g} is outside the clip's frames 0..{frames - 1}")
        try:
            poses.append(look_at_pose(np.array(values[:3]), np.array(values[3:])))
        except ValueError as exc:
            raise InputError(f"{where}: {exc}; give a look-at point in front of the camera") from exc
    return _path(np.stack(poses), rig, np.clip(times, 0, frames - 1))


def build_path(spec: str, rig: CameraRig, frames: int, *, look_at_depth: float) -> CameraPath:
    """The path named by ``spec``: ``stereo`` (a static camera at the rig's centre; the
    eyes are added by :func:`stereo_eyes`), ``dolly``, ``orbit`` or a path file."""
    if spec == "stereo":
        return static_path(rig, frames)
    if spec == "dolly":
        return dolly_path(rig, frames)
    if spec == "orbit":
        return orbit_path(rig, frames, look_at_depth)
    if Path(spec).suffix.lower() in (".json", ".csv", ".txt") or Path(spec).exists():
        return read_path_file(spec, rig, frames)
    raise OptionError(f"path must be stereo, dolly, orbit or a .json/.csv path file; got {spec!r}")
