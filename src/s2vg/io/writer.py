"""Writing frames: a video file (H.264/HEVC with the source's audio), a PNG sequence, or one image.

Every writer is a context manager with ``write(frames)`` taking ``(t, H, W, 3)`` chunks
(float32 in [0, 1], or uint8), so a long video streams through in bounded memory. Output
goes to a hidden temporary file (or folder) next to the target and is moved into place
only when complete; if anything fails, the temporary output is removed and nothing
partial is left behind.

Video (:class:`VideoWriter`):
- Exact frame rate and count: the stream's time base is ``1 / fps`` and frame ``i`` has
  ``pts = i``, so 30000/1001 stays 30000/1001 and no frame is duplicated or dropped.
- Pixels: yuv420p, BT.709 limited range, tagged as such so players convert back the
  same way. yuv420p needs an even width and height: an odd size is *padded* by
  repeating the last column/row (no picture is lost); :attr:`VideoWriter.coded_size`
  tells the size written.
- Audio and subtitles of ``audio_source``: every audio stream is copied packet by
  packet (bit-identical, no re-encode, channels untouched) when the output container
  holds its codec; otherwise it is re-encoded to the container's usual codec (AAC for
  MP4/MOV) with the same channel layout and sample rate (never downmixed). Subtitle
  streams are copied where the container holds their codec (mov_text in MP4/MOV;
  subrip/ass/webvtt in MKV) and skipped with a warning otherwise. Packets are
  interleaved with the video as it is written, so nothing accumulates in memory. When
  fewer frames are written than the source has, audio past the video's end is dropped.
- Half side-by-side / top-bottom: ``frame_packing="sbs"|"tb"`` writes the H.264
  frame-packing-arrangement SEI (x264 ``frame-packing=3`` / ``4``) that 3D TVs read.
- VR180 and other spherical video: ``spherical=`` a
  :class:`~s2vg.io.mp4boxes.SphericalMetadata` adds the Spherical Video V2 ``st3d``/``sv3d``
  boxes to the MP4/MOV sample entry (headset players and video sites read them; no
  separate injector is needed).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import av
import cv2
import numpy as np
from av.video.reformatter import ColorRange, Colorspace

from s2vg.config import OutputConfig
from s2vg.errors import InputError, OptionError, OutputError
from s2vg.io.info import IMAGE_SUFFIXES, open_video, probe
from s2vg.io.mp4boxes import SphericalMetadata, add_spherical_metadata

#: Video codec name -> FFmpeg encoder.
VIDEO_ENCODERS: dict[str, str] = {"h264": "libx264", "hevc": "libx265"}

#: Stereo layout family -> H.264 frame_packing_arrangement_type (ITU-T H.264 Table D-8):
#: 3 = side-by-side, 4 = top-bottom.
FRAME_PACKING_TYPES: dict[str, int] = {"sbs": 3, "tb": 4}

#: Video container suffixes this writer produces (H.264/HEVC fit all of them).
VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".mov", ".m4v", ".mkv")

#: Codecs that FFmpeg lists for MP4/MOV but refuses to mux without "-strict experimental".
_EXPERIMENTAL_IN_MP4 = frozenset({"vorbis", "truehd"})

#: Audio encoders tried, in order, when a stream must be re-encoded for the container.
_AUDIO_REENCODE_ORDER: tuple[str, ...] = ("aac", "libopus", "flac")

#: Channel layout given to unordered N-channel audio before encoding (FFmpeg's defaults).
_DEFAULT_LAYOUTS: dict[int, str] = {1: "mono", 2: "stereo", 3: "2.1", 4: "4.0", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}

Codec = Literal["h264", "hevc"]
FramePacking = Literal["sbs", "tb"]


def to_uint8(frames: Any) -> np.ndarray:
    """Frames as ``(t, H, W, 3)`` uint8: float input in [0, 1] is scaled by 255 and rounded
    to nearest (values outside [0, 1] clip, NaN becomes 0); uint8 passes through; torch
    tensors are moved to the CPU first."""
    if hasattr(frames, "detach"):  # torch.Tensor, without importing torch
        frames = frames.detach().cpu().numpy()
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise InputError(f"frames must have shape (t, H, W, 3); got {frames.shape}")
    if frames.dtype == np.uint8:
        return frames
    if not np.issubdtype(frames.dtype, np.floating):
        raise InputError(f"frames must be float in [0, 1] or uint8; got {frames.dtype}")
    frames = frames.astype(np.float32, copy=False)
    out = np.empty(frames.shape, np.uint8)
    for i, frame in enumerate(frames):
        # OpenCV's saturating cast rounds and clips to [0, 255], ~10x faster than NumPy here; what it
        # makes of NaN differs between OpenCV versions (0 in 4.x, 255 in 5.x), so NaN is zeroed first.
        if np.isnan(frame).any():
            frame = np.nan_to_num(frame, nan=0.0)
        out[i] = cv2.multiply(frame, 255.0, dtype=cv2.CV_8U)
    return out


def _temporary_name(path: Path, directory: bool = False) -> Path:
    """A hidden, unique name next to ``path`` that keeps its suffix (FFmpeg picks the
    container from it)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # mkstemp/mkdtemp create private (0600/0700) entries; the finished output should
        # get the permissions any new file gets (0666/0777 less the umask).
        umask = os.umask(0)
        os.umask(umask)
        if directory:
            folder = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent))
            os.chmod(folder, 0o777 & ~umask)
            return folder
        fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{path.suffix}", dir=path.parent)
        os.close(fd)
        os.chmod(name, 0o666 & ~umask)
        return Path(name)
    except OSError as exc:
        raise OutputError(
            f"output {str(path)!r} cannot be written ({exc.strerror or exc}); choose a writable folder"
        ) from None


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class _FrameSink(ABC):
    """Shared context-manager and validation logic of the writers."""

    path: Path
    width: int
    height: int
    frames_written: int

    def __enter__(self) -> _FrameSink:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _check(self, frames: Any) -> np.ndarray:
        frames = to_uint8(frames)
        if frames.shape[1:3] != (self.height, self.width):
            raise InputError(
                f"frames of {frames.shape[2]}x{frames.shape[1]} for a writer opened at "
                f"{self.width}x{self.height} ({self.path.name}); write frames of the declared size"
            )
        return frames

    @abstractmethod
    def write(self, frames: Any) -> None:
        """Write a chunk ``(t, H, W, 3)`` float32 in [0, 1] or uint8."""

    @abstractmethod
    def close(self) -> None:
        """Finish and move the output into place."""

    _tmp: Path | None = None

    def abort(self) -> None:
        """Stop and remove the temporary output (writers holding open streams extend this)."""
        if self._tmp is not None:
            _remove(self._tmp)
            self._tmp = None


class _StreamCopier:
    """Moves the audio and subtitle streams of a source into an output container,
    interleaved with the video by time (seconds from the source's first video frame)."""

    def __init__(self, source: Path, output: av.container.OutputContainer) -> None:
        self.source = source
        self.input = open_video(source)
        self.skipped: list[str] = []
        self.copied: list[int] = []
        self.reencoded: list[tuple[int, str]] = []
        video = self.input.streams.video[0]
        # Our video starts at t = 0; keep the source's offset between audio and first frame.
        self.offset = float(video.start_time * video.time_base) if video.start_time is not None else 0.0
        self.map: dict[int, tuple[av.stream.Stream, av.stream.Stream, bool]] = {}
        supported = set(output.supported_codecs)
        if output.format.name in ("mov", "mp4", "mov,mp4,m4a,3gp,3g2,mj2"):
            supported -= _EXPERIMENTAL_IN_MP4
        for stream in self.input.streams.audio:
            name = stream.codec_context.name
            if name in supported:
                out = output.add_stream_from_template(stream)
                self.map[stream.index] = (stream, out, False)
                self.copied.append(stream.index)
                continue
            target = next((c for c in _AUDIO_REENCODE_ORDER if c in supported or _encoder_of(c) in supported), None)
            if target is None:
                self.skipped.append(f"audio stream {stream.index} ({name}): no audio codec fits {output.format.name}")
                continue
            ctx = stream.codec_context
            layout = ctx.layout.name
            if layout.endswith("channels"):  # unordered (e.g. PCM in MKV): FFmpeg's default order, same count
                layout = _DEFAULT_LAYOUTS.get(ctx.channels, layout)
            out = output.add_stream(target, rate=ctx.sample_rate, layout=layout)
            self.map[stream.index] = (stream, out, True)
            self.reencoded.append((stream.index, target))
        for stream in self.input.streams.subtitles:
            name = stream.codec_context.name if stream.codec_context else "unknown"
            if name in supported:
                self.map[stream.index] = (stream, output.add_stream_from_template(stream), False)
                self.copied.append(stream.index)
            else:
                self.skipped.append(f"subtitle stream {stream.index} ({name}) does not fit {output.format.name}")
        for stream in self.input.streams:
            language = stream.metadata.get("language")
            if stream.index in self.map and language:
                self.map[stream.index][1].metadata["language"] = language
        self.output = output
        self._packets: Iterator[av.Packet] | None = (
            self.input.demux([self.map[i][0] for i in sorted(self.map)]) if self.map else None
        )
        self._pending: av.Packet | None = None

    def _time(self, packet: av.Packet) -> float | None:
        ts = packet.pts if packet.pts is not None else packet.dts
        if ts is None or packet.time_base is None:
            return None
        return float(ts * packet.time_base) - self.offset

    def advance(self, until: float | None, stop: float | None = None) -> None:
        """Mux source packets whose time is < ``until`` (all when None); drop those at or
        after ``stop``."""
        while self._packets is not None:
            packet = self._pending if self._pending is not None else next(self._packets, None)
            self._pending = None
            if packet is None:
                self._packets = None
                break
            time = self._time(packet)
            if until is not None and time is not None and time >= until:
                self._pending = packet
                break
            if stop is not None and time is not None and time >= stop:
                continue
            self._mux(packet)

    def _mux(self, packet: av.Packet) -> None:
        if packet.size == 0:
            return  # the demuxer's end-of-stream marker; finish() flushes the decoders
        source, out, reencode = self.map[packet.stream.index]
        if reencode:
            for frame in source.decode(packet):
                frame.pts = None  # the encoder counts samples from the start
                self.output.mux(out.encode(frame))
            return
        shift = round(self.offset / packet.time_base) if self.offset else 0
        if shift:
            packet.pts = None if packet.pts is None else packet.pts - shift
            packet.dts = None if packet.dts is None else packet.dts - shift
        packet.stream = out
        self.output.mux(packet)

    def finish(self, stop: float | None) -> None:
        """Mux what is left (up to ``stop`` seconds) and flush the re-encoders."""
        self.advance(None, stop)
        for source, out, reencode in self.map.values():
            if reencode:
                for frame in source.decode(None):
                    frame.pts = None
                    self.output.mux(out.encode(frame))
                self.output.mux(out.encode(None))

    def close(self) -> None:
        self.input.close()


def _encoder_of(codec: str) -> str:
    return {"libopus": "opus"}.get(codec, codec)


def encoder_available(name: str) -> bool:
    """True when this FFmpeg build has the encoder ``name`` (``"libx265"`` ...)."""
    try:
        av.codec.Codec(name, "w")
    except (av.error.FFmpegError, ValueError):
        return False
    return True


class VideoWriter(_FrameSink):
    """Encode frames to a video file, with the audio and subtitles of a source.

    Args:
        path: output file; the container follows the suffix (.mp4, .mov, .m4v, .mkv).
        fps: exact frame rate, e.g. ``Fraction(30000, 1001)``.
        width, height: size of the frames that :meth:`write` receives, in pixels.
        codec: ``"h264"`` (libx264) or ``"hevc"`` (libx265); defaults to ``"h264"``.
        crf: constant rate factor (0 = lossless ... 51; lower is better quality);
            defaults to 18 (visually near-lossless for x264).
        preset: x264/x265 speed preset; defaults to ``"medium"``.
        audio_source: a video whose audio and subtitle streams go into the output (an
            image or image folder is accepted and carries none); defaults to None.
        frame_packing: ``"sbs"`` or ``"tb"`` to write the H.264 frame-packing SEI for
            half side-by-side / half top-bottom; defaults to None. HEVC cannot carry it
            here (a warning says so).
        metadata: container metadata (title, comment ...); defaults to none.
        spherical: Spherical Video V2 metadata (e.g. :data:`s2vg.io.mp4boxes.VR180`)
            written into the MP4/MOV video sample entry; defaults to None. Not for .mkv.

    Raises:
        OptionError: unknown codec, no encoder for it, bad crf/fps/size, unsupported suffix.
        OutputError: the output cannot be created or finished.
        InputError: ``audio_source`` is unreadable.

    Example::

        with VideoWriter("out.mp4", fps=info.fps, width=w, height=h, audio_source=src) as out:
            for chunk in chunks:
                out.write(chunk)
    """

    def __init__(
        self,
        path: str | Path,
        *,
        fps: Fraction | int | float,
        width: int,
        height: int,
        codec: Codec = OutputConfig.codec,  # type: ignore[assignment]
        crf: int = OutputConfig.crf,
        preset: str = OutputConfig.preset,
        audio_source: str | Path | None = None,
        frame_packing: FramePacking | None = None,
        metadata: dict[str, str] | None = None,
        spherical: SphericalMetadata | None = None,
    ) -> None:
        self.path = Path(path)
        if self.path.suffix.lower() not in VIDEO_SUFFIXES:
            raise OptionError(
                f"video output {str(self.path)!r} has suffix {self.path.suffix!r}; use one of {', '.join(VIDEO_SUFFIXES)}"
            )
        if codec not in VIDEO_ENCODERS:
            raise OptionError(f"codec must be one of {', '.join(VIDEO_ENCODERS)}; got {codec!r}")
        encoder = VIDEO_ENCODERS[codec]
        if not encoder_available(encoder):
            raise OptionError(
                f"this FFmpeg build has no {encoder} encoder for codec {codec!r}; use codec 'h264' "
                "or install a PyAV build with it"
            )
        if not isinstance(crf, int) or not 0 <= crf <= 51:
            raise OptionError(f"crf must be an integer in [0, 51]; got {crf!r}")
        if spherical is not None and self.path.suffix.lower() not in (".mp4", ".mov", ".m4v"):
            raise OptionError(
                f"video output {str(self.path)!r}: spherical (VR180) metadata is written for MP4/MOV; use a .mp4 or .mov name"
            )
        self.spherical = spherical
        if frame_packing is not None and frame_packing not in FRAME_PACKING_TYPES:
            raise OptionError(f"frame_packing must be one of {', '.join(FRAME_PACKING_TYPES)} or None; got {frame_packing!r}")
        fps = Fraction(fps).limit_denominator(1_000_000)
        if fps <= 0:
            raise OptionError(f"fps must be positive; got {fps}")
        if width < 1 or height < 1:
            raise OptionError(f"frame size must be positive; got {width}x{height}")
        self.fps = fps
        self.width, self.height = int(width), int(height)
        #: Size written: width and height rounded up to even numbers (yuv420p).
        self.coded_size = (self.width + self.width % 2, self.height + self.height % 2)
        self.codec = codec
        self.frames_written = 0
        self.audio_source: Path | None = None
        self._source_frames: int | None = None
        if audio_source is not None:
            source = probe(audio_source)
            if source.kind == "video":  # image inputs carry no audio: nothing to copy
                self.audio_source, self._source_frames = source.path, source.frames
        self._tmp = _temporary_name(self.path)
        self._container: av.container.OutputContainer | None = None
        self._copier: _StreamCopier | None = None
        try:
            self._open(encoder, crf, preset, frame_packing, metadata or {})
        except BaseException:
            self.abort()
            raise

    def _open(self, encoder: str, crf: int, preset: str, frame_packing: str | None, metadata: dict[str, str]) -> None:
        options: dict[str, str] = {}
        if self.path.suffix.lower() in (".mp4", ".mov", ".m4v"):
            options["movflags"] = "+faststart"  # index first: plays while downloading
        try:
            self._container = av.open(str(self._tmp), mode="w", options=options)
        except av.error.FFmpegError as exc:
            raise OutputError(f"output {str(self.path)!r} cannot be created ({exc.strerror or exc})") from None
        self._container.metadata.update(metadata)
        codec_options = {"crf": str(crf), "preset": preset}
        if encoder == "libx264" and frame_packing is not None:
            codec_options["x264-params"] = f"frame-packing={FRAME_PACKING_TYPES[frame_packing]}"
        if encoder == "libx265":
            codec_options["x265-params"] = "log-level=error"
            if frame_packing is not None:
                warnings.warn(
                    f"{self.path.name}: HEVC output carries no frame-packing SEI; use codec h264 for 3D TVs that need it",
                    stacklevel=3,
                )
        stream = self._container.add_stream(encoder, rate=self.fps, options=codec_options)
        stream.width, stream.height = self.coded_size
        stream.pix_fmt = "yuv420p"
        ctx = stream.codec_context
        ctx.time_base = 1 / self.fps
        ctx.colorspace, ctx.color_range = 1, 1  # AVCOL_SPC_BT709, AVCOL_RANGE_MPEG (limited)
        ctx.color_primaries, ctx.color_trc = 1, 1  # BT.709
        if encoder == "libx265" and self.path.suffix.lower() in (".mp4", ".mov", ".m4v"):
            ctx.codec_tag = "hvc1"  # the tag Apple players require for HEVC
        self._stream = stream
        if self.audio_source is not None:
            self._copier = _StreamCopier(self.audio_source, self._container)
            for note in self._copier.skipped:
                warnings.warn(f"{self.path.name}: {note}", stacklevel=3)

        #: Source streams copied (indices), re-encoded ((index, codec)) and skipped (reasons).
        self.audio_report: dict[str, list[Any]] = {"copied": [], "reencoded": [], "skipped": []}
        if self._copier is not None:
            self.audio_report = {
                "copied": self._copier.copied, "reencoded": self._copier.reencoded, "skipped": self._copier.skipped
            }

    def write(self, frames: Any) -> None:
        """Encode a chunk ``(t, H, W, 3)``: float32 in [0, 1] or uint8 (numpy or torch)."""
        if self._container is None:
            raise OutputError(f"video writer for {str(self.path)!r} is closed")
        frames = self._check(frames)
        pad_w, pad_h = self.coded_size[0] - self.width, self.coded_size[1] - self.height
        if pad_w or pad_h:
            frames = np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")
        try:
            for rgb in frames:
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                frame = frame.reformat(format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG)
                frame.pts = self.frames_written
                frame.time_base = self._stream.codec_context.time_base
                self._container.mux(self._stream.encode(frame))
                self.frames_written += 1
                if self._copier is not None:
                    self._copier.advance(self.frames_written / float(self.fps))
        except av.error.FFmpegError as exc:
            raise OutputError(f"writing {str(self.path)!r} failed ({exc.strerror or exc})") from None

    def close(self) -> None:
        """Flush the encoder, add the remaining audio, and move the file into place."""
        if self._container is None:
            return
        try:
            if self.frames_written == 0:
                raise OutputError(f"no frame was written to {str(self.path)!r}; the input gave no frames")
            self._container.mux(self._stream.encode(None))
            if self._copier is not None:
                shorter = self._source_frames is not None and self.frames_written < self._source_frames
                self._copier.finish(self.frames_written / float(self.fps) if shorter else None)
                self._copier.close()
                self._copier = None
            self._container.close()
            self._container = None
            if self.spherical is not None:
                add_spherical_metadata(self._tmp, self.spherical)
            os.replace(self._tmp, self.path)
        except av.error.FFmpegError as exc:
            self.abort()
            raise OutputError(f"finishing {str(self.path)!r} failed ({exc.strerror or exc})") from None
        except OSError as exc:
            self.abort()
            raise OutputError(f"output {str(self.path)!r} cannot be written ({exc.strerror or exc})") from None
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Stop writing and remove the temporary file; the target path is left untouched."""
        for closable in (self._copier, self._container):
            if closable is not None:
                try:
                    closable.close()
                except Exception:  # noqa: BLE001 - already failing; the temp file goes anyway
                    pass
        self._copier = None
        self._container = None
        _remove(self._tmp)


class ImageSequenceWriter(_FrameSink):
    """Write frames as numbered PNG files into a folder.

    Files are named ``pattern.format(index)`` (``00000.png`` ... by default). They are
    written into a hidden temporary folder beside the target and moved into it only when
    :meth:`close` succeeds.

    Args:
        folder: target folder (created if missing; existing files of the same names are
            replaced, others kept).
        width, height: frame size in pixels.
        pattern: file name pattern with one ``{}`` field; defaults to ``"{:05d}.png"``.
        compression: PNG compression level 0-9; defaults to 1 (several times faster
            than 9, files about 10-20 % larger).
    """

    def __init__(
        self, folder: str | Path, *, width: int, height: int, pattern: str = "{:05d}.png", compression: int = 1
    ) -> None:
        self.path = Path(folder)
        if self.path.exists() and not self.path.is_dir():
            raise OutputError(f"output folder {str(self.path)!r} is an existing file; give a folder path")
        if Path(pattern.format(0)).suffix.lower() not in IMAGE_SUFFIXES:
            raise OptionError(f"image pattern {pattern!r} must end with an image suffix such as .png")
        self.width, self.height = int(width), int(height)
        self.pattern = pattern
        self.compression = compression
        self.frames_written = 0
        self._tmp: Path | None = _temporary_name(self.path, directory=True)

    def write(self, frames: Any) -> None:
        """Write a chunk ``(t, H, W, 3)`` float32 in [0, 1] or uint8."""
        if self._tmp is None:
            raise OutputError(f"image writer for {str(self.path)!r} is closed")
        for rgb in self._check(frames):
            name = self._tmp / self.pattern.format(self.frames_written)
            _imwrite(name, rgb, self.compression)
            self.frames_written += 1

    def close(self) -> None:
        """Move the finished files into the target folder."""
        if self._tmp is None:
            return
        try:
            if self.frames_written == 0:
                raise OutputError(f"no frame was written to {str(self.path)!r}; the input gave no frames")
            if not self.path.exists():
                os.replace(self._tmp, self.path)
            else:
                for file in sorted(self._tmp.iterdir()):
                    os.replace(file, self.path / file.name)
                self._tmp.rmdir()
            self._tmp = None
        except OSError as exc:
            self.abort()
            raise OutputError(f"output folder {str(self.path)!r} cannot be written ({exc.strerror or exc})") from None
        except BaseException:
            self.abort()
            raise


class ImageWriter(_FrameSink):
    """Write exactly one frame as an image; PNG or JPEG (quality 95) by the suffix.

    Args:
        path: output file (.png, .jpg, .jpeg, .bmp, .tif, .tiff, .webp).
        width, height: frame size in pixels.
    """

    def __init__(self, path: str | Path, *, width: int, height: int) -> None:
        self.path = Path(path)
        if self.path.suffix.lower() not in IMAGE_SUFFIXES:
            raise OptionError(f"image output {str(self.path)!r} needs one of the suffixes {', '.join(IMAGE_SUFFIXES)}")
        self.width, self.height = int(width), int(height)
        self.frames_written = 0
        self._tmp: Path | None = _temporary_name(self.path)

    def write(self, frames: Any) -> None:
        """Write the single frame ``(1, H, W, 3)``; a second frame is an error."""
        frames = self._check(frames)
        if self._tmp is None:
            raise OutputError(f"image writer for {str(self.path)!r} is closed")
        if self.frames_written + len(frames) > 1:
            raise InputError(
                f"image output {str(self.path)!r} holds one frame but {self.frames_written + len(frames)} were given; "
                "write a video (.mp4) or a folder of PNGs instead"
            )
        for rgb in frames:
            _imwrite(self._tmp, rgb, 1)
            self.frames_written += 1

    def close(self) -> None:
        """Move the image into place."""
        if self._tmp is None:
            return
        try:
            if self.frames_written == 0:
                raise OutputError(f"no frame was written to {str(self.path)!r}")
            os.replace(self._tmp, self.path)
            self._tmp = None
        except OSError as exc:
            self.abort()
            raise OutputError(f"output {str(self.path)!r} cannot be written ({exc.strerror or exc})") from None
        except BaseException:
            self.abort()
            raise


def _imwrite(path: Path, rgb: np.ndarray, compression: int) -> None:
    """Write one uint8 RGB image; the format follows the final suffix (the temp name keeps it)."""
    suffix = path.suffix.lower()
    params: list[int] = []
    if suffix == ".png":
        params = [cv2.IMWRITE_PNG_COMPRESSION, compression]
    elif suffix in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, 95]
    ok, data = cv2.imencode(suffix, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise OutputError(f"image {str(path)!r} could not be encoded as {suffix}")
    try:
        path.write_bytes(data.tobytes())
    except OSError as exc:
        raise OutputError(f"output {str(path)!r} cannot be written ({exc.strerror or exc})") from None


def open_writer(
    path: str | Path, *, fps: Fraction | int | float, width: int, height: int, **video_options: Any
) -> VideoWriter | ImageSequenceWriter | ImageWriter:
    """The writer a path asks for: an image suffix -> :class:`ImageWriter` (one frame),
    a video suffix -> :class:`VideoWriter` (``video_options`` passed on), a folder or a
    path without suffix -> :class:`ImageSequenceWriter` (PNG files).

    Raises:
        OptionError: a suffix that is neither an image nor a video container.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return ImageWriter(path, width=width, height=height)
    if suffix in VIDEO_SUFFIXES:
        return VideoWriter(path, fps=fps, width=width, height=height, **video_options)
    if path.is_dir() or not suffix:
        return ImageSequenceWriter(path, width=width, height=height)
    raise OptionError(
        f"output {str(path)!r} has suffix {suffix!r}; use a video ({', '.join(VIDEO_SUFFIXES)}), "
        f"an image ({', '.join(IMAGE_SUFFIXES)}) or a folder for PNG frames"
    )
