"""The spatial-video jobs as plain functions: ``spatial`` (fit + render) and ``render``.

:func:`spatial` takes a video (or image folder, or image) and runs the conversion's
stages first: depth (estimate, stabilise, robust range), the rig, the frame matrix and
the inpainter; or it takes a saved frame-matrix folder (``s2vg matrix --save-depth``),
filling its holes if it has any. Then it fits the Gaussians, optionally saves the scene
folder, and renders the camera path. :func:`render` renders a saved scene folder.

Both return a summary ``dict`` (what ``--json`` prints) and raise one-line typed errors.
"""

from __future__ import annotations

import dataclasses
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from s2vg.config import (
    CameraPathConfig,
    DepthConfig,
    DepthStageConfig,
    OutputConfig,
    RigConfig,
    SpatialConfig,
    SpatialFitConfig,
)
from s2vg.errors import InputError
from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.progress import Progress


def is_matrix_folder(path: str | Path) -> bool:
    """True for a folder written by ``s2vg matrix`` (it holds ``rig.json``)."""
    return Path(path).is_dir() and (Path(path) / "rig.json").is_file()


def _resize(frames: np.ndarray, max_width: int | None) -> np.ndarray:
    """``(T, H, W, 3)`` frames scaled (area interpolation) to a width of at most ``max_width``, aspect kept."""
    import cv2

    t, h, w, _ = frames.shape
    if max_width is None or w <= max_width:
        return frames
    new_w, new_h = max_width, max(16, int(round(h * max_width / w)))
    return np.stack([cv2.resize(f, (new_w, new_h), interpolation=cv2.INTER_AREA) for f in frames])


def matrix_from_video(
    input_path: str | Path,
    *,
    config: SpatialConfig,
    divergence: float,
    depth: DepthConfig,
    depth_stage: DepthStageConfig,
    inpainter_options: dict | None,
    progress: Progress,
) -> tuple[FrameMatrix, Fraction, dict]:
    """Decode, estimate depth, build the rig and the frame matrix, and fill it.

    The rig's largest baseline (or the circle's diameter) gives the nearest content
    ``divergence`` % of the width of disparity, so the fitted range covers the stereo
    render's eyes.

    Returns:
        (filled matrix, fps, info for the summary).
    """
    from s2vg.convert import choose_inpainter
    from s2vg.depth.stage import build_depth_estimator, run_depth_stage
    from s2vg.geometry.build import build_frame_matrix
    from s2vg.geometry.depth import inv_depth_to_depth, normalise_inv_depth_range
    from s2vg.geometry.rig import CameraRig, default_focal
    from s2vg.geometry.stereo import baseline_for_divergence, max_inv_depth
    from s2vg.io import probe, read_frames

    probe(input_path)  # a missing or unreadable input fails before any model loads
    inpainter, inpainter_name = choose_inpainter(config.inpainter, inpainter_options or {})
    estimator = build_depth_estimator(depth_stage)
    with progress.stage("decode", unit="frame") as bar:
        frames, info = read_frames(input_path, max_frames=config.max_frames)
        bar.update(len(frames))
    frames = _resize(frames, config.max_width)
    t, h, w, _ = frames.shape
    with progress.timer("depth"):
        result = run_depth_stage(frames, depth_stage, estimator=estimator, progress=progress)
    norm = normalise_inv_depth_range(torch.from_numpy(result.inv_depth), torch.from_numpy(result.lo), torch.from_numpy(result.hi))
    depth_m = inv_depth_to_depth(norm, far=depth.far, near=depth.near)
    focal = default_focal(w)
    baseline = baseline_for_divergence(divergence, w, focal, max_inv_depth(depth.far, depth.near))
    rig = CameraRig.from_config(
        RigConfig(mode=config.mode, views=config.views, baseline=baseline, focal=focal, circle_diameter=baseline), h, w
    )
    matrix = build_frame_matrix(torch.from_numpy(frames), depth_m, rig, progress=progress)
    with progress.timer("inpaint"):
        matrix = inpainter(matrix)
    info_out = {
        "input_frames": int(info.frames),
        "frames": t,
        "size": [w, h],
        "depth": {"estimator": result.estimator, "stabilized": result.stabilized, "shot_cuts": result.cuts},
        "inpainter": inpainter_name,
    }
    return matrix, Fraction(info.fps), info_out


def matrix_from_folder(folder: str | Path, *, inpainter: str, inpainter_options: dict | None, progress: Progress) -> tuple[FrameMatrix, dict]:
    """Load a saved frame-matrix folder (it must hold ``depth.npy``) and fill its holes."""
    from s2vg.convert import choose_inpainter
    from s2vg.io.matrix_files import load_matrix

    folder = Path(folder)
    if not (folder / "depth.npy").is_file():
        raise InputError(f"frame matrix {str(folder)!r} has no depth.npy; write it with `s2vg matrix ... --save-depth`")
    matrix = load_matrix(folder)
    if matrix.views < 2:
        raise InputError(f"frame matrix {str(folder)!r} has {matrix.views} view; spatial fitting needs at least 2")
    name = "none"
    if not bool(matrix.known.all()):
        fill, name = choose_inpainter(inpainter, inpainter_options or {})
        with progress.timer("inpaint"):
            matrix = fill(matrix)
    return matrix, {"frames": matrix.frames, "size": [matrix.width, matrix.height], "inpainter": name}


def spatial(
    input_path: str | Path,
    output: str | Path | None,
    *,
    config: SpatialConfig = SpatialConfig(),
    fit: SpatialFitConfig = SpatialFitConfig(),
    path: CameraPathConfig = CameraPathConfig(),
    output_config: OutputConfig = OutputConfig(),
    save_scene: str | Path | None = None,
    depth: DepthConfig = DepthConfig(),
    depth_stage: DepthStageConfig = DepthStageConfig(),
    fps: Fraction | None = None,
    inpainter_options: dict | None = None,
    progress: Progress | None = None,
) -> dict:
    """``s2vg spatial``: fit dynamic Gaussians to a clip's frame matrix and render a camera path.

    Args:
        input_path: a video, an image folder, an image, or a frame-matrix folder.
        output: the video file or folder of the render, or None (next to the input).
        config: rig, inpainter, working size of a video input.
        fit: the fit's options (iterations, seed ...).
        path: the camera path of the render.
        output_config: layout and encoding.
        save_scene: also write the scene folder here; defaults to None.
        fps: frame rate of a matrix-folder input's render; defaults to None (24).

    Returns:
        a summary ``dict``.

    Raises:
        InputError: unreadable input, a matrix of fewer than 2 views or without depth,
            a bad path file. OptionError, MissingWeightsError, OutputError as their names say.
    """
    from s2vg.spatial.fit import torch_threads

    with torch_threads(fit.threads):
        return _spatial(
            input_path, output, config=config, fit=fit, path=path, output_config=output_config, save_scene=save_scene,
            depth=depth, depth_stage=depth_stage, fps=fps, inpainter_options=inpainter_options,
            progress=progress or Progress(enabled=False),
        )


def _spatial(input_path, output, *, config, fit, path, output_config, save_scene, depth, depth_stage, fps, inpainter_options, progress) -> dict:
    from s2vg.spatial.fit import fit_scene
    from s2vg.spatial.paths import build_path
    from s2vg.spatial.render import render_path

    start = time.perf_counter()
    audio_source = None
    if is_matrix_folder(input_path):
        matrix, info = matrix_from_folder(input_path, inpainter=config.inpainter, inpainter_options=inpainter_options, progress=progress)
        clip_fps = fps or Fraction(24)
    else:
        matrix, clip_fps, info = matrix_from_video(
            input_path, config=config, divergence=path.divergence, depth=depth, depth_stage=depth_stage,
            inpainter_options=inpainter_options, progress=progress,
        )
        audio_source = input_path
    # A bad path file fails before the (long) fit, not after it.
    build_path(path.path, matrix.rig, matrix.frames, look_at_depth=1.0)
    result = fit_scene(matrix, fit, progress=progress)
    scene = result.scene
    scene.fps = clip_fps
    scene.info["config"] = {"spatial": dataclasses.asdict(config), "fit": dataclasses.asdict(fit)}
    if save_scene is not None:
        with progress.timer("save scene"):
            scene.save(save_scene)
    rendered = render_path(
        scene, output, name_source=input_path, path=path, output_config=output_config, audio_source=audio_source,
        tile_size=fit.tile_size, backend=fit.backend, progress=progress,
    )
    seconds = {k: round(v, 3) for k, v in progress.seconds.items()}
    seconds["total"] = round(time.perf_counter() - start, 3)
    return {
        "command": "spatial",
        "input": str(input_path),
        **rendered,
        "scene": None if save_scene is None else str(save_scene),
        **info,
        "views": matrix.views,
        "rig": {"mode": matrix.rig.mode, "focal_px": matrix.rig.focal, "positions_m": matrix.rig.positions.tolist()},
        "fit": result.stats,
        "config": {
            "spatial": dataclasses.asdict(config), "fit": dataclasses.asdict(fit), "path": dataclasses.asdict(path),
            "output": dataclasses.asdict(output_config),
        },
        "seconds": seconds,
    }


def render(
    scene_dir: str | Path,
    output: str | Path | None,
    *,
    path: CameraPathConfig = CameraPathConfig(),
    output_config: OutputConfig = OutputConfig(),
    device: str = "auto",
    backend: str = "auto",
    tile_size: int = SpatialFitConfig.tile_size,
    threads: int | None = None,
    progress: Progress | None = None,
) -> dict:
    """``s2vg render``: render a saved scene folder along a camera path.

    Args:
        device: ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
        backend: rasteriser, ``auto``, ``torch`` or ``gsplat``.
        threads: torch CPU threads while rendering (see ``SpatialFitConfig.threads``).

    Raises:
        InputError: unreadable scene folder, bad path file.
    """
    from s2vg.spatial.fit import resolve_device, torch_threads
    from s2vg.spatial.render import render_path
    from s2vg.spatial.scene import load_scene

    progress = progress or Progress(enabled=False)
    start = time.perf_counter()
    scene = load_scene(scene_dir, device=resolve_device(device))
    with torch_threads(threads):
        rendered = render_path(
            scene, output, name_source=Path(scene_dir), path=path, output_config=output_config,
            tile_size=tile_size, backend=backend, progress=progress,
        )
    return {
        "command": "render",
        "scene": str(scene_dir),
        **rendered,
        "gaussians": scene.gaussians.count,
        "scene_frames": scene.frames,
        "fps": str(scene.fps),
        "config": {"path": dataclasses.asdict(path), "output": dataclasses.asdict(output_config)},
        "seconds": {"total": round(time.perf_counter() - start, 3)},
    }
