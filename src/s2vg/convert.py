"""The conversion job: a monocular clip in, a stereo video (or image) out.

decode -> depth (estimate or file, stabilise, robust range) -> rig from the effect
strength -> per chunk of frames: frame matrix -> inpaint -> pick the two eyes -> layout
-> encode (audio copied from the input). Each step is a stage function; this module only
decides the order, the chunking and the summary.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from s2vg.config import (
    ConvertConfig,
    DepthConfig,
    DepthStageConfig,
    OutputConfig,
    RigConfig,
    StereoConfig,
)
from s2vg.errors import OptionError, OutputError
from s2vg.geometry.build import build_frame_matrix
from s2vg.geometry.depth import check_metric_depth, disparity_to_depth, inv_depth_to_depth, normalise_inv_depth_range
from s2vg.geometry.rig import CameraRig, default_focal
from s2vg.geometry.stereo import baseline_for_divergence, convergence_shift_per_metre, max_inv_depth
from s2vg.inpaint.base import Inpainter, available_inpainters, get_inpainter
from s2vg.progress import Progress

#: Views used when the user does not say: the classical fill needs only the two eyes,
#: the diffusion method denoises the full frame matrix.
DEFAULT_VIEWS = {"svg": 8}
DEFAULT_VIEWS_OTHERWISE = 2


@dataclasses.dataclass(frozen=True)
class RigRequest:
    """What the user asked of the rig; None means "derive it" (see :func:`plan_rig`)."""

    mode: str = RigConfig.mode
    views: int | None = None
    baseline: float | None = None
    focal: float | None = None


def choose_inpainter(name: str, options: dict) -> tuple[Inpainter, str]:
    """Build the inpainter; ``auto`` takes ``svg`` only with CUDA and its weights on disk.

    ``options`` go to the diffusion inpainter; the others take none.
    """
    if name == "auto":
        from s2vg.inpaint.diffusion.inpainter import svg_available

        name = "svg" if svg_available(options.get("model")) else "classical"
        if name == "classical" and options.get("prompt"):
            warnings.warn(
                "--inpainter auto chose the classical inpainter (no CUDA device or no diffusion weights on disk); "
                "the prompt is unused", stacklevel=2,
            )
    if name not in available_inpainters():
        raise OptionError(f"unknown inpainter {name!r}; choose auto or one of {', '.join(available_inpainters())}")
    return get_inpainter(name, **(options if name == "svg" else {})), name


def plan_rig(
    request: RigRequest,
    *,
    kind: str,
    stereo: StereoConfig,
    depth: DepthConfig,
    height: int,
    width: int,
    views: int,
    inv_depth_range: tuple[float, float] | None = None,
) -> CameraRig:
    """The cameras for a conversion.

    Relative depth: the baseline comes from ``stereo.divergence`` unless the user gave
    one. Metric or disparity depth: the baseline is taken literally (default 0.08 m), and
    convergence applies only when asked, over ``inv_depth_range`` (1/m, far and near).
    """
    focal = request.focal if request.focal is not None else default_focal(width)
    if kind == "relative":
        near_inv = max_inv_depth(depth.far, depth.near)
        far_inv = 1.0 / depth.far if depth.far is not None else 0.0
        baseline = request.baseline
        if baseline is None:
            baseline = baseline_for_divergence(stereo.divergence, width, focal, near_inv)
    else:
        baseline = request.baseline if request.baseline is not None else RigConfig.baseline
        far_inv, near_inv = inv_depth_range or (0.0, 0.0)
    rig = CameraRig.from_config(
        RigConfig(mode=request.mode, views=views, baseline=baseline, focal=focal), height, width
    )
    if stereo.convergence is not None:
        rig = rig.with_convergence(convergence_shift_per_metre(stereo.convergence, focal, far_inv, near_inv))
    return rig


def eye_views(rig: CameraRig) -> tuple[int, int]:
    """(left, right) view indices: the source and target ends of the rig, ordered by x."""
    ends = sorted({rig.source_index, *rig.target_indices}, key=lambda view: rig.positions[view, 0])
    return ends[0], ends[-1]


def _inv_depth_range(depth_m: torch.Tensor, samples: int = 1_000_000) -> tuple[float, float]:
    """(far, near) inverse depth in 1/m: the 2nd and 98th percentiles over a subsample."""
    inv = (1.0 / depth_m).flatten()
    inv = inv[:: max(1, inv.numel() // samples)]
    return float(torch.quantile(inv, 0.02)), float(torch.quantile(inv, 0.98))


def _depth_in_metres(
    frames: np.ndarray,
    config: ConvertConfig,
    depth: DepthConfig,
    depth_stage: DepthStageConfig,
    estimator,
    progress: Progress,
) -> tuple[torch.Tensor | None, torch.Tensor | None, dict]:
    """Either normalised relative inverse depth ``(T,H,W)`` in [0,1], or literal values."""
    from s2vg.depth.stage import run_depth_stage
    from s2vg.io.depth_files import check_depth_matches, is_depth_path, load_depth

    info: dict = {}
    if estimator is None and is_depth_path(config.depth):
        values = load_depth(config.depth)[: len(frames)]
        check_depth_matches(values.shape, frames.shape, config.depth)
        info["depth"] = {"source": "file", "path": config.depth, "kind": depth.kind}
        if depth.kind != "relative":
            return None, torch.from_numpy(values), info
        result = run_depth_stage(frames, depth_stage, inv_depth=values, progress=progress)
    else:
        result = run_depth_stage(frames, depth_stage, estimator=estimator, progress=progress)
        info["depth"] = {"source": "estimator", "estimator": result.estimator, "kind": "relative"}
    info["depth"] |= {"stabilized": result.stabilized, "shot_cuts": result.cuts}
    norm = normalise_inv_depth_range(
        torch.from_numpy(result.inv_depth), torch.from_numpy(result.lo), torch.from_numpy(result.hi)
    )
    return norm, None, info


def convert(
    input_path: str | Path,
    output: str | Path | None,
    *,
    config: ConvertConfig = ConvertConfig(),
    rig: RigRequest = RigRequest(),
    depth: DepthConfig = DepthConfig(),
    depth_stage: DepthStageConfig = DepthStageConfig(),
    stereo: StereoConfig = StereoConfig(),
    output_config: OutputConfig = OutputConfig(),
    inpainter_options: dict | None = None,
    progress: Progress | None = None,
) -> dict:
    """Convert a clip to a stereo video (or one image to a stereo image).

    Args:
        input_path: a video file, an image folder, or one image.
        output: an output file, a folder (player-recognisable names are made), or None
            (next to the input).

    Returns:
        a summary ``dict`` (what ``--json`` prints).
    """
    from s2vg.depth.stage import build_depth_estimator
    from s2vg.io import probe, read_frames
    from s2vg.io.depth_files import is_depth_path
    from s2vg.io.layouts import compose_streams, frame_packing_for, output_paths, output_size
    from s2vg.io.writer import open_writer

    progress = progress or Progress(enabled=False)
    start = time.perf_counter()
    # Everything that can fail without decoding fails first: input, options, weights.
    info = probe(input_path)
    inpainter, inpainter_name = choose_inpainter(config.inpainter, inpainter_options or {})
    views = rig.views or DEFAULT_VIEWS.get(inpainter_name, DEFAULT_VIEWS_OTHERWISE)
    literal_baseline = rig.baseline if rig.baseline is not None else RigConfig.baseline
    RigConfig(mode=rig.mode, views=views, baseline=literal_baseline, focal=rig.focal)  # validates early
    if rig.mode == "circle":
        raise OptionError("mode circle makes no stereo pair; use left2right, right2left or middle2leftright (circle is for `s2vg spatial`)")
    file_depth = is_depth_path(config.depth)
    if not file_depth and depth.kind != "relative":
        raise OptionError(f"--depth-kind {depth.kind} describes a depth file, but --depth {config.depth!r} is a model; give a depth file")
    estimator = None if file_depth else build_depth_estimator(dataclasses.replace(depth_stage, estimator=config.depth))
    paths = output_paths(input_path, output, output_config.layout, suffix="" if output_config.png_sequence else None)
    if output is not None and not Path(output).suffix and Path(output).parent.is_dir():
        Path(output).mkdir(exist_ok=True)  # a folder for player-named outputs
    for path in paths:
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise OutputError(f"output folder {str(parent)!r} does not exist; create it or choose another output")

    with progress.stage("decode", total=info.frames, unit="frame") as bar:
        frames, info = read_frames(input_path, max_frames=config.max_frames)
        bar.update(len(frames))
    t, h, w, _ = frames.shape

    with progress.timer("depth"):
        norm_inv, literal, summary = _depth_in_metres(frames, config, depth, depth_stage, estimator, progress)
    if norm_inv is not None:
        depth_m = inv_depth_to_depth(norm_inv, far=depth.far, near=depth.near)
        camera_rig = plan_rig(rig, kind="relative", stereo=stereo, depth=depth, height=h, width=w, views=views)
    else:
        focal = rig.focal if rig.focal is not None else default_focal(w)
        if depth.kind == "metric":
            depth_m = check_metric_depth(literal)
        else:
            depth_m = disparity_to_depth(literal, focal, literal_baseline)
        camera_rig = plan_rig(
            rig, kind=depth.kind, stereo=stereo, depth=depth, height=h, width=w, views=views,
            inv_depth_range=_inv_depth_range(depth_m),
        )
    left_view, right_view = eye_views(camera_rig)

    frames_t = torch.from_numpy(frames)
    out_w, out_h = output_size(w, h, output_config.layout)
    video_options = dict(
        codec=output_config.codec,
        crf=output_config.crf,
        preset=output_config.preset,
        audio_source=input_path,
        frame_packing=frame_packing_for(output_config.layout),
    )
    written = 0
    with contextlib.ExitStack() as stack, progress.stage("stereo", total=t, unit="frame") as bar:
        writers = [
            stack.enter_context(open_writer(p, fps=info.fps, width=out_w, height=out_h, **video_options)) for p in paths
        ]
        for chunk_start in range(0, t, config.chunk_frames):
            chunk_stop = min(t, chunk_start + config.chunk_frames)
            lo = max(0, chunk_start - config.context_frames)
            hi = min(t, chunk_stop + config.context_frames)
            with progress.timer("frame matrix"):
                matrix = build_frame_matrix(frames_t[lo:hi], depth_m[lo:hi], camera_rig)
            with progress.timer("inpaint"):
                filled = inpainter(matrix)
            core = slice(chunk_start - lo, chunk_stop - lo)
            left = filled.colors[left_view, core]
            right = filled.colors[right_view, core]
            with progress.timer("encode"):
                for writer, stream in zip(writers, compose_streams(left, right, output_config.layout)):
                    writer.write(stream)
            written += chunk_stop - chunk_start
            bar.update(chunk_stop - chunk_start)

    seconds = {k: round(v, 3) for k, v in progress.seconds.items()}
    seconds["total"] = round(time.perf_counter() - start, 3)
    return {
        "command": "convert",
        "input": str(input_path),
        "outputs": [str(p) for p in paths],
        "input_frames": int(info.frames),
        "output_frames": written,
        "fps": str(Fraction(info.fps)),
        "input_size": [w, h],
        "output_size": [out_w, out_h],
        "layout": output_config.layout,
        "inpainter": inpainter_name,
        "views": camera_rig.views,
        "eyes": [left_view, right_view],
        "rig": {
            "mode": camera_rig.mode,
            "focal_px": camera_rig.focal,
            "baseline_m": float(abs(camera_rig.positions[right_view, 0] - camera_rig.positions[left_view, 0])),
            "divergence_pct": stereo.divergence if (norm_inv is not None and rig.baseline is None) else None,
            "convergence": stereo.convergence,
        },
        **summary,
        "audio_streams": len(info.audio),
        "seconds": seconds,
        "frames_per_second": round(written / max(seconds["total"], 1e-9), 3),
    }
