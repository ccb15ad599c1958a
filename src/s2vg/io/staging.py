"""Write a folder of files so that it appears only when every file is written.

Files go into a hidden staging folder next to the destination; on success they are moved
into place (into the existing folder, or the staging folder is renamed to it), on any
failure the staging folder is removed and nothing is left behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from s2vg.errors import OutputError


@contextmanager
def staged_folder(destination: str | Path, option: str = "--out") -> Iterator[Path]:
    """Yield a staging folder whose files become ``destination``'s when the block succeeds.

    Args:
        destination: the folder to create or update (existing files of the same names are
            replaced, others kept).
        option: the CLI option that named it, for the error message.

    Raises:
        OutputError: the destination cannot be written (one line naming ``option``).
    """
    destination = Path(destination)
    parent = destination.parent if str(destination.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.partial-", dir=parent))
    except OSError as exc:
        raise OutputError(f"cannot write into {str(parent)!r} ({exc.strerror}); choose a writable {option} folder") from exc
    try:
        yield staging
        if destination.exists():
            if not destination.is_dir():
                raise OutputError(f"{str(destination)!r} exists and is not a folder; choose another {option} folder")
            for item in staging.iterdir():
                os.replace(item, destination / item.name)
            staging.rmdir()
        else:
            os.replace(staging, destination)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"cannot write {str(destination)!r} ({exc}); choose a writable {option} folder") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
