"""Apple spatial video (MV-HEVC): finding a multiview HEVC encoder, or saying what is missing.

Apple's players (Vision Pro, iPhone) play stereo video as one *multiview* HEVC stream:
the left eye is the base layer, the right eye a second layer predicted from it, in a
QuickTime file whose sample entry carries the layer configuration (``lhvC``) and the
stereo description (``vexu``: eyes, baseline, hero eye; ``hfov``). FFmpeg's ``libx265``
wrapper (the one PyAV ships) encodes one layer only; multiview encoding needs the x265
command-line encoder 4.0 or newer *built with* ``-DENABLE_MULTIVIEW=ON``, which Linux
distributions do not ship (Debian 12 has x265 3.5).

:func:`find_multiview_x265` looks for such an encoder: the ``S2VG_X265`` environment
variable, else ``x265`` on ``PATH``; it is multiview-capable when ``x265 --help`` lists
``--num-views``. :func:`require_multiview_encoder` returns it, or raises a one-line
:class:`~s2vg.errors.OptionError` that names what was found and how to get the rest.

:class:`MultiviewWriter` encodes the two eyes with it (left = base layer) and writes the
QuickTime file: FFmpeg's muxer (PyAV) writes ``hvcC`` and ``lhvC``; :class:`AppleStereo`
adds ``vexu`` (both eyes present, hero eye, camera baseline, rectilinear projection) and
``hfov`` to the sample entry. Tested against x265 4.1 built from its source with
``-DENABLE_MULTIVIEW=ON``: FFmpeg decodes both layers back, each the eye that went in.
"""

from __future__ import annotations

import functools
import math
import os
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace

from s2vg.config import OutputConfig
from s2vg.errors import InputError, OptionError, OutputError
from s2vg.io.mp4boxes import add_sample_entry_boxes, box, full_box, parse_boxes, sample_entry_children

#: Environment variable that may name the x265 binary to use.
X265_ENV = "S2VG_X265"

#: Oldest x265 release with multiview (MV-HEVC) encoding.
MIN_X265_VERSION = (4, 0)

HOW_TO_GET = (
    "build x265 >= 4.0 from its source (multicoreware x265_git) with "
    "`cmake ../source -DENABLE_MULTIVIEW=ON && make` (about 30 s) and put it on PATH or in "
    f"{X265_ENV}, or choose --layout sbs or vr180"
)


@dataclass(frozen=True)
class X265Probe:
    """What was found when looking for x265.

    Attributes:
        path: the binary, or None when none was found.
        version: (major, minor) parsed from ``x265 --version``, or None.
        multiview: whether ``--help`` lists the multiview options.
    """

    path: Path | None
    version: tuple[int, int] | None
    multiview: bool

    @property
    def usable(self) -> bool:
        """True for x265 >= 4.0 built with multiview support."""
        return self.path is not None and self.multiview and (self.version or (0, 0)) >= MIN_X265_VERSION

    def describe(self) -> str:
        """Short words for what was found ("no x265 on PATH", "x265 3.5 without multiview" ...)."""
        if self.path is None:
            return f"no x265 on PATH and {X265_ENV} unset"
        version = ".".join(map(str, self.version)) if self.version else "of unknown version"
        kind = "with" if self.multiview else "without"
        return f"x265 {version} at {self.path} {kind} multiview support"


def _run(binary: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            [str(binary), *args], capture_output=True, text=True, timeout=20, check=False, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout + done.stderr


def parse_x265_version(text: str) -> tuple[int, int] | None:
    """(major, minor) from x265's banner, e.g. ``"HEVC encoder version 4.1+1-1d117be"`` -> (4, 1)."""
    match = re.search(r"version\s+(\d+)\.(\d+)", text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def find_multiview_x265(binary: str | Path | None = None) -> X265Probe:
    """Look for an x265 binary and ask it whether it encodes multiview HEVC.

    Args:
        binary: the binary to test; defaults to None: ``$S2VG_X265``, else ``x265`` on PATH.
    """
    if binary is None:
        binary = os.environ.get(X265_ENV) or shutil.which("x265")
    if binary is None or not Path(binary).is_file():
        return X265Probe(None, None, False)
    path = Path(binary).resolve()
    return _ask_x265(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _ask_x265(path: Path, mtime_ns: int) -> X265Probe:
    """Run the binary once per (path, modification time): the web page asks often."""
    version = parse_x265_version(_run(path, "--version"))
    multiview = "--num-views" in _run(path, "--fullhelp") + _run(path, "--help")
    return X265Probe(path, version, multiview)


def require_multiview_encoder() -> X265Probe:
    """The multiview x265 to encode ``mv-hevc`` with.

    Raises:
        OptionError: none is usable; one line: what was found, what is missing, how to get it.
    """
    probe = find_multiview_x265()
    if not probe.usable:
        raise OptionError(
            f"layout mv-hevc needs the x265 encoder >= 4.0 built with multiview support; found {probe.describe()}; {HOW_TO_GET}"
        )
    return probe


@dataclass(frozen=True)
class AppleStereo:
    """Apple's stereo description of a spatial video (``vexu`` and ``hfov`` boxes).

    Attributes:
        baseline_mm: distance between the two cameras in millimetres (``blin``, stored in
            micrometres); iPhone spatial video uses about 19.2, people's eyes about 64.
        hfov_deg: horizontal field of view of each eye in degrees (``hfov``, stored in
            thousandths of a degree).
        hero_eye: ``"left"``, ``"right"`` or ``"none"``: the eye shown in 2D (``hero``).
        projection: ``prji`` projection kind; ``"rect"`` (rectilinear, an ordinary camera).
    """

    baseline_mm: float
    hfov_deg: float
    hero_eye: str = "left"
    projection: str = "rect"

    def __post_init__(self) -> None:
        if not math.isfinite(self.baseline_mm) or self.baseline_mm <= 0:
            raise OptionError(f"stereo baseline must be a positive number of millimetres; got {self.baseline_mm!r}")
        if not math.isfinite(self.hfov_deg) or not 0 < self.hfov_deg < 360:
            raise OptionError(f"horizontal field of view must be in (0, 360) degrees; got {self.hfov_deg!r}")
        if self.hero_eye not in HERO_EYES:
            raise OptionError(f"hero eye must be one of {', '.join(HERO_EYES)}; got {self.hero_eye!r}")
        if len(self.projection.encode()) != 4:
            raise OptionError(f"projection kind must be a four-character code such as rect; got {self.projection!r}")

    def boxes(self) -> bytes:
        """``vexu`` (eyes{stri, hero, cams{blin}}, proj{prji}) and ``hfov``, serialised
        for the video sample entry (Apple, "QuickTime and ISO Base Media File Formats and
        Spatial and Immersive Media")."""
        stri = full_box(b"stri", struct.pack(">B", STRI_LEFT | STRI_RIGHT))
        hero = full_box(b"hero", struct.pack(">B", HERO_EYES[self.hero_eye]))
        blin = full_box(b"blin", struct.pack(">I", round(self.baseline_mm * 1000)))
        eyes = box(b"eyes", stri + hero + box(b"cams", blin))
        proj = box(b"proj", full_box(b"prji", self.projection.encode()))
        return box(b"vexu", eyes + proj) + box(b"hfov", struct.pack(">I", round(self.hfov_deg * 1000)))


#: x265's input limits (input/input.h): frames at least 64 x 64, at most 8192 wide;
#: the side-by-side input is twice an eye's width.
MIN_EYE_PX = 64
MAX_Y4M_WIDTH = 8192

#: ``stri`` flags: the stream has a left and a right eye view.
STRI_LEFT, STRI_RIGHT = 0x01, 0x02
HERO_EYES: dict[str, int] = {"none": 0, "left": 1, "right": 2}


def read_apple_stereo(path: str | Path) -> AppleStereo | None:
    """The ``vexu``/``hfov`` description of an MP4/MOV's video, or None when it has none."""
    children = {kind: payload for _, kind, payload in sample_entry_children(path)}
    if b"vexu" not in children:
        return None
    values: dict[str, object] = {}

    def walk(payload: bytes) -> None:
        for kind, body in parse_boxes(payload):
            if kind in (b"eyes", b"cams", b"proj"):
                walk(body)
            elif kind == b"hero":
                values["hero_eye"] = next(k for k, v in HERO_EYES.items() if v == body[4])
            elif kind == b"blin":
                values["baseline_mm"] = struct.unpack_from(">I", body, 4)[0] / 1000
            elif kind == b"prji":
                values["projection"] = body[4:8].decode()

    walk(children[b"vexu"])
    hfov = struct.unpack_from(">I", children[b"hfov"])[0] / 1000 if b"hfov" in children else float("nan")
    return AppleStereo(hfov_deg=hfov, **values)  # type: ignore[arg-type]


class MultiviewWriter:
    """Encode a left and a right eye as one MV-HEVC stream in a QuickTime file.

    The eyes go side by side, as Y4M (yuv420p, BT.709 limited range), into the x265
    command line encoder's stdin with ``--num-views 2 --format 1`` (the left half is the
    base layer, view 0); its raw two-layer stream is then moved into a ``.mov`` by
    FFmpeg's muxer (PyAV), which writes the base layer's ``hvcC`` and the second layer's
    ``lhvC``, with the audio of ``audio_source`` copied; finally the Apple stereo boxes
    (:class:`AppleStereo`) are added to the sample entry. B-frames are off so that decode
    order is presentation order and every frame's time is its index over ``fps``.

    Args:
        path: output ``.mov`` (or ``.mp4``).
        fps: exact frame rate.
        width, height: size of one eye in pixels (even numbers).
        stereo: the baseline and field of view to declare.
        crf, preset: x265 quality and speed; default to :class:`s2vg.config.OutputConfig`'s.
        audio_source: a video whose audio streams are copied; defaults to None.
        x265: the encoder; defaults to :func:`require_multiview_encoder`.

    Raises:
        OptionError: no multiview x265, odd sizes, bad fps.
        OutputError: encoding or muxing failed (x265's last message is quoted).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        fps: Fraction | int | float,
        width: int,
        height: int,
        stereo: AppleStereo,
        crf: int = OutputConfig.crf,
        preset: str = OutputConfig.preset,
        audio_source: str | Path | None = None,
        x265: X265Probe | None = None,
    ) -> None:
        from s2vg.io.writer import _temporary_name

        self.path = Path(path)
        if self.path.suffix.lower() not in (".mov", ".mp4"):
            raise OptionError(f"MV-HEVC output {str(self.path)!r} needs a .mov (or .mp4) name")
        if width < MIN_EYE_PX or height < MIN_EYE_PX or width % 2 or height % 2 or 2 * width > MAX_Y4M_WIDTH:
            raise OptionError(
                f"MV-HEVC eyes must have even sizes from {MIN_EYE_PX} px up, at most {MAX_Y4M_WIDTH // 2} px wide; "
                f"got {width}x{height}"
            )
        self.fps = Fraction(fps).limit_denominator(1_000_000)
        if self.fps <= 0:
            raise OptionError(f"fps must be positive; got {self.fps}")
        self.width, self.height = int(width), int(height)
        self.stereo = stereo
        self.audio_source = Path(audio_source) if audio_source is not None else None
        self.frames_written = 0
        encoder = x265 or require_multiview_encoder()
        self._tmp = _temporary_name(self.path)
        self._hevc = self._tmp.with_suffix(".hevc")
        self._log = self._tmp.with_suffix(".log")
        config = self._tmp.with_suffix(".cfg")
        config.write_text("--num-views 2\n--format 1\n--input -\n")
        self._config = config
        command = [
            str(encoder.path), "--multiview-config", str(config), "--y4m",
            "--crf", str(crf), "--preset", preset, "--bframes", "0", "--no-info",
            "--colorprim", "bt709", "--transfer", "bt709", "--colormatrix", "bt709", "--range", "limited",
            "--log-level", "error", "--output", str(self._hevc),
        ]
        self._log_file = self._log.open("wb")
        try:
            self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=self._log_file, stderr=self._log_file)
            header = f"YUV4MPEG2 W{2 * self.width} H{self.height} F{self.fps.numerator}:{self.fps.denominator} Ip A1:1 C420jpeg\n"
            self._process.stdin.write(header.encode())
        except (OSError, ValueError) as exc:
            self.abort()
            raise OutputError(f"x265 at {encoder.path} cannot be started ({exc})") from None

    def __enter__(self) -> MultiviewWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _x265_error(self) -> str:
        try:
            lines = [line for line in self._log.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            lines = []
        return lines[-1].strip() if lines else "no message"

    def write(self, left: Any, right: Any) -> None:
        """Encode a chunk of both eyes, each ``(t, H, W, 3)`` float32 in [0, 1] or uint8."""
        from s2vg.io.writer import to_uint8

        left, right = to_uint8(left), to_uint8(right)
        if left.shape != right.shape or left.shape[1:3] != (self.height, self.width):
            raise InputError(
                f"eyes of {left.shape} and {right.shape} for an MV-HEVC writer opened at {self.width}x{self.height}"
            )
        try:
            for pair in np.concatenate([left, right], axis=2):
                frame = av.VideoFrame.from_ndarray(pair, format="rgb24")
                yuv = frame.reformat(format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG)
                self._process.stdin.write(b"FRAME\n" + yuv.to_ndarray().tobytes())
                self.frames_written += 1
        except (BrokenPipeError, OSError):
            self._process.wait()
            message = self._x265_error()
            self.abort()
            raise OutputError(f"x265 stopped while encoding {self.path.name}: {message}") from None

    def close(self) -> None:
        """Finish the encoder, mux into the container, add the Apple boxes, move into place."""
        if self._process is None:
            return
        try:
            if self.frames_written == 0:
                raise OutputError(f"no frame was written to {str(self.path)!r}")
            self._process.stdin.close()
            if self._process.wait() != 0 or not self._hevc.is_file():
                raise OutputError(f"x265 failed on {self.path.name}: {self._x265_error()}")
            self._process = None
            self._mux()
            add_sample_entry_boxes(self._tmp, self.stereo.boxes(), frozenset({b"vexu", b"hfov"}))
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise
        finally:
            self._cleanup()

    def _mux(self) -> None:
        """Raw two-layer HEVC (+ copied audio) -> QuickTime, frame i at time i / fps."""
        from s2vg.io.writer import _StreamCopier

        time_base = Fraction(1, 1) / self.fps
        try:
            with av.open(str(self._hevc), format="hevc", options={"framerate": str(self.fps)}) as raw, \
                    av.open(str(self._tmp), mode="w", format="mov" if self.path.suffix.lower() == ".mov" else "mp4",
                            options={"movflags": "+faststart"}) as out:
                source = raw.streams.video[0]
                stream = out.add_stream_from_template(source)
                stream.codec_context.codec_tag = "hvc1"  # parameter sets in the sample entry, as Apple wants
                stream.time_base = time_base
                stream.disposition = av.stream.Disposition.multilayer
                copier = _StreamCopier(self.audio_source, out) if self.audio_source is not None else None
                count = 0
                for packet in raw.demux(source):
                    if packet.size == 0:
                        continue
                    packet.stream = stream
                    packet.time_base = time_base
                    packet.pts = packet.dts = count
                    packet.duration = 1
                    out.mux(packet)
                    count += 1
                    if copier is not None:
                        copier.advance(count / float(self.fps))
                if copier is not None:
                    copier.finish(count / float(self.fps))
                    copier.close()
        except av.error.FFmpegError as exc:
            raise OutputError(f"muxing {self.path.name} failed ({exc})") from None
        if count != self.frames_written:
            raise OutputError(f"{self.path.name}: x265 gave {count} access units for {self.frames_written} frames")

    def abort(self) -> None:
        """Stop the encoder and remove every temporary file."""
        process = getattr(self, "_process", None)
        if process is not None:
            try:
                process.stdin.close()
            except OSError:
                pass
            process.kill()
            process.wait()
            self._process = None
        for path in (getattr(self, "_tmp", None),):
            if path is not None:
                path.unlink(missing_ok=True)
        self._cleanup()

    def _cleanup(self) -> None:
        log = getattr(self, "_log_file", None)
        if log is not None and not log.closed:
            log.close()
        for path in (getattr(self, "_hevc", None), getattr(self, "_log", None), getattr(self, "_config", None)):
            if path is not None:
                path.unlink(missing_ok=True)
