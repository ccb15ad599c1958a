"""Depth files: ``.npy`` (T, H, W), ``.npz`` (one array, or ``FILE.npz:KEY``), or a folder
with one 16-bit PNG or ``.npy`` per frame (sorted by name).

Values are returned as stored; what they mean (inverse depth, metres, disparity) is
decided by ``--depth-kind`` in :func:`s2vg.geometry.depth.to_depth_m`. PNG values are
taken as their integer values (use ``.npy`` for metric units with a fraction).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import cv2
import numpy as np

from s2vg.errors import InputError
from s2vg.io.info import natural_key

DEPTH_FILE_SUFFIXES = (".npy", ".npz")
_FRAME_SUFFIXES = (".png", ".npy")


def _split_key(spec: str) -> tuple[Path, str | None]:
    if ".npz:" in spec:
        file, key = spec.rsplit(":", 1)
        return Path(file), key
    return Path(spec), None


def is_depth_path(spec: str) -> bool:
    """True when ``spec`` names a depth file or folder rather than a depth model."""
    path, _ = _split_key(str(spec))
    return path.suffix.lower() in DEPTH_FILE_SUFFIXES or path.exists()


def _load_npz(path: Path, key: str | None) -> np.ndarray:
    try:
        data = np.load(path, allow_pickle=False)
        keys = list(data.keys())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise InputError(f"depth file {str(path)!r} cannot be read as .npz ({exc}); give a valid NumPy .npz") from exc
    with data:
        if key is None and len(keys) != 1:
            raise InputError(
                f"depth file {str(path)!r} holds {len(keys)} arrays ({', '.join(keys)}); pick one with {path}:KEY"
            )
        key = keys[0] if key is None else key
        if key not in keys:
            raise InputError(f"depth file {str(path)!r} has no array {key!r}; it holds {', '.join(keys)}")
        try:
            return np.asarray(data[key])
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise InputError(f"array {key!r} of {str(path)!r} cannot be read ({exc}); give a valid NumPy .npz") from exc


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise InputError(f"depth file {str(path)!r} cannot be read as .npy ({exc}); give a valid NumPy .npy") from exc


def _load_folder(folder: Path) -> np.ndarray:
    files = sorted((p for p in folder.iterdir() if p.suffix.lower() in _FRAME_SUFFIXES), key=natural_key)
    if not files:
        raise InputError(f"depth folder {str(folder)!r} has no .png or .npy files; put one depth map per frame in it")
    maps = []
    for file in files:
        if file.suffix.lower() == ".npy":
            maps.append(_load_npy(file))
            continue
        image = cv2.imread(str(file), cv2.IMREAD_ANYDEPTH | cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise InputError(f"depth image {str(file)!r} cannot be decoded; give 16-bit grey PNGs")
        maps.append(image)
    shapes = {m.shape for m in maps}
    if len(shapes) != 1:
        raise InputError(f"depth maps in {str(folder)!r} have different sizes {sorted(shapes)}; give one size")
    return np.stack(maps)


def load_depth(spec: str | Path) -> np.ndarray:
    """Load a depth input as stored.

    Args:
        spec: a ``.npy`` file, a ``.npz`` file (optionally ``FILE.npz:KEY``), or a folder.

    Returns:
        ``(T, H, W)`` float32 (a single ``(H, W)`` map becomes T = 1).

    Raises:
        InputError: missing or unreadable file, no arrays, or not 2- or 3-dimensional.
    """
    path, key = _split_key(str(spec))
    if not path.exists():
        raise InputError(f"depth {str(path)!r} does not exist; give a .npy, .npz or a folder of per-frame maps")
    if path.is_dir():
        depth = _load_folder(path)
    elif path.suffix.lower() == ".npz":
        depth = _load_npz(path, key)
    elif path.suffix.lower() == ".npy":
        depth = _load_npy(path)
    else:
        raise InputError(f"depth {str(path)!r} is not a .npy, .npz or folder; convert it to one of those")
    if depth.ndim == 4 and depth.shape[-1] == 1:
        depth = depth[..., 0]
    if depth.ndim == 2:
        depth = depth[None]
    if depth.ndim != 3 or not np.issubdtype(depth.dtype, np.number):
        raise InputError(f"depth {str(spec)!r} has shape {depth.shape} ({depth.dtype}); expected numbers shaped (T, H, W)")
    return depth.astype(np.float32)


def check_depth_matches(depth_shape: tuple[int, ...], frames_shape: tuple[int, ...], depth_name: str) -> None:
    """Raise a one-line InputError unless depth ``(T, H, W)`` fits frames ``(T, H, W, 3)``."""
    if tuple(depth_shape) != tuple(frames_shape[:3]):
        raise InputError(
            f"depth {depth_name!r} has shape {tuple(depth_shape)} but the frames are {tuple(frames_shape[:3])} "
            "(T, H, W); give the depth of this clip at its resolution"
        )
