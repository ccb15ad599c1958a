"""The state folder of a job: its manifest and the intermediate files of finished chunks.

Layout of ``.<output name>.s2vg-job/`` (next to the first output)::

    manifest.json           input identity, options, plan, progress (JSON, human-readable)
    checkpoint.pkl          what the depth pass carries between chunks (estimator state, cuts)
    raw/000003.npz          raw inverse depth + frame timestamps of depth chunk 3 (deleted
                            once no later chunk's stabilisation needs it)
    depth/000003.npz        finished depth of chunk 3: stabilised inverse depth (float16) or
                            literal depth in metres, per-frame range percentiles, timestamps
                            (deflated: about 1.5 MB per 1080p frame, so a job needs scratch
                            disk of roughly that per frame until it is complete)
    range.npz               the depth range smoothed over the whole video, shot cuts, frame count
    segments/0/000003.mp4   output stream 0 (one per file of the layout) of chunk 3

Every file is written under a temporary name, flushed to disk and renamed, so a file that
exists is complete: a killed process or a power loss leaves either the old state or the
new one, never half a chunk.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from s2vg.errors import OutputError

#: Suffix of the state folder's name.
STATE_SUFFIX = ".s2vg-job"


def state_dir_for(output: Path) -> Path:
    """The state folder of a job whose (first) output is ``output``."""
    return output.parent / f".{output.name}{STATE_SUFFIX}"


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries, so that renames reach the disk in the order they were made."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync folders; the files themselves are synced
    finally:
        os.close(fd)


def _atomic_write(path: Path, write: Any) -> None:
    """Call ``write(handle)`` on a temporary file beside ``path``, flush it to disk, rename it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(name, path)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        _sync_folder(path.parent)
    except OSError as exc:
        raise OutputError(
            f"job state {str(path)!r} cannot be written ({exc.strerror or exc}); free disk space or choose another "
            "output folder, then run again with --resume"
        ) from None


class JobState:
    """Paths and atomic reads/writes of one state folder.

    Args:
        folder: the state folder (created on the first write).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @property
    def manifest_path(self) -> Path:
        return self.folder / "manifest.json"

    @property
    def checkpoint_path(self) -> Path:
        return self.folder / "checkpoint.pkl"

    @property
    def range_path(self) -> Path:
        return self.folder / "range.npz"

    def raw_path(self, chunk: int) -> Path:
        return self.folder / "raw" / f"{chunk:06d}.npz"

    def depth_path(self, chunk: int) -> Path:
        return self.folder / "depth" / f"{chunk:06d}.npz"

    def segment_dir(self, stream: int) -> Path:
        return self.folder / "segments" / str(stream)

    def segment_path(self, stream: int, chunk: int, suffix: str) -> Path:
        """Segment of output ``stream`` for ``chunk``; ``suffix`` is the output's ('.mp4', or '' for PNG folders)."""
        return self.segment_dir(stream) / f"{chunk:06d}{suffix}"

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def load_manifest(self) -> dict:
        return json.loads(self.manifest_path.read_text())

    def save_manifest(self, manifest: dict) -> None:
        data = json.dumps(manifest, indent=1, sort_keys=True).encode()
        _atomic_write(self.manifest_path, lambda handle: handle.write(data))

    def save_arrays(self, path: Path, compressed: bool = False, **arrays: np.ndarray) -> None:
        """Write arrays as one ``.npz``; ``compressed`` deflates them (finished float16 depth
        maps shrink about 2.8x for ~25 ms per 960x540 frame; raw chunks live briefly and are not)."""
        save = np.savez_compressed if compressed else np.savez
        _atomic_write(path, lambda handle: save(handle, **arrays))

    @staticmethod
    def load_arrays(path: Path) -> dict[str, np.ndarray]:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}

    def save_checkpoint(self, checkpoint: object) -> None:
        data = pickle.dumps(checkpoint, protocol=pickle.HIGHEST_PROTOCOL)
        _atomic_write(self.checkpoint_path, lambda handle: handle.write(data))

    def load_checkpoint(self) -> Any:
        # The state folder is written by this program for this user; it is not untrusted input.
        return pickle.loads(self.checkpoint_path.read_bytes())

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
