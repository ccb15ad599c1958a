"""Spherical Video V2 metadata in MP4/MOV files: write and read the ``st3d`` and ``sv3d`` boxes.

FFmpeg's mov muxer writes these boxes only from stream side data, which PyAV cannot set,
so :func:`add_spherical_metadata` inserts them into the video sample entry of a finished
file (``moov/trak/mdia/minf/stbl/stsd/avc1|hvc1``), as Google's spatial-media injector
does, and fixes the sizes of the enclosing boxes and, when the index sits before the
media data (``+faststart``), the chunk offsets (``stco``/``co64``) that the insertion moves.

Boxes written (Spherical Video V2 RFC, google/spatial-media ``docs/spherical-video-v2-rfc.md``)::

    st3d  FullBox(v0)  stereo_mode u8             0 mono, 1 top-bottom, 2 left-right
    sv3d  Box
      svhd  FullBox(v0)  metadata_source          NUL-terminated UTF-8
      proj  Box
        prhd  FullBox(v0)  yaw, pitch, roll       16.16 fixed-point degrees
        equi  FullBox(v0)  bounds top, bottom,    0.32 fixed-point fractions of the
                           left, right            full 360 x 180 frame cropped away

VR180 is equirectangular with a quarter of the width cropped on each side
(``left = right = 0x40000000``): the frame spans 180 x 180 degrees per eye.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

from s2vg.errors import InputError, OutputError

STEREO_MODES: dict[str, int] = {"mono": 0, "top-bottom": 1, "left-right": 2}

#: Boxes whose payload is a list of child boxes (the path to the sample entries).
_CONTAINERS = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl"})

#: Visual sample entry: 8-byte header then 78 bytes of fixed fields before the child boxes.
_VISUAL_ENTRY_FIELDS = 78

_FIXED_32 = 1 << 32


@dataclass(frozen=True)
class SphericalMetadata:
    """What the ``st3d``/``sv3d`` boxes say.

    Attributes:
        stereo_mode: ``"mono"``, ``"top-bottom"`` or ``"left-right"``.
        bounds: fractions (top, bottom, left, right) of the full equirectangular frame
            that are cropped away; (0, 0, 0.25, 0.25) is VR180.
        yaw, pitch, roll: pose of the projection in degrees; default 0.
        source: the ``svhd`` metadata source string.
    """

    stereo_mode: str = "left-right"
    bounds: tuple[float, float, float, float] = (0.0, 0.0, 0.25, 0.25)
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    source: str = "s2vg"

    def __post_init__(self) -> None:
        if self.stereo_mode not in STEREO_MODES:
            raise InputError(f"stereo mode must be one of {', '.join(STEREO_MODES)}; got {self.stereo_mode!r}")
        if len(self.bounds) != 4 or not all(0.0 <= b < 1.0 for b in self.bounds):
            raise InputError(f"projection bounds must be 4 fractions in [0, 1); got {self.bounds!r}")
        if self.bounds[0] + self.bounds[1] >= 1.0 or self.bounds[2] + self.bounds[3] >= 1.0:
            raise InputError(f"projection bounds crop the whole frame; got {self.bounds!r}")


#: Side-by-side VR180: each half of the frame is one eye, 180 x 180 degrees.
VR180 = SphericalMetadata()


def box(kind: bytes, payload: bytes) -> bytes:
    """A serialised box: 32-bit size, four-character kind, payload."""
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full_box(kind: bytes, payload: bytes) -> bytes:
    """A serialised FullBox of version 0 and flags 0."""
    return box(kind, b"\0\0\0\0" + payload)




def spherical_boxes(meta: SphericalMetadata) -> bytes:
    """The ``st3d`` and ``sv3d`` boxes, serialised, for appending to a sample entry."""
    fixed_angle = [round(a * 65536) for a in (meta.yaw, meta.pitch, meta.roll)]
    bounds = [min(_FIXED_32 - 1, round(b * _FIXED_32)) for b in meta.bounds]
    st3d = full_box(b"st3d", struct.pack(">B", STEREO_MODES[meta.stereo_mode]))
    svhd = full_box(b"svhd", meta.source.encode() + b"\0")
    prhd = full_box(b"prhd", struct.pack(">3i", *fixed_angle))
    equi = full_box(b"equi", struct.pack(">4I", *bounds))
    return st3d + box(b"sv3d", svhd + box(b"proj", prhd + equi))


@dataclass
class _Box:
    kind: bytes
    start: int  # offset of the header in the buffer
    header: int  # header length (8, or 16 with a 64-bit size)
    size: int

    @property
    def end(self) -> int:
        return self.start + self.size

    @property
    def body(self) -> int:
        return self.start + self.header


def _children(data: bytes | bytearray, start: int, end: int) -> list[_Box]:
    boxes: list[_Box] = []
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise InputError(f"MP4 box {kind!r} at byte {pos} has an impossible size {size}; the file is damaged")
        boxes.append(_Box(kind, pos, header, size))
        pos += size
    return boxes


def _top_level(path: Path) -> list[_Box]:
    """Top-level boxes of a file, read from their headers only (mdat is not loaded)."""
    boxes: list[_Box] = []
    total = path.stat().st_size
    with path.open("rb") as f:
        pos = 0
        while pos + 8 <= total:
            f.seek(pos)
            head = f.read(16)
            size, kind = struct.unpack_from(">I4s", head)
            header = 8
            if size == 1:
                (size,) = struct.unpack_from(">Q", head, 8)
                header = 16
            elif size == 0:
                size = total - pos
            if size < header or pos + size > total:
                raise InputError(f"{path.name}: MP4 box {kind!r} at byte {pos} has an impossible size {size}; not a whole MP4/MOV file")
            boxes.append(_Box(kind, pos, header, size))
            pos += size
    return boxes


def _find(data: bytes | bytearray, parent: _Box, kind: bytes) -> list[_Box]:
    return [b for b in _children(data, parent.body, parent.end) if b.kind == kind]


def _video_sample_entries(moov: bytes | bytearray) -> list[tuple[list[_Box], _Box]]:
    """(ancestors from moov to stsd, sample entry) of every video track."""
    root = _Box(b"moov", 0, 8, len(moov))
    found = []
    for trak in _find(moov, root, b"trak"):
        for mdia in _find(moov, trak, b"mdia"):
            hdlr = _find(moov, mdia, b"hdlr")
            if not hdlr or moov[hdlr[0].body + 8 : hdlr[0].body + 12] != b"vide":
                continue
            for minf in _find(moov, mdia, b"minf"):
                for stbl in _find(moov, minf, b"stbl"):
                    for stsd in _find(moov, stbl, b"stsd"):
                        # stsd: FullBox (4 bytes) + entry_count (4 bytes), then the entries.
                        for entry in _children(moov, stsd.body + 8, stsd.end):
                            found.append(([root, trak, mdia, minf, stbl, stsd], entry))
    return found


def _set_size(buf: bytearray, box: _Box, size: int) -> None:
    if box.header == 16:
        struct.pack_into(">Q", buf, box.start + 8, size)
    elif size < _FIXED_32:
        struct.pack_into(">I", buf, box.start, size)
    else:
        raise OutputError(f"MP4 box {box.kind!r} would exceed 4 GiB with spherical metadata")


def _shift_chunk_offsets(moov: bytearray, delta: int) -> None:
    """Add ``delta`` to every chunk offset of every track (stco: u32, co64: u64)."""
    root = _Box(b"moov", 0, 8, len(moov))
    for trak in _find(moov, root, b"trak"):
        for mdia in _find(moov, trak, b"mdia"):
            for minf in _find(moov, mdia, b"minf"):
                for stbl in _find(moov, minf, b"stbl"):
                    for box in _children(moov, stbl.body, stbl.end):
                        if box.kind not in (b"stco", b"co64"):
                            continue
                        (count,) = struct.unpack_from(">I", moov, box.body + 4)
                        width, fmt = (4, ">I") if box.kind == b"stco" else (8, ">Q")
                        for i in range(count):
                            at = box.body + 8 + i * width
                            (offset,) = struct.unpack_from(fmt, moov, at)
                            if box.kind == b"stco" and offset + delta >= _FIXED_32:
                                raise OutputError("chunk offsets pass 4 GiB after adding spherical metadata; write a smaller file")
                            struct.pack_into(fmt, moov, at, offset + delta)


def _with_boxes(moov: bytes, extra: bytes, replace: frozenset[bytes]) -> bytearray:
    """``moov`` with ``extra`` appended to each video sample entry, after removing its
    children of the kinds in ``replace``."""
    count = len(_video_sample_entries(moov))
    if not count:
        raise InputError("the MP4 file has no video track to tag")
    buf = bytearray(moov)
    # Edit from the last entry backwards, parsing again each time, so that the offsets
    # and sizes used are those of the buffer as it is now.
    for k in reversed(range(count)):
        ancestors, entry = _video_sample_entries(buf)[k]
        first_child = entry.body + _VISUAL_ENTRY_FIELDS
        kept = [c for c in _children(buf, first_child, entry.end) if c.kind not in replace]
        body = b"".join(bytes(buf[c.start : c.end]) for c in kept) + extra
        new_entry_size = (first_child - entry.start) + len(body)
        delta = new_entry_size - entry.size
        buf[first_child : entry.end] = body
        _set_size(buf, entry, new_entry_size)
        for box in ancestors:
            _set_size(buf, box, box.size + delta)
    return buf


def add_spherical_metadata(path: str | Path, meta: SphericalMetadata = VR180) -> None:
    """Insert (or replace) ``st3d`` and ``sv3d`` in every video sample entry of an MP4/MOV file.

    The file is rewritten next to itself and moved into place, so a failure leaves it
    as it was.

    Raises:
        InputError: the file is not an MP4/MOV with a video track.
        OutputError: it cannot be rewritten.
    """
    add_sample_entry_boxes(path, spherical_boxes(meta), frozenset({b"st3d", b"sv3d"}))


def add_sample_entry_boxes(path: str | Path, boxes: bytes, replace: frozenset[bytes]) -> None:
    """Append serialised ``boxes`` to every video sample entry of an MP4/MOV file, after
    removing the entry's children whose kinds are in ``replace`` (so that adding twice
    replaces). Sizes and chunk offsets are fixed; the file is rewritten atomically.

    Raises:
        InputError: the file is not an MP4/MOV with a video track.
        OutputError: it cannot be rewritten.
    """
    path = Path(path)
    top = _top_level(path)
    moovs = [b for b in top if b.kind == b"moov"]
    if len(moovs) != 1:
        raise InputError(f"{path.name}: expected one moov box, found {len(moovs)}; not a complete MP4/MOV file")
    moov_box = moovs[0]
    with path.open("rb") as f:
        f.seek(moov_box.start)
        moov = f.read(moov_box.size)
    if moov_box.header != 8:
        raise InputError(f"{path.name}: a moov box with a 64-bit size is not supported")
    new_moov = _with_boxes(moov, boxes, replace)
    delta = len(new_moov) - len(moov)
    media_after = any(b.kind == b"mdat" and b.start > moov_box.start for b in top)
    if media_after and delta:
        _shift_chunk_offsets(new_moov, delta)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".box{path.suffix}", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, path.open("rb") as src:
            shutil.copyfileobj(_Limited(src, moov_box.start), out)
            out.write(new_moov)
            src.seek(moov_box.end)
            shutil.copyfileobj(src, out, 1 << 20)
        shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"{path.name}: cannot add metadata boxes ({exc.strerror or exc})") from None


class _Limited:
    """A reader that yields only the first ``n`` bytes of a file object."""

    def __init__(self, f, n: int) -> None:
        self.f, self.left = f, n

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        size = self.left if size < 0 else min(size, self.left)
        data = self.f.read(size)
        self.left -= len(data)
        return data


def sample_entry_children(path: str | Path) -> list[tuple[bytes, bytes, bytes]]:
    """``(sample entry kind, child kind, child payload)`` of every child box of every
    video sample entry (``hvcC``, ``lhvC``, ``st3d`` ...), in file order.

    Raises:
        InputError: not an MP4/MOV file, or a malformed box.
    """
    path = Path(path)
    moovs = [b for b in _top_level(path) if b.kind == b"moov"]
    if not moovs:
        raise InputError(f"{path.name}: no moov box; not an MP4/MOV file")
    with path.open("rb") as f:
        f.seek(moovs[0].start)
        moov = f.read(moovs[0].size)
    found = []
    for _, entry in _video_sample_entries(moov):
        for child in _children(moov, entry.body + _VISUAL_ENTRY_FIELDS, entry.end):
            found.append((entry.kind, child.kind, bytes(moov[child.body : child.end])))
    return found


def parse_boxes(payload: bytes) -> list[tuple[bytes, bytes]]:
    """``(kind, payload)`` of the boxes serialised one after another in ``payload``."""
    return [(b.kind, bytes(payload[b.body : b.end])) for b in _children(payload, 0, len(payload))]


def read_spherical_metadata(path: str | Path) -> SphericalMetadata | None:
    """The spherical metadata of the first video track, or None when it has no ``sv3d``/``st3d``.

    Raises:
        InputError: not an MP4/MOV file, or a malformed box.
    """
    path = Path(path)
    moovs = [b for b in _top_level(path) if b.kind == b"moov"]
    if not moovs:
        raise InputError(f"{path.name}: no moov box; not an MP4/MOV file")
    with path.open("rb") as f:
        f.seek(moovs[0].start)
        moov = f.read(moovs[0].size)
    for _, entry in _video_sample_entries(moov):
        children = {c.kind: c for c in _children(moov, entry.body + _VISUAL_ENTRY_FIELDS, entry.end)}
        if b"st3d" not in children and b"sv3d" not in children:
            continue
        mode = "mono"
        if b"st3d" in children:
            value = moov[children[b"st3d"].body + 4]
            mode = next((k for k, v in STEREO_MODES.items() if v == value), "mono")
        yaw = pitch = roll = 0.0
        bounds = (0.0, 0.0, 0.0, 0.0)
        source = ""
        if b"sv3d" in children:
            sv3d = children[b"sv3d"]
            for box in _children(moov, sv3d.body, sv3d.end):
                if box.kind == b"svhd":
                    source = bytes(moov[box.body + 4 : box.end]).split(b"\0")[0].decode("utf-8", "replace")
                elif box.kind == b"proj":
                    for part in _children(moov, box.body, box.end):
                        if part.kind == b"prhd":
                            yaw, pitch, roll = (v / 65536 for v in struct.unpack_from(">3i", moov, part.body + 4))
                        elif part.kind == b"equi":
                            bounds = tuple(v / _FIXED_32 for v in struct.unpack_from(">4I", moov, part.body + 4))
        return SphericalMetadata(stereo_mode=mode, bounds=bounds, yaw=yaw, pitch=pitch, roll=roll, source=source)
    return None
