"""The summary ``dict`` of a finished job (what ``s2vg convert --json`` prints)."""

from __future__ import annotations

from fractions import Fraction

from s2vg.jobs.depth_pass import DepthPassResult
from s2vg.jobs.job import JobSpec, output_pixels_ratio
from s2vg.jobs.memory import memory_bound


def job_summary(spec: JobSpec, result: DepthPassResult, seconds: dict[str, float], total_seconds: float,
                executor: str, state_kept: bool) -> dict:
    """Everything a user (or a re-run) needs to know about a finished conversion.

    Args:
        spec: the job.
        result: its depth pass.
        seconds: seconds per stage (summed over chunks and workers).
        total_seconds: wall-clock seconds of the whole job.
        executor: ``"local"`` or ``"ray"``.
        state_kept: whether the state folder was kept.
    """
    from s2vg.convert import eye_views
    from s2vg.io.layouts import output_size
    from s2vg.jobs.render import camera_rig

    rig = camera_rig(spec, result)
    left, right = eye_views(rig)
    w, h = spec.info.width, spec.info.height
    out_w, out_h = output_size(w, h, spec.output_config.layout, focal=spec.focal)
    relative = spec.depth.kind == "relative"
    if spec.depth_source == "file":
        depth = {"source": "file", "path": spec.config.depth, "kind": spec.depth.kind}
    else:
        depth = {"source": "estimator", "estimator": result.estimator, "kind": "relative"}
        if result.confidence is not None:
            depth["confidence"] = round(result.confidence, 3)
    if relative:
        depth |= {"stabilized": result.stabilized, "shot_cuts": result.cuts}
    timings = {k: round(v, 3) for k, v in seconds.items()}
    timings["total"] = round(total_seconds, 3)
    return {
        "command": "convert",
        "input": str(spec.input_path),
        "outputs": [str(p) for p in spec.outputs],
        "input_frames": int(spec.info.frames),
        "output_frames": int(result.frames),
        "fps": str(Fraction(spec.info.fps)),
        "input_size": [w, h],
        "output_size": [out_w, out_h],
        "layout": spec.output_config.layout,
        "inpainter": spec.inpainter,
        "views": rig.views,
        "eyes": [left, right],
        "rig": {
            "mode": rig.mode,
            "focal_px": rig.focal,
            "baseline_m": float(abs(rig.positions[right, 0] - rig.positions[left, 0])),
            "divergence_pct": spec.stereo.divergence if (relative and spec.rig.baseline is None) else None,
            "convergence": spec.stereo.convergence,
        },
        "depth": depth,
        "audio_streams": len(spec.info.audio),
        "chunks": {
            "chunk_frames": spec.chunk_frames,
            "context_frames": spec.config.context_frames,
            "stabilisation_window": spec.window,
            "count": spec.chunks(result.frames),
        },
        "memory": {
            **memory_bound(
                h, w, views=rig.views, chunk_frames=spec.chunk_frames, context_frames=spec.config.context_frames,
                window=spec.window, output_pixels_ratio=output_pixels_ratio(spec),
            ),
            "budget_mib": None if spec.memory_budget is None else round(spec.memory_budget / 2**20, 1),
            "chunk_from": "given" if spec.config.chunk_frames is not None else "budget",
        },
        "job": {"executor": executor, "resumed": spec.resumed, "state": str(spec.state_dir), "state_kept": state_kept},
        "seconds": timings,
        "frames_per_second": round(result.frames / max(total_seconds, 1e-9), 3),
    }
