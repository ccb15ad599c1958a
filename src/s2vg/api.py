"""The Python API: the same jobs as the CLI, as plain functions over configs.

Each function reads its inputs, composes stages and returns a summary ``dict`` (what the
CLI prints with ``--json``). No algorithm lives here; see the stage packages. The jobs
that live in their own packages are re-exported here and imported on first use:

- ``convert`` (:mod:`s2vg.convert`), ``run_batch`` (:mod:`s2vg.batch`)
- ``run_eval``, ``run_demo``, ``score_pair``, ``run_pair_eval`` (:mod:`s2vg.metrics`)
- ``generate`` (:mod:`s2vg.generate.api`), ``upscale`` (:mod:`s2vg.sr.api`)
- ``spatial``, ``render`` (:mod:`s2vg.spatial.api`), ``serve`` (:mod:`s2vg.web`)
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import torch

from s2vg.config import CleanupConfig, DepthConfig, RigConfig
from s2vg.geometry.build import build_frame_matrix
from s2vg.geometry.depth import to_depth_m
from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.geometry.rig import CameraRig
from s2vg.io import read_frames
from s2vg.io.depth_files import check_depth_matches, load_depth
from s2vg.io.matrix_files import save_matrix
from s2vg.progress import SILENT, Progress


def frame_matrix_from_files(
    input_path: str | Path,
    depth_path: str | Path,
    *,
    rig: RigConfig = RigConfig(),
    depth: DepthConfig = DepthConfig(),
    cleanup: CleanupConfig = CleanupConfig(),
    max_frames: int | None = None,
    progress: Progress = SILENT,
) -> FrameMatrix:
    """Read a clip and its depth file and warp it into a frame matrix.

    Args:
        input_path: a video file, an image folder or one image.
        depth_path: a depth file (see :func:`s2vg.io.depth_files.load_depth`) whose
            meaning is ``depth.kind``.
    """
    with progress.stage("read"):
        frames, _ = read_frames(input_path, max_frames=max_frames)
        values = load_depth(depth_path)
        if max_frames is not None:
            values = values[:max_frames]
        check_depth_matches(values.shape, frames.shape, str(depth_path))
    t, h, w, _ = frames.shape
    camera_rig = CameraRig.from_config(rig, h, w)
    depth_m = to_depth_m(
        torch.from_numpy(values), depth.kind, far=depth.far, near=depth.near, focal=camera_rig.focal, baseline=rig.baseline
    )
    return build_frame_matrix(
        torch.from_numpy(frames), depth_m, camera_rig, planes=cleanup.planes, cleanup=cleanup.enabled, progress=progress,
        crack_rule=cleanup.crack_rule,
    )


def export_frame_matrix(
    input_path: str | Path,
    depth_path: str | Path,
    out_dir: str | Path,
    *,
    rig: RigConfig = RigConfig(),
    depth: DepthConfig = DepthConfig(),
    cleanup: CleanupConfig = CleanupConfig(),
    max_frames: int | None = None,
    save_depth: bool = False,
    progress: Progress | None = None,
) -> dict:
    """``s2vg matrix``: build a frame matrix and write it as PNGs (see :mod:`s2vg.io.matrix_files`)."""
    progress = progress or Progress(enabled=False)
    start = time.perf_counter()
    matrix = frame_matrix_from_files(
        input_path, depth_path, rig=rig, depth=depth, cleanup=cleanup, max_frames=max_frames, progress=progress
    )
    save_matrix(matrix, out_dir, save_depth=save_depth, progress=progress)
    return {
        "command": "matrix",
        "input": str(input_path),
        "depth": str(depth_path),
        "output": str(out_dir),
        "views": matrix.views,
        "frames": matrix.frames,
        "height": matrix.height,
        "width": matrix.width,
        "focal": matrix.rig.focal,
        "positions_m": matrix.rig.positions.tolist(),
        "unknown_fraction": round(matrix.unknown_fraction, 6),
        "config": {
            "rig": dataclasses.asdict(rig),
            "depth": dataclasses.asdict(depth),
            "cleanup": dataclasses.asdict(cleanup),
        },
        "seconds": {k: round(v, 3) for k, v in progress.seconds.items()} | {"total": round(time.perf_counter() - start, 3)},
    }


_JOBS = {
    "convert": "s2vg.convert",
    "run_batch": "s2vg.batch",
    "run_eval": "s2vg.metrics.eval",
    "run_demo": "s2vg.metrics.demo",
    "score_pair": "s2vg.metrics.pairs",
    "run_pair_eval": "s2vg.metrics.pairs",
    "generate": "s2vg.generate.api",
    "upscale": "s2vg.sr.api",
    "spatial": "s2vg.spatial.api",
    "render": "s2vg.spatial.api",
    "serve": "s2vg.web",
}


def __getattr__(name: str):
    if name in _JOBS:
        import importlib

        return getattr(importlib.import_module(_JOBS[name]), name)
    raise AttributeError(f"module 's2vg.api' has no attribute {name!r}")
