"""What a video, an image folder or an image holds: :class:`VideoInfo` and :func:`probe`.

Probing reads container headers and decodes at most one video frame (for the display
rotation, which FFmpeg attaches to decoded frames). Where a container does not store
the frame count (Matroska, WebM, some GIFs), the video packets are counted by demuxing,
which reads the file but decodes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
from PIL import Image

from s2vg.errors import InputError

#: File name suffixes read as still images (lower case).
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")

#: Frame rate given to an image folder or a single image, which carry none.
DEFAULT_IMAGE_FPS = Fraction(30)

#: Relative difference between the container's base rate and its average rate above
#: which a stream is called variable-rate (FFmpeg's own r_frame_rate/avg_frame_rate test).
_VFR_TOLERANCE = 1e-3

SourceKind = Literal["video", "images", "image"]


@dataclass(frozen=True)
class AudioStreamInfo:
    """One audio stream of a container.

    Attributes:
        index: stream index in the container.
        codec: decoder name (``"aac"``, ``"opus"``, ``"ac3"`` ...).
        channels: number of channels.
        sample_rate: samples per second (Hz).
        layout: channel layout name (``"stereo"``, ``"5.1"`` ...).
        language: ISO 639 language tag, or None.
    """

    index: int
    codec: str
    channels: int
    sample_rate: int
    layout: str
    language: str | None = None


@dataclass(frozen=True)
class SubtitleStreamInfo:
    """One subtitle stream of a container (index, codec name, language tag or None)."""

    index: int
    codec: str
    language: str | None = None


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` sees in an input.

    Attributes:
        path: the input path (a file or a folder).
        kind: ``"video"`` (a container FFmpeg reads), ``"images"`` (a folder of
            images) or ``"image"`` (one image).
        width, height: size in pixels of the frames as :func:`s2vg.io.read_frames`
            returns them, i.e. *after* the display rotation is applied.
        frames: number of frames (counted by demuxing where the header lacks it).
        fps: exact frame rate as a fraction (30000/1001 stays 30000/1001); for a
            variable-rate video the average rate; :data:`DEFAULT_IMAGE_FPS` for images.
        variable_rate: True when the frame rate varies along the video.
        duration: seconds (frames / fps for images).
        rotation: counter-clockwise degrees (0, 90, 180 or 270) by which the stored
            frames are turned to be shown upright (the container's display matrix).
        codec: video codec name (``"h264"``, ``"hevc"`` ...; ``"png"``/``"mjpeg"`` ...
            for images).
        pixel_format: decoded pixel format (``"yuv420p"`` ...), or the image mode.
        audio: the audio streams, in container order.
        subtitles: the subtitle streams, in container order.
        files: for ``"images"``, the image files in reading order; else empty.
    """

    path: Path
    kind: SourceKind
    width: int
    height: int
    frames: int
    fps: Fraction
    duration: float
    variable_rate: bool = False
    rotation: int = 0
    codec: str = ""
    pixel_format: str = ""
    audio: tuple[AudioStreamInfo, ...] = ()
    subtitles: tuple[SubtitleStreamInfo, ...] = ()
    files: tuple[Path, ...] = field(default=(), repr=False)


def natural_key(path: Path) -> list[object]:
    """Sort key that orders ``frame2.png`` before ``frame10.png`` (digit runs as numbers)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def list_images(folder: Path) -> list[Path]:
    """Image files directly inside ``folder`` (suffixes :data:`IMAGE_SUFFIXES`), in natural name order."""
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    return sorted(files, key=natural_key)


def is_image_file(path: Path) -> bool:
    """True when ``path`` has one of the still-image suffixes."""
    return path.suffix.lower() in IMAGE_SUFFIXES


def normalise_rotation(degrees: float | None) -> int:
    """Round a display-matrix angle to 0, 90, 180 or 270 (counter-clockwise)."""
    if degrees is None:
        return 0
    return int(round(float(degrees) / 90.0)) % 4 * 90


def probe(path: str | Path) -> VideoInfo:
    """Describe a video file, an image folder or a single image without decoding it all.

    Args:
        path: a video file FFmpeg reads (mp4, mov, mkv, webm, gif ...), a folder of
            images (png/jpg/jpeg/bmp/tif/webp, read in natural name order) or one image.

    Returns:
        The :class:`VideoInfo` of the input.

    Raises:
        InputError: the path is missing, the folder holds no image, the images differ
            in size, or the file is not a readable video or image.
    """
    path = Path(path)
    check_exists(path)
    if path.is_dir():
        return _probe_folder(path)
    if is_image_file(path):
        return _probe_image(path)
    return _probe_video(path)


def _image_size(path: Path) -> tuple[int, int, str, str]:
    """(width, height, format, mode) of an image from its header, EXIF orientation applied."""
    try:
        with Image.open(path) as im:
            width, height = im.size
            # EXIF orientations 5-8 turn the picture by 90 degrees; readers apply them.
            if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):
                width, height = height, width
            return width, height, (im.format or "").lower(), im.mode
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"image {str(path)!r} cannot be read ({exc}); give a valid image file") from None


def _probe_image(path: Path) -> VideoInfo:
    width, height, fmt, mode = _image_size(path)
    return VideoInfo(
        path=path, kind="image", width=width, height=height, frames=1, fps=DEFAULT_IMAGE_FPS,
        duration=float(1 / DEFAULT_IMAGE_FPS), codec=fmt, pixel_format=mode, files=(path,),
    )


def _probe_folder(path: Path) -> VideoInfo:
    files = list_images(path)
    if not files:
        raise InputError(
            f"input folder {str(path)!r} holds no image ({'/'.join(s[1:] for s in IMAGE_SUFFIXES)}); "
            "give a folder of frames or a video file"
        )
    width, height, fmt, mode = _image_size(files[0])
    for other in files[1:]:
        w, h, _, _ = _image_size(other)
        if (w, h) != (width, height):
            raise InputError(
                f"images in {str(path)!r} differ in size: {files[0].name} is {width}x{height}, "
                f"{other.name} is {w}x{h}; resize them to one size"
            )
    return VideoInfo(
        path=path, kind="images", width=width, height=height, frames=len(files), fps=DEFAULT_IMAGE_FPS,
        duration=float(len(files) / DEFAULT_IMAGE_FPS), codec=fmt, pixel_format=mode, files=tuple(files),
    )


def open_video(path: Path) -> av.container.InputContainer:
    """Open a container for reading, turning FFmpeg's errors into a one-line InputError."""
    try:
        container = av.open(str(path), mode="r")
    except av.error.FFmpegError as exc:
        raise InputError(
            f"input {str(path)!r} is not a video FFmpeg can read ({exc.strerror or exc}); "
            "give a video file (mp4, mov, mkv, webm, gif), an image folder or an image"
        ) from None
    if not container.streams.video:
        container.close()
        raise InputError(f"input {str(path)!r} holds no video stream; give a file with video in it")
    return container


def _language(stream: av.stream.Stream) -> str | None:
    lang = stream.metadata.get("language")
    return None if lang in (None, "", "und") else lang


def _probe_video(path: Path) -> VideoInfo:
    container = open_video(path)
    try:
        stream = container.streams.video[0]
        base = stream.base_rate
        average = stream.average_rate or stream.guessed_rate or base
        if not average:
            raise InputError(f"video {str(path)!r} has no frame rate in its header; remux it (ffmpeg -i IN -c copy OUT.mp4)")
        fps = Fraction(average)
        variable = bool(base) and abs(float(Fraction(base)) / float(fps) - 1.0) > _VFR_TOLERANCE
        rotation, pixel_format, coded_w, coded_h = _first_frame(container, stream, path)
        frames = stream.frames or _count_packets(path)
        if stream.duration and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = container.duration / av.time_base
        else:
            duration = float(frames / fps)
        audio = tuple(
            AudioStreamInfo(
                index=s.index, codec=s.codec_context.name, channels=s.codec_context.channels,
                sample_rate=s.codec_context.sample_rate, layout=s.codec_context.layout.name,
                language=_language(s),
            )
            for s in container.streams.audio
        )
        subtitles = tuple(
            SubtitleStreamInfo(
                index=s.index, codec=s.codec_context.name if s.codec_context else "unknown", language=_language(s)
            )
            for s in container.streams.subtitles
        )
        codec = stream.codec_context.name
    finally:
        container.close()
    width, height = (coded_h, coded_w) if rotation in (90, 270) else (coded_w, coded_h)
    return VideoInfo(
        path=path, kind="video", width=width, height=height, frames=frames, fps=fps, duration=duration,
        variable_rate=variable, rotation=rotation, codec=codec, pixel_format=pixel_format,
        audio=audio, subtitles=subtitles,
    )


def _first_frame(container: av.container.InputContainer, stream: av.video.stream.VideoStream, path: Path) -> tuple[int, str, int, int]:
    """(rotation, pixel format, width, height) of the first decodable frame."""
    try:
        for frame in container.decode(stream):
            return normalise_rotation(getattr(frame, "rotation", 0)), frame.format.name, frame.width, frame.height
    except av.error.FFmpegError as exc:
        raise InputError(f"video {str(path)!r} cannot be decoded ({exc.strerror or exc}); the file is corrupt or truncated") from None
    raise InputError(f"video {str(path)!r} holds no decodable frame; the file is empty, corrupt or truncated")


def _count_packets(path: Path) -> int:
    """Number of video packets of the first video stream, by demuxing (no decoding)."""
    container = open_video(path)
    try:
        stream = container.streams.video[0]
        return sum(1 for packet in container.demux(stream) if packet.size)
    except av.error.FFmpegError as exc:
        raise InputError(f"video {str(path)!r} cannot be read to the end ({exc.strerror or exc}); the file is corrupt or truncated") from None
    finally:
        container.close()

def check_exists(path: Path) -> None:
    """Raise InputError when ``path`` does not exist."""
    if not path.exists():
        raise InputError(f"input {str(path)!r} does not exist; give a video file, an image folder or an image")


def _format_fps(fps: Fraction) -> str:
    if fps.denominator == 1:
        return f"{fps.numerator} fps"
    return f"{fps.numerator}/{fps.denominator} fps ({float(fps):.3f})"


def describe(info: VideoInfo) -> str:
    """Human-readable summary of a :class:`VideoInfo`, as ``s2vg info`` prints it.

    The first line gives the kind, codec, displayed size, frame rate, frame count and
    duration; one indented line follows per audio and subtitle stream. Example::

        clip.mp4: video h264 (yuv420p), 1920x1080, 30000/1001 fps (29.970), 300 frames, 10.010 s
          rotation: 90 degrees counter-clockwise (applied when reading)
          audio #1: aac, 6 channels (5.1), 48000 Hz, language eng
          subtitles #2: mov_text, language fra
    """
    name = info.path.name or str(info.path)
    kind = {"video": "video", "images": "image folder", "image": "image"}[info.kind]
    fmt = f" ({info.pixel_format})" if info.pixel_format else ""
    rate = _format_fps(info.fps)
    if info.variable_rate:
        rate = f"variable frame rate, average {rate}"
    elif info.kind != "video":
        rate = f"{rate} (assumed)"
    head = f"{name}: {kind} {info.codec}{fmt}, {info.width}x{info.height}"
    if info.kind != "image":
        head += f", {rate}, {info.frames} frame{'s' if info.frames != 1 else ''}, {info.duration:.3f} s"
    lines = [head]
    if info.kind == "images" and info.files:
        lines.append(f"  files: {info.files[0].name} ... {info.files[-1].name}")
    if info.rotation:
        lines.append(f"  rotation: {info.rotation} degrees counter-clockwise (applied when reading)")
    for audio in info.audio:
        language = f", language {audio.language}" if audio.language else ""
        lines.append(
            f"  audio #{audio.index}: {audio.codec}, {audio.channels} channel{'s' if audio.channels != 1 else ''} "
            f"({audio.layout}), {audio.sample_rate} Hz{language}"
        )
    for sub in info.subtitles:
        language = f", language {sub.language}" if sub.language else ""
        lines.append(f"  subtitles #{sub.index}: {sub.codec}{language}")
    if info.kind == "video" and not info.audio:
        lines.append("  audio: none")
    return "\n".join(lines)
