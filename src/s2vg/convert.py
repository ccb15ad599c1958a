"""The conversion: a monocular clip in, a stereo video (or image) out.

decode -> depth (estimate or file, stabilise, robust range) -> rig from the effect
strength -> per chunk of frames: frame matrix -> inpaint -> pick the two eyes -> layout
-> encode (audio copied from the input). Each step is a stage function; :mod:`s2vg.jobs`
runs them as a streamed, resumable job and :mod:`s2vg.executors` decides where; this
module holds the user-facing choices (inpainter, rig, eyes) and :func:`convert`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from s2vg.config import (
    ConvertConfig,
    DepthConfig,
    DepthStageConfig,
    JobConfig,
    OutputConfig,
    RigConfig,
    StereoConfig,
)
from s2vg.errors import OptionError
from s2vg.geometry.rig import CameraRig, default_focal
from s2vg.geometry.stereo import baseline_for_divergence, convergence_shift_per_metre, max_inv_depth
from s2vg.inpaint.base import Inpainter, available_inpainters, get_inpainter
from s2vg.progress import Progress

#: Views used when the user does not say: the classical fill needs only the two eyes,
#: the diffusion method denoises the full frame matrix.
DEFAULT_VIEWS = {"svg": 8}
DEFAULT_VIEWS_OTHERWISE = 2


@dataclass(frozen=True)
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
    job: JobConfig = JobConfig(),
) -> dict:
    """Convert a clip to a stereo video (or one image to a stereo image), in bounded memory.

    The video is streamed twice in chunks of ``config.chunk_frames`` frames, or as many as
    ``config.memory_budget`` allows (:func:`s2vg.jobs.memory.choose_chunk_frames`) (depth, then
    frame matrix, fill and encoding; see :mod:`s2vg.jobs`), so peak memory depends on the
    chunk size and the resolution, not on the length (``summary["memory"]``). Intermediate
    results live in a state folder next to the output until it is complete; with
    ``job.resume`` an interrupted conversion continues where it stopped.

    Args:
        input_path: a video file, an image folder, or one image.
        output: an output file, a folder (player-recognisable names are made), or None
            (next to the input).
        job: resume, state folder and executor (local or Ray); never changes the output.

    Returns:
        a summary ``dict`` (what ``--json`` prints).

    Raises:
        InputError, OptionError, MissingWeightsError, OutputError: one-line messages.
    """
    from s2vg.executors import get_executor
    from s2vg.jobs.job import prepare_job

    progress = progress or Progress(enabled=False)
    executor = get_executor(job)
    spec = prepare_job(
        input_path, output, config=config, rig=rig, depth=depth, depth_stage=depth_stage, stereo=stereo,
        output_config=output_config, inpainter_options=inpainter_options, job=job,
    )
    return executor.run_one(spec, progress, keep_state=job.keep_state)
