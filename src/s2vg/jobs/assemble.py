"""The last step of a job: join the chunks' segments into the outputs, atomically.

Video: every segment is an H.264/HEVC stream that starts with a keyframe, encoded with the
same settings at the same size, so all segments carry the same parameter sets (SPS/PPS,
checked here) and their packets can be copied one after another into one stream, with
timestamps moved by each segment's first frame. No frame is decoded or re-encoded, so the
output's frames are exactly the segments' frames. The input's audio and subtitles are
copied in as :class:`s2vg.io.VideoWriter` does (same code), interleaved with the video.
The file is written under a temporary name and renamed when whole.

Images: PNG segments are renamed to their frame numbers in a temporary folder that then
becomes (or is merged into) the output folder; a single image is moved (PNG) or re-encoded
from the lossless PNG (JPEG and other formats).
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av

from s2vg.errors import OutputError
from s2vg.io.info import IMAGE_SUFFIXES
from s2vg.jobs.depth_pass import DepthPassResult
from s2vg.jobs.job import JobSpec


def concat_video_segments(
    segments: list[Path],
    starts: list[int],
    output: Path,
    *,
    fps: Fraction,
    audio_source: Path | None = None,
    source_frames: int | None = None,
    spherical: object = None,
) -> int:
    """Join video segments into ``output`` by packet copy, with the audio of ``audio_source``.

    Args:
        segments: segment files in order, each starting with a keyframe.
        starts: index of each segment's first frame in the output.
        output: the output file (written under a temporary name, then renamed).
        fps: the exact frame rate.
        audio_source: a video whose audio and subtitle streams are copied in.
        source_frames: frames of the source; audio past the video's end is dropped when
            fewer frames were converted.
        spherical: Spherical Video V2 metadata to add (VR180), or None.

    Returns:
        the number of video packets (frames) written.

    Raises:
        OutputError: segments with different parameter sets, or the output cannot be written.
    """
    from s2vg.io.writer import _remove, _StreamCopier, _temporary_name

    tmp = _temporary_name(output)
    options = {"movflags": "+faststart"} if output.suffix.lower() in (".mp4", ".mov", ".m4v") else {}
    container = copier = None
    written = 0
    last_dts: Fraction | None = None  # seconds
    try:
        container = av.open(str(tmp), mode="w", options=options)
        with av.open(str(segments[0])) as first:
            template = first.streams.video[0]
            extradata = template.codec_context.extradata
            video = container.add_stream_from_template(template)
        if audio_source is not None:
            copier = _StreamCopier(audio_source, container)
        for segment, start in zip(segments, starts):
            with av.open(str(segment)) as source:
                stream = source.streams.video[0]
                if stream.codec_context.extradata != extradata:
                    raise OutputError(
                        f"segment {segment.name} of {output.name} was encoded with other parameter sets than the first; "
                        "convert again without --resume (were the encoder or its options changed?)"
                    )
                offset = round(Fraction(start) / Fraction(fps) / stream.time_base)
                packets = [p for p in source.demux(stream) if p.size]  # one chunk: a bounded list
                for packet, dts in zip(packets, _decoding_times(packets)):
                    packet.pts = None if packet.pts is None else packet.pts + offset
                    packet.dts = dts + offset
                    if last_dts is not None and packet.dts * stream.time_base <= last_dts:
                        packet.dts = int(last_dts / stream.time_base) + 1  # strictly increasing across segments
                    last_dts = packet.dts * stream.time_base
                    packet.stream = video
                    container.mux(packet)
                    written += 1
                    if copier is not None:
                        copier.advance(float(last_dts))
        if copier is not None:
            shorter = source_frames is not None and written < source_frames
            copier.finish(written / float(fps) if shorter else None)
            copier.close()
            copier = None
        container.close()
        container = None
        if spherical is not None:
            from s2vg.io.mp4boxes import add_spherical_metadata

            add_spherical_metadata(tmp, spherical)
        os.replace(tmp, output)
    except av.error.FFmpegError as exc:
        raise OutputError(f"joining the segments into {str(output)!r} failed ({exc.strerror or exc})") from None
    except OSError as exc:
        if isinstance(exc, OutputError):
            raise
        raise OutputError(f"output {str(output)!r} cannot be written ({exc.strerror or exc})") from None
    finally:
        for closable in (copier, container):
            if closable is not None:
                try:
                    closable.close()
                except Exception:  # noqa: BLE001 - already failing; the temporary file goes anyway
                    pass
        if tmp.exists():
            _remove(tmp)
    return written


def _decoding_times(packets: list[av.Packet]) -> list[int]:
    """Decoding timestamps of one segment's packets (in decoding order).

    MP4 stores them; Matroska stores none for reordered frames. Missing ones are rebuilt
    as the sorted presentation times moved back by the largest reordering, which keeps them
    increasing and never after their presentation time.
    """
    if all(p.dts is not None for p in packets):
        return [int(p.dts) for p in packets]
    pts = [int(p.pts) for p in packets]
    ordered = sorted(pts)
    delay = max(0, *(o - t for o, t in zip(ordered, pts)))
    return [o - delay for o in ordered]


def _join_images(folders: list[Path], starts: list[int], output: Path) -> None:
    """Move PNG segments into ``output`` (a folder, or one image file)."""
    from s2vg.io.writer import ImageWriter, _remove, _temporary_name

    if output.suffix.lower() in IMAGE_SUFFIXES:  # one image
        source = folders[0] / "00000.png"
        try:
            if output.suffix.lower() == ".png":
                os.replace(source, output)
                return
        except OSError as exc:
            raise OutputError(f"output {str(output)!r} cannot be written ({exc.strerror or exc})") from None
        import cv2

        rgb = cv2.cvtColor(cv2.imread(str(source), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        with ImageWriter(output, width=rgb.shape[1], height=rgb.shape[0]) as writer:
            writer.write(rgb[None])
        return
    if output.exists() and not output.is_dir():
        raise OutputError(f"output folder {str(output)!r} is an existing file; give a folder path")
    tmp = _temporary_name(output, directory=True)
    try:
        for folder, start in zip(folders, starts):
            for file in sorted(folder.iterdir()):
                os.replace(file, tmp / f"{start + int(file.stem):05d}{file.suffix}")
        if not output.exists():
            os.replace(tmp, output)
        else:
            for file in sorted(tmp.iterdir()):
                os.replace(file, output / file.name)
            tmp.rmdir()
    except OSError as exc:
        raise OutputError(f"output folder {str(output)!r} cannot be written ({exc.strerror or exc})") from None
    finally:
        if tmp.exists():
            _remove(tmp)


def assemble(spec: JobSpec, result: DepthPassResult) -> int:
    """Join every output stream's segments into its output; returns the frames per output."""
    chunks = spec.chunks(result.frames)
    starts = [spec.chunk_span(k, result.frames)[0] for k in range(chunks)]
    for stream, output in enumerate(spec.outputs):
        segments = [spec.state.segment_path(stream, k, spec.segment_suffix) for k in range(chunks)]
        if spec.video_output:
            written = concat_video_segments(
                segments, starts, output, fps=spec.info.fps, audio_source=spec.audio_source,
                source_frames=spec.info.frames, spherical=spec.video_options.get("spherical"),
            )
            if written != result.frames:
                raise OutputError(f"{output.name} received {written} of {result.frames} frames from its segments; "
                                  "convert again without --resume")
        else:
            _join_images(segments, starts, output)
    return result.frames

