"""Stereo layouts read back: which layout a video is in, and its two eyes.

:func:`detect_layout` looks, in order, at the file name (the player tags of
:data:`s2vg.io.layouts.PLAYER_SUFFIXES`, and the common ``_SBS``/``_TB``/``_OU`` tokens),
at Spherical Video V2 metadata (VR180), at a ``_L``/``_R`` file pair, and last at the
pictures: a side-by-side frame has two halves that match after a small horizontal shift,
a top-bottom frame two halves that match one above the other. A mono video matches
neither and is refused with a one-line :class:`~s2vg.errors.OptionError`.

Eyes are returned as stored: the eyes of a half layout stay squeezed, so that upscaling
them and packing them back the same way (:func:`join_eyes`) keeps the layout.
"""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

from s2vg.errors import OptionError
from s2vg.io.layouts import ALL_LAYOUTS, PLAYER_SUFFIXES, compose_streams

#: Layouts whose two eyes can be read back from the pictures.
READABLE: tuple[str, ...] = ("sbs", "half-sbs", "tb", "half-tb", "cross", "lr", "vr180")
#: Normalised correlation of the two halves above which a frame is taken as stereo.
MATCH_THRESHOLD = 0.8


def _tagged(stem: str) -> str | None:
    lower = stem.lower()
    for layout, tags in PLAYER_SUFFIXES.items():
        if layout != "lr" and any(lower.endswith(tag.lower()) for tag in tags):
            return layout
    tokens = set(re.split(r"[^a-z0-9]+", lower))
    if tokens & {"sbs", "hsbs", "3dh"}:
        return "half-sbs" if "half" in tokens or "hsbs" in tokens or "3dh" in tokens else "sbs"
    if tokens & {"tb", "ou", "3dv", "tab"}:
        return "half-tb" if "half" in tokens or "htb" in tokens else "tb"
    return None


def right_eye_file(path: Path) -> Path | None:
    """``name_R.ext`` beside ``name_L.ext`` (the ``lr`` layout's pair), else None."""
    if path.stem.endswith("_L"):
        other = path.with_name(path.stem[:-2] + "_R" + path.suffix)
        return other if other.exists() else None
    return None


def _halves_match(a: np.ndarray, b: np.ndarray, max_shift: int) -> float:
    """Best normalised correlation of two grey images over horizontal shifts of ``b``."""
    a = a - a.mean()
    best = -1.0
    for shift in range(-max_shift, max_shift + 1):
        bb = np.roll(b, shift, axis=1)
        lo, hi = max_shift, a.shape[1] - max_shift
        x, y = a[:, lo:hi], bb[:, lo:hi] - bb[:, lo:hi].mean()
        denom = float(np.sqrt((x * x).sum() * (y * y).sum()))
        if denom > 0:
            best = max(best, float((x * y).sum()) / denom)
    return best


def layout_from_pictures(frames: np.ndarray) -> str | None:
    """``"sbs"``, ``"tb"`` or None from a few frames ``(t, H, W, 3)`` (see module doc)."""
    gray = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]).mean(axis=0)
    h, w = gray.shape
    # Work on a small copy: the test is about whole halves, not detail.
    scores = {}
    left, right = gray[:, : w // 2], gray[:, w // 2: 2 * (w // 2)]
    top, bottom = gray[: h // 2], gray[h // 2: 2 * (h // 2)]
    for name, (a, b) in {"sbs": (left, right), "tb": (top, bottom)}.items():
        small = 96 / max(a.shape)
        size = (max(8, round(a.shape[1] * small)), max(8, round(a.shape[0] * small)))
        a_s, b_s = cv2.resize(a, size, interpolation=cv2.INTER_AREA), cv2.resize(b, size, interpolation=cv2.INTER_AREA)
        if a_s.std() < 1e-3:  # a flat picture proves nothing
            continue
        scores[name] = _halves_match(a_s, b_s, max_shift=max(1, size[0] // 10))
    if not scores:
        return None
    name = max(scores, key=scores.get)  # type: ignore[arg-type]
    return name if scores[name] >= MATCH_THRESHOLD else None


def detect_layout(path: str | Path, frames: np.ndarray) -> str:
    """The stereo layout of the video at ``path`` given its first frames ``(t, H, W, 3)``.

    Raises:
        OptionError: the video shows no sign of being stereo ("not a stereo video").
    """
    path = Path(path)
    if right_eye_file(path) is not None:
        return "lr"
    tagged = _tagged(path.stem)
    if tagged is not None:
        return tagged
    if path.suffix.lower() in (".mp4", ".mov", ".m4v"):
        from s2vg.io.mp4boxes import read_spherical_metadata

        if read_spherical_metadata(path) is not None:
            return "vr180"
    found = layout_from_pictures(frames)
    if found is None:
        raise OptionError(
            f"{path.name} is not a stereo video (no layout tag in its name, no stereo metadata, and its halves do "
            "not match); give --layout sbs|half-sbs|tb|half-tb|cross|vr180, or name the right eye NAME_R beside NAME_L"
        )
    return found


def check_readable(layout: str) -> None:
    """Raise OptionError for a layout whose eyes cannot be read back."""
    if layout not in ALL_LAYOUTS:
        raise OptionError(f"layout must be one of {', '.join(READABLE)}; got {layout!r}")
    if layout == "anaglyph":
        raise OptionError("an anaglyph has lost each eye's colours and cannot be split into eyes; upscale the sbs, tb "
                          "or lr output of the conversion instead")
    if layout == "mv-hevc":
        raise OptionError("reading MV-HEVC (Apple spatial video) is not supported; upscale the sbs or lr output of the "
                          "conversion instead")


def split_eyes(frames: np.ndarray, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """(left, right) ``(t, H', W', 3)`` of packed frames ``(t, H, W, 3)`` (not for ``lr``)."""
    check_readable(layout)
    t, h, w, _ = frames.shape
    if layout in ("sbs", "half-sbs", "vr180", "cross"):
        if w % 2:
            raise OptionError(f"a {layout} frame needs an even width; got {w}")
        a, b = frames[:, :, : w // 2], frames[:, :, w // 2:]
        return (b, a) if layout == "cross" else (a, b)
    if layout in ("tb", "half-tb"):
        if h % 2:
            raise OptionError(f"a {layout} frame needs an even height; got {h}")
        return frames[:, : h // 2], frames[:, h // 2:]
    raise OptionError(f"layout {layout!r} keeps the eyes in two files; give the _L file")


def join_eyes(left: np.ndarray, right: np.ndarray, layout: str, source_layout: str) -> list[np.ndarray]:
    """Pack eyes into the frames of each output file of ``layout``.

    The same layout as the input packs the eyes as they are (a half layout stays half);
    another layout is composed from the eyes as full pictures (:func:`compose_streams`).
    """
    if layout == source_layout:
        if layout in ("sbs", "half-sbs", "vr180"):
            return [np.concatenate([left, right], axis=2)]
        if layout == "cross":
            return [np.concatenate([right, left], axis=2)]
        if layout in ("tb", "half-tb"):
            return [np.concatenate([left, right], axis=1)]
        return [left, right]
    if source_layout in ("half-sbs", "half-tb"):
        raise OptionError(f"the eyes of a {source_layout} video are squeezed; upscale it to {source_layout} (the "
                          f"default) rather than {layout}")
    return compose_streams(left, right, layout)
