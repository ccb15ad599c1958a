"""Render a fitted scene along a camera path into video files, through the same layouts
and writers as ``s2vg convert``.

A stereo render (the ``stereo`` path, or any path with ``stereo=True``) packs the two
eyes with :func:`s2vg.io.layouts.compose_streams` into the chosen layout (side-by-side,
top-bottom, anaglyph, VR180 ...; not ``mv-hevc``). A mono render writes one video (or
PNG folder) of the path's single camera.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import numpy as np

from s2vg.config import CameraPathConfig, OutputConfig
from s2vg.errors import OptionError, OutputError
from s2vg.progress import SILENT, Progress
from s2vg.spatial.paths import CameraPath, build_path, stereo_eyes
from s2vg.spatial.scene import SpatialScene

#: Frames rendered before they are handed to the writers (bounds memory).
_CHUNK = 8


def render_frames(scene: SpatialScene, path: CameraPath, start: int, stop: int, *, tile_size: int = 4, backend: str = "auto") -> np.ndarray:
    """``(stop - start, H, W, 3)`` float32 frames in [0, 1] of ``path`` frames ``[start, stop)``."""
    viewmats = path.viewmats().float()
    Ks = path.Ks.float()
    frames = []
    for i in range(start, stop):
        out = scene.render(viewmats[i : i + 1], Ks[i : i + 1], float(path.times[i]), tile_size=tile_size, backend=backend)
        frames.append(out.image[0].clamp(0, 1).cpu().numpy())
    return np.stack(frames)


def _mono_output(output: str | Path | None, name_source: Path, png_sequence: bool) -> Path:
    """The single file (or PNG folder) of a mono render: ``<input>_spatial.mp4`` (``.png``
    for an image input, no suffix for a PNG sequence) unless ``output`` names a file."""
    from s2vg.io.info import IMAGE_SUFFIXES

    if output is not None and Path(output).suffix and not Path(output).is_dir():
        return Path(output)
    folder = Path(output) if output is not None else name_source.parent
    stem = name_source.stem if name_source.suffix else name_source.name
    suffix = "" if png_sequence else (".png" if name_source.suffix.lower() in IMAGE_SUFFIXES else ".mp4")
    return folder / f"{stem}_spatial{suffix}"


def render_path(
    scene: SpatialScene,
    output: str | Path | None,
    *,
    name_source: str | Path,
    path: CameraPathConfig = CameraPathConfig(),
    output_config: OutputConfig = OutputConfig(),
    audio_source: str | Path | None = None,
    tile_size: int = 4,
    backend: str = "auto",
    progress: Progress = SILENT,
) -> dict:
    """Render ``scene`` along ``path`` and write the video(s).

    Args:
        scene: a fitted scene.
        output: a file, a folder (names are made from ``name_source``), or None (next to
            ``name_source``).
        name_source: the input whose name the outputs take (the video, or the scene folder).
        path: which cameras (see :class:`~s2vg.config.CameraPathConfig`).
        output_config: layout (stereo renders), codec, quality, PNG sequence.
        audio_source: a video whose audio is copied (only when the path has one frame per
            clip frame, so that the audio stays in sync).

    Returns:
        ``{"outputs", "frames", "stereo", "baseline_m", "render_seconds", "render_fps"}``.
    """
    from s2vg.io.layouts import compose_streams, frame_packing_for, output_paths, output_size, spherical_metadata_for
    from s2vg.io.writer import open_writer

    rig = scene.rig
    look_at = path.look_at_depth if path.look_at_depth is not None else scene.median_depth
    cameras = build_path(path.path, rig, scene.frames, look_at_depth=look_at)
    stereo = path.path == "stereo" or path.stereo
    name_source = Path(name_source)
    suffix = "" if output_config.png_sequence else None
    if stereo:
        layout = output_config.layout
        if layout == "mv-hevc":
            raise OptionError("layout mv-hevc is not available for spatial renders; choose sbs, half-sbs, tb, half-tb, anaglyph, cross, lr or vr180")
        left, right, baseline = stereo_eyes(
            cameras, rig, baseline=path.baseline, divergence=path.divergence,
            depth_range=scene.depth_range, convergence=path.convergence,
        )
        targets = output_paths(name_source, output, layout, suffix=suffix)
        width, height = output_size(rig.width, rig.height, layout, focal=rig.focal)
        options = {"frame_packing": frame_packing_for(layout)}
        spherical = spherical_metadata_for(layout)
        if spherical is not None:
            options["spherical"] = spherical
    else:
        left, right, baseline = cameras, None, None
        targets = [_mono_output(output, name_source, output_config.png_sequence)]
        width, height, options = rig.width, rig.height, {}
    if output is not None and not Path(output).suffix:
        Path(output).mkdir(parents=True, exist_ok=True)
    for target in targets:
        parent = target.parent if str(target.parent) else Path(".")
        if not parent.is_dir():
            raise OutputError(f"output folder {str(parent)!r} does not exist; create it or choose another output")
    video = dict(codec=output_config.codec, crf=output_config.crf, preset=output_config.preset, **options)
    if audio_source is not None and len(cameras) == scene.frames:
        video["audio_source"] = audio_source
    count = len(cameras)
    start_time = time.perf_counter()
    with contextlib.ExitStack() as stack, progress.stage("render", total=count, unit="frame") as bar:
        writers = []
        for target in targets:
            is_video = bool(target.suffix) and target.suffix.lower() not in (".png", ".jpg", ".jpeg")
            writers.append(stack.enter_context(open_writer(target, fps=scene.fps, width=width, height=height, **(video if is_video else {}))))
        for start in range(0, count, _CHUNK):
            stop = min(count, start + _CHUNK)
            left_frames = render_frames(scene, left, start, stop, tile_size=tile_size, backend=backend)
            if right is None:
                streams = [left_frames]
            else:
                right_frames = render_frames(scene, right, start, stop, tile_size=tile_size, backend=backend)
                streams = compose_streams(left_frames, right_frames, output_config.layout, focal=rig.focal)
            for writer, frames in zip(writers, streams):
                writer.write(frames)
            bar.update(stop - start)
    seconds = time.perf_counter() - start_time
    renders = count * (2 if stereo else 1)
    return {
        "outputs": [str(t) for t in targets],
        "frames": count,
        "path": path.path,
        "stereo": stereo,
        "layout": output_config.layout if stereo else "mono",
        "baseline_m": None if baseline is None else round(baseline, 6),
        "render_seconds": round(seconds, 3),
        "render_fps": round(renders / max(seconds, 1e-9), 3),
    }

