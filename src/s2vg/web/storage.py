"""Where the web app reads and writes files, and the checks that keep it there.

- Writes go only under the work folder: ``uploads/<id>/``, ``previews/<id>/``,
  ``jobs/<id>/``, each ``<id>`` made by the server (random hex); names that come from a
  client are reduced to a safe file name and never used as a path.
- Uploads stream to disk with a byte limit and are kept only if their content decodes as
  a video or image (:func:`check_media`), whatever their name says.
- The path picker opens files under the configured root only: the requested path is
  resolved (``..`` and symbolic links included) and must stay inside the resolved root.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s2vg.errors import InputError, OptionError
from s2vg.io.info import IMAGE_SUFFIXES

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

#: Suffixes the path picker lists (video containers FFmpeg reads, and images).
LISTED_SUFFIXES = frozenset(
    {".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".gif", ".mts", ".m2ts", ".ts", ".wmv", ".flv", *IMAGE_SUFFIXES}
)


#: Bytes of an over-limit upload read and dropped before answering (see save_upload).
DRAIN_BYTES = 64 * 2**20


class UploadTooLarge(InputError):
    """An upload passed the size limit."""


class OutsideRoot(InputError):
    """A requested path leaves the served folder."""


def safe_name(name: str, default: str = "video") -> str:
    """A file name made of letters, digits, ``._-`` only, without leading dots, at most 80
    characters, keeping the suffix (``"../../x y.MP4"`` -> ``"x_y.MP4"``)."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix
    stem = _UNSAFE.sub("_", stem).strip("._") or default
    suffix = _UNSAFE.sub("", suffix)
    return f"{stem[:70]}{suffix[:10]}"


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def check_media(path: Path) -> dict[str, Any]:
    """Probe a file by its content and decode its first frame.

    Returns:
        ``kind``, ``width``, ``height``, ``frames``, ``fps`` (string), ``duration`` (s).

    Raises:
        InputError: not a video or image that s2vg can read (the message says so).
    """
    from s2vg.io import iter_frames, probe

    not_media = InputError(
        f"{path.name} is not a video or image s2vg can read (its content, not its name, is checked); "
        "choose a video file such as mp4, mov, mkv or webm"
    )
    try:
        info = probe(path)
        first = next(iter(iter_frames(info, max_frames=1)), None)
    except Exception:  # noqa: BLE001 - any probe or decoder failure means "not a readable video"
        # (the library's message names the server's path; the client gets the name only)
        raise not_media from None
    if first is None or info.width < 2 or info.height < 2 or info.frames < 1:
        raise InputError(f"{path.name} holds no picture; upload a video (mp4, mov, mkv, webm ...) or an image")
    return {
        "kind": info.kind,
        "width": info.width,
        "height": info.height,
        "frames": info.frames,
        "fps": str(info.fps),
        "duration": round(info.duration, 3),
    }


@dataclass
class Source:
    """A video the user can convert: an upload or a file under the root."""

    id: str
    name: str
    path: Path
    origin: str  # "upload" or "root"
    info: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "origin": self.origin, **self.info}


class WorkDir:
    """The server's folder; every write goes below it.

    Args:
        path: the folder; None makes a new one in the system temp folder.
        root: folder the path picker may read from; None turns the picker off.
        max_upload_bytes: largest upload accepted.
    """

    def __init__(self, path: str | Path | None, root: str | Path | None, max_upload_bytes: int) -> None:
        if path is None:
            path = tempfile.mkdtemp(prefix="s2vg-serve-")
        self.path = Path(path).resolve()
        try:
            for sub in ("uploads", "previews", "jobs"):
                (self.path / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OptionError(f"work folder {str(self.path)!r} cannot be created ({exc.strerror or exc}); choose a writable folder") from None
        self.root = Path(root).resolve() if root is not None else None
        if self.root is not None and not self.root.is_dir():
            raise OptionError(f"root {str(root)!r} is not a folder; give the folder whose videos may be opened")
        self.max_upload_bytes = int(max_upload_bytes)

    def folder(self, kind: str, item_id: str) -> Path:
        """``<work>/<kind>/<id>/`` for server-made ids only (hex)."""
        if kind not in ("uploads", "previews", "jobs") or not re.fullmatch(r"[0-9a-f]{1,32}", item_id):
            raise InputError(f"bad {kind} id {item_id!r}")
        return self.path / kind / item_id

    def too_large(self, size: int) -> UploadTooLarge:
        limit = self.max_upload_bytes / 2**20
        return UploadTooLarge(
            f"upload is larger than the limit of {limit:g} MiB ({size / 2**20:.2f} MiB or more); "
            "upload a shorter clip or start the server with a larger --max-upload-mb"
        )

    async def save_upload(self, chunks, name: str, declared_size: int | None) -> Source:
        """Stream an upload into ``uploads/<id>/<safe name>``, enforce the limit, check the content.

        Args:
            chunks: async iterator of ``bytes`` (the request body).
            name: the client's file name (only its safe form is used).
            declared_size: the Content-Length, if given (checked before reading).

        Raises:
            UploadTooLarge: over the limit (nothing is kept).
            InputError: empty, or not a readable video or image (nothing is kept).
        """
        if declared_size is not None and declared_size > self.max_upload_bytes:
            raise self.too_large(declared_size)
        source_id = new_id()
        folder = self.folder("uploads", source_id)
        folder.mkdir(parents=True)
        filename = safe_name(name)
        path = folder / filename
        size = 0
        try:
            with path.open("wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_upload_bytes:
                        break
                    out.write(chunk)
            if size > self.max_upload_bytes:
                # Read (and drop) the rest, up to a bound, so that the client gets the
                # answer instead of a reset connection.
                async for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_upload_bytes + DRAIN_BYTES:
                        break
                raise self.too_large(size)
            if size == 0:
                raise InputError(f"upload {filename!r} is empty; choose a video file")
            # Decoding a frame takes a moment: keep it off the event loop.
            info = await asyncio.to_thread(check_media, path)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return Source(source_id, filename, path, "upload", info)

    def resolve_in_root(self, requested: str) -> Path:
        """The file or folder ``requested`` (relative to the root, or absolute) if it is inside the root.

        Raises:
            OptionError: no root is configured.
            OutsideRoot: the resolved path leaves the root (``..``, absolute paths, links).
            InputError: it does not exist.
        """
        if self.root is None:
            raise OptionError("this server opens no server-side files; start it with --root FOLDER, or upload the video")
        candidate = (self.root / requested.strip()).resolve()
        if not candidate.is_relative_to(self.root):
            raise OutsideRoot(f"path {requested!r} is outside the served folder; choose a file inside it")
        if not candidate.exists():
            raise InputError(f"path {requested!r} does not exist in the served folder")
        return candidate

    def open_from_root(self, requested: str) -> Source:
        path = self.resolve_in_root(requested)
        if not path.is_file():
            raise InputError(f"path {requested!r} is a folder; choose a video file in it")
        return Source(new_id(), path.name, path, "root", check_media(path))

    def browse(self, requested: str = "") -> dict[str, Any]:
        """Folders and video/image files directly inside a folder of the root (names only)."""
        folder = self.resolve_in_root(requested or ".")
        if not folder.is_dir():
            raise InputError(f"path {requested!r} is not a folder")
        entries = []
        for child in sorted(folder.iterdir(), key=lambda p: (not p.is_dir(), p.name.lower())):
            if child.name.startswith("."):
                continue
            try:
                inside = child.resolve().is_relative_to(self.root)
            except OSError:
                continue
            if not inside:
                continue  # a link that leads out of the root is not shown
            if child.is_dir():
                entries.append({"name": child.name, "dir": True})
            elif child.suffix.lower() in LISTED_SUFFIXES:
                entries.append({"name": child.name, "dir": False, "size": child.stat().st_size})
        relative = folder.relative_to(self.root).as_posix()
        return {"path": "" if relative == "." else relative, "entries": entries}
