"""What every executor does to a job: the three stage tasks, the outcome, the clean-up rules.

A job is three kinds of task over its state folder (:mod:`s2vg.jobs`): the depth pass
(sequential), one render task per chunk (independent of each other), and the assembly.
Executors differ only in where the tasks run and how progress is shown.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

from s2vg.errors import InputError, OptionError
from s2vg.jobs.depth_pass import DepthPassResult, run_depth_pass
from s2vg.jobs.job import JobSpec
from s2vg.progress import SILENT, Progress

Status = Literal["done", "failed", "skipped", "not run"]


@dataclass
class JobOutcome:
    """How one input of a run ended.

    Attributes:
        input: the input path as given.
        outputs: its output paths.
        status: ``"done"``, ``"failed"``, ``"skipped"`` (outputs existed) or ``"not run"``
            (the run stopped at an earlier failure).
        summary: the job summary (``"done"`` only).
        error: the exception (``"failed"`` only).
        seconds: wall-clock seconds spent on it.
    """

    input: str
    outputs: list[str] = field(default_factory=list)
    status: Status = "not run"
    summary: dict | None = None
    error: BaseException | None = None
    seconds: float = 0.0


def depth_task(spec: JobSpec, progress: Progress | None = None) -> tuple[DepthPassResult, dict[str, float]]:
    """Pass 1 of a job; returns its result and seconds per stage."""
    local = progress if progress is not None else Progress(enabled=False)
    before = dict(local.seconds)
    result = run_depth_pass(spec, local)
    return result, {k: v - before.get(k, 0.0) for k, v in local.seconds.items() if k != "depth pass"}


def render_task(spec: JobSpec, chunk: int) -> dict:
    """Render one chunk of a job (no progress display: the driver shows it)."""
    from s2vg.jobs.render import render_chunks

    return render_chunks(spec, [chunk], SILENT) | {"chunk": chunk}


def direct_task(spec: JobSpec) -> dict:
    """Render a whole job into its one writer (MV-HEVC: no segments)."""
    from s2vg.jobs.render import render_direct

    return render_direct(spec, SILENT)


def finish_task(spec: JobSpec) -> float:
    """Join the segments into the outputs; returns the seconds it took."""
    from s2vg.jobs.assemble import assemble
    from s2vg.jobs.depth_pass import load_result

    start = time.perf_counter()
    assemble(spec, load_result(spec))
    return time.perf_counter() - start


def discard_state_after(error: BaseException) -> bool:
    """Whether a failure makes the job's state worthless (bad input or options: a resume
    cannot fix them); anything else (a full disk, a crash, an interruption) keeps it."""
    return isinstance(error, (InputError, OptionError))


def add_seconds(total: dict[str, float], part: dict[str, float]) -> None:
    for name, value in part.items():
        total[name] = total.get(name, 0.0) + value
