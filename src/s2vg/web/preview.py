"""Preview of one frame before converting a whole video: side-by-side and anaglyph PNGs.

The chosen frame is written as a PNG and converted as a one-image input with the job's
options (layout ``lr``, so both eyes come back as images), then packed with
:func:`s2vg.io.layouts.compose`. Depth is estimated on that frame alone, so its range is
the frame's, not the clip's: the preview's strength can differ slightly from the video's.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from s2vg.errors import InputError
from s2vg.web.jobs import JobOptions

PREVIEW_FILES = ("sbs.png", "anaglyph.png")


def extract_frame(source: Path, index: int, out: Path) -> int:
    """Write frame ``index`` (clamped to the last frame) of a video or image to ``out`` (PNG).

    Returns:
        The index of the frame written.
    """
    from s2vg.io import iter_frames, probe
    from s2vg.io.writer import ImageWriter

    info = probe(source)
    index = max(0, min(int(index), info.frames - 1))
    frame = None
    for i, frame in enumerate(iter_frames(info, max_frames=index + 1)):
        pass
    if frame is None:
        raise InputError(f"{source.name} gave no frame to preview")
    with ImageWriter(out, width=frame.shape[1], height=frame.shape[0]) as writer:
        writer.write(frame[None])
    return i


def make_preview(source: Path, index: int, options: JobOptions, folder: Path) -> dict[str, Any]:
    """Convert one frame of ``source`` into ``folder/sbs.png`` and ``folder/anaglyph.png``.

    Args:
        source: the video (or image).
        index: frame number, 0-based (clamped to the clip).
        options: the job's options; the layout is ignored (the preview is always SBS +
            anaglyph), ``max_frames`` too.
        folder: an existing, server-made folder.

    Returns:
        ``frame`` (the index used) and ``files`` (names in ``folder``).
    """
    from s2vg.convert import convert
    from s2vg.io import read_image
    from s2vg.io.layouts import compose
    from s2vg.io.writer import ImageWriter

    frame_path = folder / "frame.png"
    used = extract_frame(source, index, frame_path)
    one = dataclasses.replace(options, layout="lr", max_frames=None)
    convert(frame_path, folder / "eyes.png", **one.configs())
    left = read_image(folder / "eyes_L.png")[None]
    right = read_image(folder / "eyes_R.png")[None]
    for name, layout in zip(PREVIEW_FILES, ("sbs", "anaglyph"), strict=True):
        packed = np.asarray(compose(left, right, layout))
        with ImageWriter(folder / name, width=packed.shape[2], height=packed.shape[1]) as writer:
            writer.write(packed)
    return {"frame": used, "files": list(PREVIEW_FILES)}
