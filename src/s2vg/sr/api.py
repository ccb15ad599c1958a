"""``s2vg upscale``: a stereo video in any of the layouts, upscaled by 2 or 4.

The input is read in chunks, split into eyes (:mod:`s2vg.sr.layouts`), upscaled frame by
frame by :class:`~s2vg.sr.stereo.StereoUpscaler` (which keeps the previous frames across
chunks) and packed back; audio is copied. The output goes under a temporary name and is
renamed when whole (the writers of :mod:`s2vg.io.writer`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from s2vg.config import OutputConfig, SuperResolutionConfig
from s2vg.errors import OptionError, OutputError
from s2vg.progress import Progress
from s2vg.io.layouts import check_layout
from s2vg.sr.layouts import check_readable, detect_layout, join_eyes, right_eye_file, split_eyes

#: Frames read and upscaled at a time (bounds memory; no effect on the result).
CHUNK_FRAMES = 16
#: Frames looked at to recognise a layout from the pictures.
DETECT_FRAMES = 4


def _strip_tag(stem: str) -> str:
    from s2vg.io.layouts import PLAYER_SUFFIXES

    for tags in PLAYER_SUFFIXES.values():
        for tag in tags:
            if stem.lower().endswith(tag.lower()):
                return stem[: -len(tag)]
    return stem


def upscaled_paths(input_path: Path, output: str | Path | None, layout: str, scale: int, png: bool) -> list[Path]:
    """Output files: ``output`` as a file name (``lr``: ``name_L``/``name_R``), or inside a
    folder (default: the input's) as ``<input stem>_x<scale><player tag><ext>``."""
    from s2vg.io.layouts import PLAYER_SUFFIXES, output_paths

    if output is not None and Path(output).suffix and not Path(output).is_dir():
        return output_paths(input_path, output, layout)
    folder = Path(output) if output is not None else input_path.parent
    suffix = "" if png else (".mov" if layout == "mv-hevc" else ".mp4")
    stem = _strip_tag(input_path.stem)
    if layout == "lr" and stem.endswith("_L"):
        stem = stem[:-2]
    return [folder / f"{stem}_x{scale}{tag}{suffix}" for tag in PLAYER_SUFFIXES[layout]]


def upscale(
    input_path: str | Path,
    output: str | Path | None,
    *,
    config: SuperResolutionConfig = SuperResolutionConfig(),
    layout: str | None = None,
    output_layout: str | None = None,
    output_config: OutputConfig = OutputConfig(),
    disparity: Any = None,
    metadata: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Upscale a stereo video (or image) by ``config.scale``.

    Args:
        input_path: a stereo video, image folder or image; for the ``lr`` layout the
            ``NAME_L`` file (``NAME_R`` beside it).
        output: a file, a folder, or None (beside the input), see :func:`upscaled_paths`.
        config: super-resolution options (scale 2 or 4, method, conditions).
        layout: the input's layout; defaults to None (detected, see
            :func:`s2vg.sr.layouts.detect_layout`).
        output_layout: layout of the output; defaults to None (the input's).
        output_config: codec, quality and PNG-sequence choice of the output (its
            ``layout`` field is not used: see ``output_layout``); defaults to ``OutputConfig()``.
        disparity: ``(T, H, W)`` left-view disparity of the input's eyes in pixels, used
            instead of estimating it; defaults to None.
        metadata: container tags of the output (video files); defaults to none.

    Returns:
        a summary ``dict`` (what ``--json`` prints).

    Raises:
        OptionError: scale not 2 or 4, a mono video, a layout that cannot be split.
        InputError: an unreadable input.
        OutputError: the output folder does not exist.
    """
    import numpy as np

    from s2vg.io import iter_chunks, probe, read_frames
    from s2vg.io.layouts import frame_packing_for, spherical_metadata_for
    from s2vg.io.writer import open_writer
    from s2vg.sr.stereo import StereoUpscaler

    progress = progress or Progress(enabled=False)
    start = time.perf_counter()
    input_path = Path(input_path)
    info = probe(input_path)
    if layout is None:
        sample, _ = read_frames(input_path, max_frames=DETECT_FRAMES)
        layout = detect_layout(input_path, sample)
    check_readable(layout)
    right_path = right_eye_file(input_path) if layout == "lr" else None
    if layout == "lr" and right_path is None:
        raise OptionError(f"layout lr needs the right eye beside {input_path.name} as "
                          f"{input_path.stem.removesuffix('_L')}_R{input_path.suffix}; give the _L file")
    out_config = output_config
    out_layout = output_layout or layout
    check_layout(out_layout)
    runner = StereoUpscaler(config)
    s = config.scale
    if layout == "lr":
        eye_w, eye_h = info.width, info.height
    elif layout in ("sbs", "half-sbs", "vr180", "cross"):
        eye_w, eye_h = info.width // 2, info.height
    else:
        eye_w, eye_h = info.width, info.height // 2
    paths = upscaled_paths(input_path, output, out_layout, s, out_config.png_sequence)
    if output is not None and not Path(output).suffix and Path(output).parent.is_dir():
        Path(output).mkdir(exist_ok=True)  # a folder for player-named outputs, as convert does
    for path in paths:
        if not (path.parent if str(path.parent) else Path(".")).is_dir():
            raise OutputError(f"output folder {str(path.parent)!r} does not exist; create it or choose another output")
    from s2vg.io.layouts import output_size

    if out_layout == layout and layout in ("half-sbs", "half-tb", "sbs", "tb", "cross", "vr180"):
        wide = layout in ("half-sbs", "sbs", "cross", "vr180")
        out_w, out_h = (2 * eye_w * s, eye_h * s) if wide else (eye_w * s, 2 * eye_h * s)
    else:
        out_w, out_h = output_size(eye_w * s, eye_h * s, out_layout)
    video_options: dict[str, Any] = dict(codec=out_config.codec, crf=out_config.crf, preset=out_config.preset,
                                         audio_source=input_path, frame_packing=frame_packing_for(out_layout),
                                         metadata=metadata or {})
    spherical = spherical_metadata_for(out_layout)
    if spherical is not None:
        video_options["spherical"] = spherical
    written = 0
    with contextlib.ExitStack() as stack, progress.stage("upscale", total=info.frames, unit="frame") as bar:
        writers = []
        for path in paths:
            options = video_options if path.suffix.lower() in (".mp4", ".mov", ".m4v", ".mkv") else {}
            writers.append(stack.enter_context(open_writer(path, fps=info.fps, width=out_w, height=out_h, **options)))
        chunks = iter_chunks(input_path, CHUNK_FRAMES)
        right_chunks = iter_chunks(right_path, CHUNK_FRAMES) if right_path is not None else None
        for chunk in chunks:
            if right_chunks is not None:
                left, right = chunk.frames, next(right_chunks).frames
            else:
                left, right = split_eyes(chunk.frames, layout)
            t = min(len(left), len(right))
            up_left = np.empty((t, eye_h * s, eye_w * s, 3), np.float32)
            up_right = np.empty_like(up_left)
            for i in range(t):
                d = None if disparity is None else disparity[chunk.start + i]
                up_left[i], up_right[i] = runner.step(left[i], right[i], d)
                bar.update(1)
            for writer, stream in zip(writers, join_eyes(up_left, up_right, out_layout, layout)):
                writer.write(stream)
            written += t
    seconds = round(time.perf_counter() - start, 3)
    return {
        "command": "upscale",
        "input": str(input_path),
        "outputs": [str(p) for p in paths],
        "layout": layout,
        "output_layout": out_layout,
        "scale": s,
        "method": config.method,
        "input_frames": int(info.frames),
        "output_frames": written,
        "fps": str(Fraction(info.fps)),
        "eye_size": [eye_w, eye_h],
        "output_size": [out_w, out_h],
        "conditions": runner.stats,
        "config": dataclasses.asdict(config),
        "seconds": {"total": seconds},
        "frames_per_second": round(written / max(seconds, 1e-9), 3),
    }


def convert_upscaled(input_path: str | Path, output: str | Path | None, *, sr_config: SuperResolutionConfig,
                     metadata: dict[str, str] | None = None, **convert_options: Any) -> dict[str, Any]:
    """``s2vg convert --upscale``: convert to a lossless side-by-side file in a temporary
    folder, then upscale it into ``output`` in the requested layout.

    Args:
        input_path, output: as :func:`s2vg.convert.convert` (output names follow the input).
        sr_config: the super-resolution options.
        metadata: container tags of the output.
        convert_options: keyword arguments of :func:`s2vg.convert.convert`; its
            ``output_config`` describes the final output (layout, codec, quality).

    Returns:
        the convert summary with ``outputs``, ``output_size`` and ``upscale`` of the upscaled result.
    """
    import shutil
    import tempfile

    from s2vg.convert import convert
    from s2vg.io.layouts import output_paths

    input_path = Path(input_path)
    final_config: OutputConfig = convert_options.pop("output_config", OutputConfig())
    targets = output_paths(input_path, output, final_config.layout, suffix="" if final_config.png_sequence else None)
    if output is not None and not Path(output).suffix and Path(output).parent.is_dir():
        Path(output).mkdir(exist_ok=True)
    parent = targets[0].parent if str(targets[0].parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"output folder {str(parent)!r} does not exist; create it or choose another output")
    work = Path(tempfile.mkdtemp(prefix=".s2vg-upscale-", dir=parent))
    try:
        stem = input_path.stem if input_path.suffix else input_path.name
        stereo = work / f"{stem}_LRF_Full_SBS.mp4"
        summary = convert(input_path, stereo, output_config=OutputConfig(layout="sbs", crf=0, preset="ultrafast"),
                          **convert_options)
        named = output is not None and Path(output).suffix and not Path(output).is_dir()
        upscaled = upscale(stereo, output if named else parent, config=sr_config,
                           layout="sbs", output_layout=final_config.layout, output_config=final_config, metadata=metadata,
                           progress=convert_options.get("progress"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    upscaled.pop("command", None)
    summary.update(outputs=upscaled["outputs"], output_size=upscaled["output_size"], layout=final_config.layout,
                   upscale=upscaled)
    return summary
