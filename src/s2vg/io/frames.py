"""Reading frames from a video file, an image folder or a single image.

Frames come out as float32 RGB in [0, 1], shape ``(T, H, W, 3)``, upright: the display
rotation stored in the container is applied, so ``H, W`` are the displayed size
(:attr:`VideoInfo.height`, :attr:`VideoInfo.width`). :func:`iter_chunks` decodes as a
stream, so peak memory depends on the chunk size and the resolution, not on the length
of the video; :func:`read_frames` is the same stream gathered into one array.

Colours: YUV is converted with the matrix the file is tagged with; an untagged file is
read as players read it (BT.709 from 720 lines up, BT.601 below). HDR transfer
functions (PQ/HLG) are not tone-mapped, and >8-bit video is reduced to 8 bits.

Variable-rate videos are read frame by frame as stored (no frame is duplicated or
dropped); their :attr:`VideoInfo.fps` is the average rate. Mirroring in a display matrix
(rare) is ignored; only its rotation is applied.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import av
import cv2
import numpy as np
from av.video.reformatter import Colorspace

from s2vg.errors import InputError, OptionError
from s2vg.io.info import VideoInfo, open_video, probe


class Chunk(NamedTuple):
    """A run of consecutive frames.

    Attributes:
        start: index of the first frame of ``frames`` in the whole video.
        frames: ``(t, H, W, 3)`` float32 RGB in [0, 1].
    """

    start: int
    frames: np.ndarray


def _to_float(image: np.ndarray) -> np.ndarray:
    """uint8 or uint16 ``(..., 3)`` -> float32 in [0, 1]."""
    scale = np.float32(1.0 / np.iinfo(image.dtype).max)
    return image.astype(np.float32) * scale


def read_image(path: str | Path) -> np.ndarray:
    """Read one image file as ``(H, W, 3)`` float32 RGB in [0, 1].

    Grey images are expanded to three channels, an alpha channel is dropped, 16-bit
    images keep their precision, and the EXIF orientation is applied.

    Raises:
        InputError: the file cannot be decoded as an image.
    """
    path = Path(path)
    # IMREAD_COLOR gives 3 channels and applies the EXIF orientation; ANYDEPTH keeps 16 bit.
    image = cv2.imread(str(path), cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH)
    if image is None:
        raise InputError(f"image {str(path)!r} cannot be decoded; give a valid png/jpg/bmp/tif/webp file")
    if image.dtype not in (np.uint8, np.uint16):
        raise InputError(f"image {str(path)!r} has {image.dtype} pixels; give an 8- or 16-bit image")
    return _to_float(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))


#: Frames a video may decode short of its header's count before it is called truncated
#: (or 1 %, whichever is larger).
_SHORTFALL_FRAMES = 2

#: AVColorSpace value of an untagged frame (AVCOL_SPC_UNSPECIFIED).
_UNSPECIFIED_COLORSPACE = 2


def _to_rgb(frame: av.VideoFrame) -> np.ndarray:
    """Decoded frame -> ``(H, W, 3)`` uint8 RGB. An untagged frame is read as players read
    it: BT.709 from 720 lines up (HD), BT.601 below; tagged frames use their tag."""
    if frame.colorspace == _UNSPECIFIED_COLORSPACE and frame.format.name.startswith(("yuv", "nv")):
        src = Colorspace.ITU709 if frame.height >= 720 else Colorspace.ITU601
        return frame.reformat(format="rgb24", src_colorspace=src, dst_colorspace=src).to_ndarray()
    return frame.to_ndarray(format="rgb24")


def _iter_video(info: VideoInfo, max_frames: int | None) -> Iterator[np.ndarray]:
    """Decode the first video stream frame by frame as upright ``(H, W, 3)`` uint8 RGB."""
    path = info.path
    container = open_video(path)
    count = 0
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame + slice threads; decoding order is unchanged
        turns = info.rotation // 90
        try:
            for frame in container.decode(stream):
                if max_frames is not None and count >= max_frames:
                    return
                rgb = _to_rgb(frame)
                # np.rot90 with k > 0 turns counter-clockwise, as the display matrix asks.
                yield np.rot90(rgb, k=turns) if turns else rgb
                count += 1
        except av.error.FFmpegError as exc:
            raise InputError(
                f"video {str(path)!r} cannot be decoded after frame {count} ({exc.strerror or exc}); "
                "the file is corrupt or truncated"
            ) from None
    finally:
        container.close()
    wanted = info.frames if max_frames is None else min(info.frames, max_frames)
    # Edit lists may hide a frame or two that the header still counts; a truncated file
    # loses far more. Small shortfalls warn, larger ones are an error.
    if 0 < wanted - count <= max(_SHORTFALL_FRAMES, wanted // 100):
        warnings.warn(f"video {str(path)!r}: decoded {count} of the {info.frames} frames its header announces", stacklevel=3)
    elif count < wanted:
        raise InputError(
            f"video {str(path)!r} ends after {count} of the {info.frames} frames its header announces; "
            "the file is truncated or corrupt, re-download or re-encode it"
        )


def _iter_images(info: VideoInfo, max_frames: int | None) -> Iterator[np.ndarray]:
    files = info.files if max_frames is None else info.files[:max_frames]
    for file in files:
        image = read_image(file)
        if image.shape[:2] != (info.height, info.width):
            raise InputError(
                f"image {str(file)!r} is {image.shape[1]}x{image.shape[0]} but the first is "
                f"{info.width}x{info.height}; resize them to one size"
            )
        yield image


def iter_frames(source: str | Path | VideoInfo, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """Yield frames one by one, ``(H, W, 3)`` float32 RGB in [0, 1], upright.

    Args:
        source: a path (video, image folder, image) or its :class:`VideoInfo`.
        max_frames: stop after this many frames; defaults to None (all frames).

    Raises:
        InputError: unreadable, corrupt or truncated input, or images of different sizes.
    """
    info = source if isinstance(source, VideoInfo) else probe(source)
    if max_frames is not None and max_frames < 1:
        raise OptionError(f"max_frames must be >= 1 or None; got {max_frames!r}")
    if info.kind == "video":
        for rgb in _iter_video(info, max_frames):
            yield _to_float(rgb)
    else:
        yield from _iter_images(info, max_frames)


def iter_chunks(
    source: str | Path | VideoInfo,
    chunk_frames: int,
    overlap: int = 0,
    max_frames: int | None = None,
) -> Iterator[Chunk]:
    """Stream an input as chunks of consecutive frames, holding one chunk in memory.

    Chunk ``k`` starts at frame ``k * (chunk_frames - overlap)`` and holds
    ``chunk_frames`` frames (the last may hold fewer); its first ``overlap`` frames
    repeat the end of the previous chunk. No chunk is made only of repeated frames.

    Args:
        source: a path (video, image folder, image) or its :class:`VideoInfo`.
        chunk_frames: frames per chunk, >= 1.
        overlap: frames shared by consecutive chunks, 0 <= overlap < chunk_frames;
            defaults to 0.
        max_frames: read at most this many frames; defaults to None (all).

    Yields:
        :class:`Chunk` ``(start, frames)`` with frames ``(t, H, W, 3)`` float32 in [0, 1].

    Raises:
        OptionError: impossible chunk_frames or overlap.
        InputError: unreadable, corrupt or truncated input.
    """
    if not isinstance(chunk_frames, int) or chunk_frames < 1:
        raise OptionError(f"chunk_frames must be an integer >= 1; got {chunk_frames!r}")
    if not isinstance(overlap, int) or not 0 <= overlap < chunk_frames:
        raise OptionError(f"overlap must be an integer in [0, chunk_frames={chunk_frames}); got {overlap!r}")
    buffer: list[np.ndarray] = []
    start = 0
    new = 0  # frames in the buffer that no chunk has yielded yet
    for frame in iter_frames(source, max_frames):
        buffer.append(frame)
        new += 1
        if len(buffer) == chunk_frames:
            yield Chunk(start, np.stack(buffer))
            buffer = buffer[chunk_frames - overlap :]
            start += chunk_frames - overlap
            new = 0
    if new:
        yield Chunk(start, np.stack(buffer))


def read_frames(path: str | Path, max_frames: int | None = None) -> tuple[np.ndarray, VideoInfo]:
    """Read a whole input into memory.

    Args:
        path: a video file FFmpeg reads (mp4, mov, mkv, webm, gif ...), a folder of
            images (png/jpg/jpeg/bmp/tif/webp, natural name order) or a single image.
        max_frames: read at most this many frames; defaults to None (all).

    Returns:
        ``(frames, info)``: frames ``(T, H, W, 3)`` float32 RGB in [0, 1], upright, and
        the :class:`VideoInfo` of the input (``info.frames`` counts the whole input,
        ``frames.shape[0]`` what was read).

    Raises:
        InputError: missing path, empty folder, not a video, corrupt or truncated
            video, images of different sizes.
    """
    info = probe(path)
    count = info.frames if max_frames is None else min(info.frames, max_frames)
    out = np.empty((count, info.height, info.width, 3), np.float32)
    extra: list[np.ndarray] = []  # frames beyond the header's count (rare; kept, not dropped)
    read = 0
    for read, frame in enumerate(iter_frames(info, max_frames), start=1):
        if read <= count:
            out[read - 1] = frame
        else:
            extra.append(frame)
    if extra:
        return np.concatenate([out, np.stack(extra)]), info
    return out[:read], info
