"""A frame matrix as files, for inspection and for later stages.

Layout of a matrix folder::

    {frame:05d}_view{view:03d}.png        8-bit RGB colour
    {frame:05d}_view{view:03d}_mask.png   255 known, 0 disoccluded
    rig.json                              cameras (width, height, focal, mode, positions)
    depth.npy                             optional (V, T, H, W) float32 depth in metres

Files are written into a hidden temporary folder next to the destination and moved
into place only when all of them are written, so a failure leaves nothing behind.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import torch

from s2vg.errors import InputError, OutputError
from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.geometry.rig import CameraRig
from s2vg.io.staging import staged_folder
from s2vg.progress import SILENT, Progress

_NAME = re.compile(r"^(\d{5})_view(\d{3})\.png$")
# Level 1 writes about 3x faster than the default with files ~20% larger; these are
# inspection files, and writing them costs as much as computing the matrix.
_PNG_OPTIONS = [cv2.IMWRITE_PNG_COMPRESSION, 1]


def _to_uint8(colors: torch.Tensor) -> np.ndarray:
    return (colors.clamp(0, 1) * 255).round().to(torch.uint8).numpy()


def frame_view_name(frame: int, view: int, mask: bool = False) -> str:
    return f"{frame:05d}_view{view:03d}{'_mask' if mask else ''}.png"


def _write_png(path: Path, image: np.ndarray) -> None:
    if not cv2.imwrite(str(path), image, _PNG_OPTIONS):
        raise OutputError(f"could not write {str(path)!r}; check free space and permissions")


def save_matrix(matrix: FrameMatrix, out_dir: str | Path, *, save_depth: bool = False, progress: Progress = SILENT) -> Path:
    """Write a frame matrix folder (see the module docstring).

    Args:
        matrix: the matrix to write.
        out_dir: destination folder; created if missing, existing files of the same
            names are replaced.
        save_depth: also write ``depth.npy``.

    Returns:
        the destination folder.
    """
    out_dir = Path(out_dir)
    with staged_folder(out_dir) as staging:
        jobs = []
        colors = _to_uint8(matrix.colors)[..., ::-1]  # OpenCV writes BGR
        masks = matrix.known.numpy().astype(np.uint8) * 255
        for view in range(matrix.views):
            for frame in range(matrix.frames):
                jobs.append((staging / frame_view_name(frame, view), colors[view, frame]))
                jobs.append((staging / frame_view_name(frame, view, mask=True), masks[view, frame]))
        with progress.stage("write matrix", total=len(jobs), unit="file") as bar, ThreadPoolExecutor(max_workers=2) as pool:
            for _ in pool.map(lambda job: _write_png(*job), jobs):
                bar.update()
        (staging / "rig.json").write_text(json.dumps(matrix.rig.to_dict(), indent=2))
        if save_depth:
            np.save(staging / "depth.npy", matrix.depth.numpy())
    return out_dir


def load_matrix(folder: str | Path) -> FrameMatrix:
    """Read a matrix folder written by :func:`save_matrix` (depth is zeros without depth.npy)."""
    folder = Path(folder)
    rig_file = folder / "rig.json"
    if not rig_file.exists():
        raise InputError(f"{str(folder)!r} is not a frame matrix folder (no rig.json); write one with `s2vg matrix`")
    try:
        rig = CameraRig.from_dict(json.loads(rig_file.read_text()))
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{str(rig_file)!r} is not a valid rig description ({exc}); write it again with `s2vg matrix`") from exc
    entries = [m for m in (_NAME.match(p.name) for p in folder.iterdir()) if m]
    frames = 1 + max((int(m.group(1)) for m in entries), default=-1)
    views = rig.views
    colors = np.zeros((views, frames, rig.height, rig.width, 3), dtype=np.uint8)
    known = np.zeros((views, frames, rig.height, rig.width), dtype=bool)
    for view in range(views):
        for frame in range(frames):
            image = cv2.imread(str(folder / frame_view_name(frame, view)), cv2.IMREAD_COLOR)
            mask = cv2.imread(str(folder / frame_view_name(frame, view, mask=True)), cv2.IMREAD_GRAYSCALE)
            if image is None or mask is None or image.shape[:2] != (rig.height, rig.width):
                raise InputError(
                    f"frame matrix {str(folder)!r} lacks a readable {frame_view_name(frame, view)} or its mask "
                    f"of {rig.width}x{rig.height}; write the folder again"
                )
            colors[view, frame] = image[..., ::-1]
            known[view, frame] = mask > 127
    depth_file = folder / "depth.npy"
    depth = np.load(depth_file) if depth_file.exists() else np.zeros(known.shape, dtype=np.float32)
    return FrameMatrix(
        colors=torch.from_numpy(colors).float() / 255,
        known=torch.from_numpy(known),
        depth=torch.from_numpy(depth.astype(np.float32)),
        rig=rig,
    )
