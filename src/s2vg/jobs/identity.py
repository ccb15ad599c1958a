"""The identity of an input: enough to notice that a file changed between a job and its resume.

Hashing a whole film would take minutes; the size, the duration and a hash of the first and
last megabyte catch a replaced, re-encoded, truncated or appended file in milliseconds.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: Bytes hashed at each end of a file.
HASHED_BYTES = 1 << 20


def file_fingerprint(path: Path) -> dict:
    """``{"size": bytes, "head_tail_sha256": hex}`` of one file (first and last MB hashed)."""
    size = path.stat().st_size
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        digest.update(handle.read(HASHED_BYTES))
        if size > HASHED_BYTES:
            handle.seek(max(HASHED_BYTES, size - HASHED_BYTES))
            digest.update(handle.read(HASHED_BYTES))
    return {"size": size, "head_tail_sha256": digest.hexdigest()}


def input_identity(path: str | Path, duration: float, frames: int, files: tuple[Path, ...] = ()) -> dict:
    """What a resumed job compares with the input it was started on.

    Args:
        path: a video file, an image folder or an image.
        duration: seconds, as probed.
        frames: frame count, as probed.
        files: for an image folder, its images in reading order.

    Returns:
        A JSON-able ``dict``: the resolved path, size in bytes, duration, frame count, and a
        SHA-256 of the first and last megabyte (for a folder: of every file name and size,
        and of the first and last image's ends).
    """
    path = Path(path)
    identity: dict = {"path": str(path.resolve()), "duration": round(float(duration), 6), "frames": int(frames)}
    if path.is_dir():
        digest = hashlib.sha256()
        total = 0
        for file in files:
            size = file.stat().st_size
            total += size
            digest.update(f"{file.name}\0{size}\n".encode())
        for file in (files[:1] + files[-1:]) if files else ():
            digest.update(file_fingerprint(file)["head_tail_sha256"].encode())
        identity |= {"size": total, "head_tail_sha256": digest.hexdigest()}
    else:
        identity |= file_fingerprint(path)
    return identity


def describe_mismatch(stored: dict, current: dict) -> str | None:
    """The first difference between two identities, in words, or None when they match."""
    for key, label in (("size", "size in bytes"), ("frames", "frame count"), ("duration", "duration in seconds"),
                       ("head_tail_sha256", "content (hash of the first and last MB)")):
        if stored.get(key) != current.get(key):
            if key == "head_tail_sha256":
                return f"its {label} differs"
            return f"its {label} was {stored.get(key)} and is now {current.get(key)}"
    return None
