"""Extra results a finished web job can add: the ``s2vg eval`` report of its clip.

Each function is a :data:`s2vg.web.jobs.PostStep`: it runs in the worker after a
successful conversion, writes into the job's folder and lists its files in
``job.extras`` (the page links them). :func:`default_post_steps` returns those whose
library part is installed, so the server shows a report only where one can be made.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from s2vg.web.jobs import Job, PostStep

#: Inpainters the job's own inpainter is compared with in its report.
REPORT_BASELINES: tuple[str, ...] = ("black", "telea", "nearest-background")

#: Frames of the clip the report measures (the round trip re-warps every frame).
REPORT_FRAMES = 16


def eval_report(job: Job) -> None:
    """When the job asked for it (``options.evaluate``), measure its inpainter on its clip.

    Uses :func:`s2vg.metrics.eval.run_eval` with the round-trip protocol on the job's
    input (first :data:`REPORT_FRAMES` frames, the job's depth estimator, ``heuristic``
    for ``auto``), comparing the job's inpainter with :data:`REPORT_BASELINES`; writes
    ``eval/eval.md``, ``eval/eval.png`` and ``eval/eval.json`` into the job folder.
    """
    if not job.options.evaluate:
        return
    from s2vg.config import EvalConfig
    from s2vg.metrics.eval import run_eval

    summary = job.summary or {}
    inpainter = str(summary.get("inpainter") or job.options.inpainter)
    frames = max(2, min(REPORT_FRAMES, int(summary.get("output_frames") or REPORT_FRAMES)))
    config = EvalConfig(
        scenes=(),
        clips=(str(job.input_path),),
        frames=frames,
        methods=tuple(dict.fromkeys((*REPORT_BASELINES, inpainter))),
        clip_depth="heuristic" if job.options.depth == "auto" else job.options.depth,
        divergence=job.options.divergence,
    )
    result = run_eval(config, job.folder / "eval")
    for note in result.get("skipped", {}).values():
        job.notes.append(f"eval: {note}")
    outputs = result.get("outputs", {})
    job.extras.extend(Path(outputs[key]) for key in ("figure", "markdown", "json") if key in outputs)


def default_post_steps() -> list[PostStep]:
    """The extra steps whose library modules are present in this installation."""
    steps: list[PostStep] = []
    if importlib.util.find_spec("s2vg.metrics.eval") is not None:
        steps.append(eval_report)
    return steps
