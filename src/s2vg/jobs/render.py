"""Pass 2 of a streamed job: per chunk, depth to metres, frame matrix, fill, eyes, layout, segment.

A chunk of ``N`` frames is rendered with ``C`` context frames on each side (the fill reads
real pixels from neighbouring frames; DESIGN.md 3a), and only its own frames are kept.
Each chunk is encoded as its own segment file in the state folder, so a chunk is either
finished (its segment exists) or not started: a resumed job renders only what is missing,
and chunks can run in any order, in any process (:mod:`s2vg.executors`).

Everything a chunk reads is on disk in the state folder (finished depth, the range of the
whole video) or decoded again from the input (seeking to the chunk), so its output does not
depend on what ran before it in the same process. Consecutive chunks share their frame
matrix through a sliding window (:mod:`s2vg.jobs.window`), which holds exactly what a
fresh build would.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from s2vg.errors import InputError
from s2vg.jobs.depth_pass import DepthPassResult, load_result
from s2vg.jobs.frames import iter_indexed_frames
from s2vg.jobs.job import JobSpec, build_inpainter
from s2vg.jobs.window import MatrixWindow
from s2vg.progress import SILENT, Progress


def camera_rig(spec: JobSpec, result: DepthPassResult):
    """The rig of the job (:func:`s2vg.convert.plan_rig` with the pass-1 range for literal depth)."""
    from s2vg.convert import plan_rig

    kind = spec.depth.kind
    return plan_rig(
        spec.rig, kind=kind, stereo=spec.stereo, depth=spec.depth, height=spec.info.height, width=spec.info.width,
        views=spec.views, inv_depth_range=result.inv_depth_range,
    )


def _load_member(path: Path, key: str) -> np.ndarray:
    with np.load(path, allow_pickle=False) as data:
        return data[key]


def frame_pts(spec: JobSpec, frame: int) -> int | None:
    """The timestamp a sequential read gave ``frame`` (recorded by pass 1), for seeking."""
    chunk = frame // spec.chunk_frames
    stamps = _load_member(spec.state.depth_path(chunk), "pts")
    value = int(stamps[frame - chunk * spec.chunk_frames])
    return value if value >= 0 else None


def depth_in_metres(spec: JobSpec, result: DepthPassResult, start: int, stop: int):
    """``(stop - start, H, W)`` float32 torch depth in metres for frames ``[start, stop)``."""
    import torch

    from s2vg.geometry.depth import inv_depth_to_depth, normalise_inv_depth_range

    if stop <= start:
        return torch.zeros((0, spec.info.height, spec.info.width), dtype=torch.float32)
    n = spec.chunk_frames
    key = "depth_m" if result.inv_depth_range is not None else "inv_depth"
    parts = []
    for chunk in range(start // n, (stop - 1) // n + 1):
        values = _load_member(spec.state.depth_path(chunk), key)
        first = chunk * n
        parts.append(values[max(start, first) - first : min(stop, first + len(values)) - first].astype(np.float32))
    values = torch.from_numpy(np.concatenate(parts))
    if result.inv_depth_range is not None:
        return values
    norm = normalise_inv_depth_range(values, torch.from_numpy(result.lo[start:stop]), torch.from_numpy(result.hi[start:stop]))
    return inv_depth_to_depth(norm, far=spec.depth.far, near=spec.depth.near)


def segment_complete(spec: JobSpec, chunk: int, frames: int) -> bool:
    """Whether every output stream's segment of ``chunk`` is on disk and whole."""
    from s2vg.io import probe

    start, stop = spec.chunk_span(chunk, frames)
    for stream in range(len(spec.outputs)):
        path = spec.state.segment_path(stream, chunk, spec.segment_suffix)
        if not path.exists():
            return False
        try:
            count = probe(path).frames
        except InputError:
            count = -1
        if count != stop - start:
            return False
    return True


def pending_chunks(spec: JobSpec, result: DepthPassResult) -> list[int]:
    """Chunks whose segments are missing (or damaged, e.g. by a power loss)."""
    return [k for k in range(spec.chunks(result.frames)) if not segment_complete(spec, k, result.frames)]


def _windows(spec: JobSpec, result: DepthPassResult, chunks: list[int], window: MatrixWindow
             ) -> Iterator[tuple[int, int, int, np.ndarray]]:
    """``(chunk, lo, hi, frames)`` for each chunk (ascending): its window ``[lo, hi)`` and the
    decoded frames of it that ``window`` does not hold yet (see :meth:`MatrixWindow.shared`).

    Consecutive chunks share one decoder; a gap (chunks already done) seeks ahead. The
    caller advances ``window`` before asking for the next chunk.
    """
    total, context = result.frames, spec.config.context_frames
    frames_iter: Iterator | None = None
    position = 0  # index of the next frame the open decoder yields
    for chunk in chunks:
        start, stop = spec.chunk_span(chunk, total)
        lo, hi = max(0, start - context), min(total, stop + context)
        first = lo + window.shared(lo)
        if frames_iter is None or position != first:
            if frames_iter is not None:
                frames_iter.close()
            frames_iter = iter_indexed_frames(spec.info, first, total, frame_pts(spec, first) if first else None)
            position = first
        new = []
        while position < hi:
            item = next(frames_iter, None)
            if item is None:
                raise InputError(f"input {str(spec.info.path)!r} ended at frame {position} but had {total} frames before; "
                                 "the file changed during the job, convert it again without --resume")
            index, _, frame = item
            new.append(frame)
            position = index + 1
        yield chunk, lo, hi, np.stack(new) if new else np.zeros((0, spec.info.height, spec.info.width, 3), np.float32)
    if frames_iter is not None:
        frames_iter.close()


#: x264 option that makes its output a function of its input and settings alone. Without it
#: this build of x264 (PyAV's) now and then encodes the same frames differently, in the
#: same process and on one thread (measured: 3 variants in 20 encodes of a real clip; some
#: assembly routine depends on more than its input); it also makes the output independent
#: of the CPU's instruction set, so chunks encoded on different machines of a cluster match.
X264_REPRODUCIBLE = "cpu-independent=1"


def segment_writer(path: Path, fps, width: int, height: int, options: dict):
    """A :class:`s2vg.io.VideoWriter` for one segment whose bytes are reproducible.

    The x264 option is added to the writer's stream before its codec opens (on the first
    frame); :class:`~s2vg.io.VideoWriter` has no argument for encoder parameters yet.
    """
    from s2vg.io.writer import VideoWriter

    writer = VideoWriter(path, fps=fps, width=width, height=height, **options)
    context = writer._stream.codec_context
    if context.name == "libx264":
        codec_options = dict(context.options)
        params = codec_options.get("x264-params")
        codec_options["x264-params"] = f"{params}:{X264_REPRODUCIBLE}" if params else X264_REPRODUCIBLE
        context.options = codec_options
    return writer


def record_segment(spec: JobSpec, chunk: int) -> None:
    """Add a finished chunk to the manifest's list of segments."""
    from s2vg.jobs.job import update_progress

    done = set(spec.state.load_manifest()["progress"].get("segments", []))
    update_progress(spec, segments=sorted(done | {chunk}))


def outpaint_enabled(spec: JobSpec) -> bool:
    """Outpaint-then-inpaint: as asked, else on for the diffusion inpainter only."""
    return spec.config.outpaint if spec.config.outpaint is not None else spec.inpainter == "svg"


def render_chunk(spec: JobSpec, result: DepthPassResult, chunk: int, window: MatrixWindow,
                 progress: Progress = SILENT, writer=None) -> None:
    """Render one chunk from its window (its frames with context), and write its segment(s).

    Args:
        spec: the job.
        result: the finished depth pass.
        chunk: the chunk index.
        window: the chunk's frames with context (:class:`MatrixWindow`, advanced to them).
        progress: receives the stage timers ``inpaint``, ``encode``.
        writer: a writer taking ``write(left, right)`` for the whole video instead of
            segment files (MV-HEVC); defaults to None.
    """
    from s2vg.convert import eye_views
    from s2vg.inpaint.outpaint import build_frame_matrix_outpainted, inpaint_outpainted
    from s2vg.io.layouts import compose_streams, output_size
    from s2vg.io.writer import ImageSequenceWriter

    rig = window.rig
    start, stop = spec.chunk_span(chunk, result.frames)
    inpainter = build_inpainter(spec)
    core = slice(start - window.start, stop - window.start)
    if window.warp:
        matrix = window.matrix()
    else:
        with progress.timer("frame matrix"):
            svg = getattr(inpainter, "name", "") == "svg"
            matrix = build_frame_matrix_outpainted(
                window.frames(), window.source_depth(), rig, method=spec.config.outpaint_method,
                denoiser=inpainter.denoiser if svg else None, prompt=inpainter.prompt if svg else "",
                config=inpainter.config if svg else None,
            )
    with progress.timer("inpaint"):
        # Only the chunk's frames are kept: the fill invents pixels there (and in the few
        # frames before them its stable step starts from) and reads the other context frames.
        filled = inpaint_outpainted(inpainter, matrix, in_place=True, frames=core)
    del matrix
    left_view, right_view = eye_views(rig)
    # The eyes' own frames, as views: encoded before the window advances.
    left, right = filled.colors[left_view, core], filled.colors[right_view, core]
    del filled
    if writer is not None:  # one writer for the whole video (MV-HEVC)
        with progress.timer("encode"):
            writer.write(left, right)
        return
    layout = spec.output_config.layout
    out_w, out_h = output_size(spec.info.width, spec.info.height, layout, focal=spec.focal)
    with progress.timer("encode"), contextlib.ExitStack() as stack:
        writers = []
        for stream in range(len(spec.outputs)):
            path = spec.state.segment_path(stream, chunk, spec.segment_suffix)
            path.parent.mkdir(parents=True, exist_ok=True)
            if spec.video_output:
                writers.append(stack.enter_context(segment_writer(path, spec.info.fps, out_w, out_h, spec.segment_options)))
            else:
                writers.append(stack.enter_context(ImageSequenceWriter(path, width=out_w, height=out_h)))
        # One frame at a time: the packed output of a whole chunk (float32, twice the
        # input's pixels for SBS) would be the largest buffer of a 4K job.
        for i in range(len(left)):
            for stream_writer, pictures in zip(writers, compose_streams(left[i : i + 1], right[i : i + 1], layout, focal=spec.focal)):
                stream_writer.write(pictures)


def render_chunks(spec: JobSpec, chunks: Iterable[int], progress: Progress = SILENT, bar=None, record: bool = False,
                  writer=None) -> dict:
    """Render the given chunks in ascending order from one sequential decode (see :func:`_windows`).

    ``record`` lists each finished chunk in the manifest (one writer at a time: the local
    executor records here, the Ray driver records as tasks finish). ``writer`` sends the
    eyes to one writer instead of segment files (see :func:`render_direct`).

    Returns:
        ``{"frames": frames rendered, "seconds": {stage: seconds}}``.
    """
    result = load_result(spec)
    rig = camera_rig(spec, result)
    chunks = sorted(chunks)
    local = Progress(enabled=False)
    rendered = 0
    begin = time.perf_counter()
    # No window is longer than the video (a photo, a clip shorter than one chunk).
    capacity = min(spec.chunk_frames + 2 * spec.config.context_frames, result.frames)
    window = MatrixWindow(rig, capacity, warp=not outpaint_enabled(spec))
    windows = _windows(spec, result, chunks, window)
    while True:
        with local.timer("decode"):
            item = next(windows, None)
        if item is None:
            break
        chunk, lo, hi, frames = item
        with local.timer("frame matrix"):
            window.advance(lo, hi, frames, depth_in_metres(spec, result, hi - len(frames), hi))
        del frames
        render_chunk(spec, result, chunk, window, local, writer)
        start, stop = spec.chunk_span(chunk, result.frames)
        rendered += stop - start
        if record:
            record_segment(spec, chunk)
        if bar is not None:
            bar.update(stop - start)
    for name, value in local.seconds.items():
        progress.seconds[name] = progress.seconds.get(name, 0.0) + value
    seconds = dict(local.seconds)
    seconds["render"] = time.perf_counter() - begin
    return {"frames": rendered, "seconds": seconds}


def render_direct(spec: JobSpec, progress: Progress = SILENT, bar=None) -> dict:
    """Render every chunk into one MV-HEVC writer at the output (no segments, no join).

    Pass 2 of such a job is not resumable chunk by chunk (x265 takes the video as one
    stream); its depth pass still is.
    """
    import math

    from s2vg.convert import eye_views
    from s2vg.io.mvhevc import AppleStereo, MultiviewWriter

    result = load_result(spec)
    rig = camera_rig(spec, result)
    left, right = eye_views(rig)
    stereo = AppleStereo(
        baseline_mm=1000.0 * float(abs(rig.positions[right, 0] - rig.positions[left, 0])),
        hfov_deg=math.degrees(2.0 * math.atan(spec.info.width / (2.0 * spec.focal))),
    )
    with MultiviewWriter(
        spec.outputs[0], fps=spec.info.fps, width=spec.info.width, height=spec.info.height, stereo=stereo,
        crf=spec.output_config.crf, preset=spec.output_config.preset, audio_source=spec.audio_source,
    ) as writer:
        return render_chunks(spec, range(spec.chunks(result.frames)), progress, bar, writer=writer)
