"""Frames by index: one sequential stream, or a seek to the frame a chunk starts at.

A chunk converted in another process (or after a resume) must see exactly the frames a
single sequential read gives. Each frame's presentation timestamp is recorded by the depth
pass; a later read seeks to the keyframe before the wanted timestamp, decodes forward,
and checks that it lands on exactly that timestamp. Where it cannot (no timestamps, an
odd container) it falls back to decoding from the start and counting frames, which is
slower but always right. Colour conversion and rotation are those of :mod:`s2vg.io`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import av
import numpy as np

from s2vg.errors import InputError
from s2vg.io.frames import _to_float, _to_rgb, read_image
from s2vg.io.info import VideoInfo, open_video

#: Frames a video may decode short of its header's count before it is called truncated
#: (or 1 %, whichever is larger): the rule of :func:`s2vg.io.iter_frames`.
SHORTFALL_FRAMES = 2


def check_frame_count(info: VideoInfo, decoded: int, max_frames: int | None) -> None:
    """Warn about a small shortfall against the header's count, raise InputError for a large one."""
    wanted = info.frames if max_frames is None else min(info.frames, max_frames)
    if 0 < wanted - decoded <= max(SHORTFALL_FRAMES, wanted // 100):
        warnings.warn(f"video {str(info.path)!r}: decoded {decoded} of the {info.frames} frames its header announces", stacklevel=3)
    elif decoded < wanted:
        raise InputError(
            f"video {str(info.path)!r} ends after {decoded} of the {info.frames} frames its header announces; "
            "the file is truncated or corrupt, re-download or re-encode it"
        )


def _decode_error(info: VideoInfo, index: int, exc: av.error.FFmpegError) -> InputError:
    return InputError(
        f"video {str(info.path)!r} cannot be decoded after frame {index} ({exc.strerror or exc}); "
        "the file is corrupt or truncated"
    )


def iter_indexed_frames(
    info: VideoInfo,
    start: int = 0,
    stop: int | None = None,
    start_pts: int | None = None,
) -> Iterator[tuple[int, int | None, np.ndarray]]:
    """Yield ``(index, pts, frame)`` for frames ``start <= index < stop`` of an input.

    Args:
        info: the probed input (video, image folder or image).
        start: index of the first frame wanted.
        stop: index after the last frame wanted; defaults to None (to the end).
        start_pts: the presentation timestamp of frame ``start`` as a sequential read saw it
            (stream time base); with it a video is entered by seeking, without it (or if
            the seek does not land on it) it is decoded from the first frame.

    Yields:
        ``(index, pts, frame)``: pts is the stream timestamp (None for images), frame is
        ``(H, W, 3)`` float32 RGB in [0, 1], upright.

    Raises:
        InputError: a corrupt or undecodable input.
    """
    if info.kind != "video":
        files = info.files[start:stop]
        for offset, file in enumerate(files):
            image = read_image(file)
            if image.shape[:2] != (info.height, info.width):
                raise InputError(
                    f"image {str(file)!r} is {image.shape[1]}x{image.shape[0]} but the first is "
                    f"{info.width}x{info.height}; resize them to one size"
                )
            yield start + offset, None, image
        return
    if start > 0 and start_pts is not None:
        landed = yield from _seek_and_decode(info, start, stop, start_pts)
        if landed:
            return
    yield from _decode(info, start, stop)


def _frame_array(frame: av.VideoFrame, turns: int) -> np.ndarray:
    rgb = _to_rgb(frame)
    # np.rot90 with k > 0 turns counter-clockwise, as the display matrix asks (as s2vg.io does).
    return _to_float(np.rot90(rgb, k=turns) if turns else rgb)


def _decode(info: VideoInfo, start: int, stop: int | None) -> Iterator[tuple[int, int | None, np.ndarray]]:
    container = open_video(info.path)
    index = 0
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame + slice threads; decoding order and output are unchanged
        turns = info.rotation // 90
        try:
            for frame in container.decode(stream):
                if stop is not None and index >= stop:
                    return
                if index >= start:
                    yield index, frame.pts, _frame_array(frame, turns)
                index += 1
        except av.error.FFmpegError as exc:
            raise _decode_error(info, index, exc) from None
    finally:
        container.close()


def _seek_and_decode(info: VideoInfo, start: int, stop: int | None, start_pts: int):
    """Seek to ``start_pts`` and yield from there; returns False (yielding nothing) when the
    seek does not land exactly on that timestamp."""
    container = open_video(info.path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        turns = info.rotation // 90
        index: int | None = None
        try:
            container.seek(int(start_pts), stream=stream, backward=True, any_frame=False)
            for frame in container.decode(stream):
                if index is None:
                    if frame.pts is None or frame.pts > start_pts:
                        return False  # landed after the frame (or cannot tell): decode from the start
                    if frame.pts < start_pts:
                        continue
                    index = start
                if stop is not None and index >= stop:
                    return True
                yield index, frame.pts, _frame_array(frame, turns)
                index += 1
        except av.error.FFmpegError as exc:
            if index is None:
                return False
            raise _decode_error(info, index, exc) from None
        return index is not None
    finally:
        container.close()


def read_span(info: VideoInfo, start: int, stop: int, start_pts: int | None = None) -> tuple[np.ndarray, list]:
    """Frames ``[start, stop)`` as ``(stop - start, H, W, 3)`` float32 and their timestamps.

    Raises:
        InputError: the input ends before ``stop`` or is corrupt.
    """
    out = np.empty((stop - start, info.height, info.width, 3), np.float32)
    stamps: list = []
    count = 0
    for index, pts, frame in iter_indexed_frames(info, start, stop, start_pts):
        out[index - start] = frame
        stamps.append(pts)
        count += 1
    if count != stop - start:
        raise InputError(
            f"input {str(info.path)!r} gave {count} of the frames {start}..{stop - 1} it gave before; "
            "the file changed during the job, convert it again without --resume"
        )
    return out, stamps
