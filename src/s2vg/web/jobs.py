"""Conversion jobs of the web app: options, live progress, and a one-worker queue.

A job runs :func:`s2vg.convert.convert` in the queue's single worker thread (one
conversion at a time: the CPU and memory go to it). Its :class:`JobProgress` receives
every stage update through :attr:`s2vg.progress.Progress.on_update` and turns them into
what the page shows: the stage, its frames, the whole job's fraction and an ETA. A job
that raises is marked failed with a one-line message; the worker goes on with the next.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s2vg.config import ConvertConfig, DepthStageConfig, OutputConfig, StereoConfig
from s2vg.errors import OptionError, S2VGError

log = logging.getLogger("s2vg.web")

#: Share of a conversion's time that each stage of :func:`s2vg.convert.convert` takes, for
#: the job's overall fraction (rough CPU shares with the heuristic depth and classical
#: fill; they only set how evenly the bar moves, 100 % is reached when the job ends).
#: Streamed conversions report "depth pass" then "stereo"; in-memory ones "decode",
#: "depth", "stabilize depth", "stereo". Either sequence sums to 1.
STAGE_WEIGHTS: dict[str, float] = {
    "decode": 0.05, "depth": 0.25, "stabilize depth": 0.15, "depth pass": 0.45, "stereo": 0.55,
}


@dataclass(frozen=True)
class JobOptions:
    """What the page lets a user choose; everything else keeps the library's defaults.

    Attributes:
        depth: depth estimator name (``auto``, ``heuristic``, ``depth-anything-v2-small`` ...).
        inpainter: ``auto`` or an inpainter name (``classical``, ``svg`` ...).
        layout: output layout (``sbs``, ``half-sbs``, ``anaglyph``, ``vr180`` ...).
        divergence: nearest content's disparity in percent of the width.
        convergence: depth at the screen plane, 0 (far) to 1 (near); None = parallel.
        views: views of the frame matrix; None = the inpainter's default.
        max_frames: convert only the first N frames; None = all.
        evaluate: also write the ``s2vg eval`` report of the clip (see
            :func:`s2vg.web.extras.eval_report`); False by default.
    """

    depth: str = ConvertConfig.depth
    inpainter: str = ConvertConfig.inpainter
    layout: str = OutputConfig.layout
    divergence: float = StereoConfig.divergence
    convergence: float | None = StereoConfig.convergence
    views: int | None = None
    max_frames: int | None = ConvertConfig.max_frames
    evaluate: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobOptions:
        """Options from the page's JSON; empty strings mean "default". Validates every value.

        Raises:
            OptionError: an unknown key, a wrong type, or a value a config rejects.
        """
        if not isinstance(data, dict):
            raise OptionError("options must be a JSON object")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise OptionError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        values: dict[str, Any] = {}
        for key, value in data.items():
            if value is None or value == "":
                continue
            try:
                if key == "evaluate":
                    if isinstance(value, str):
                        value = {"true": True, "on": True, "1": True, "false": False, "off": False, "0": False}[value.lower()]
                    elif not isinstance(value, bool):
                        raise ValueError
                elif key in ("divergence", "convergence"):
                    value = float(value)
                elif key in ("views", "max_frames"):
                    if isinstance(value, float) and not value.is_integer():
                        raise ValueError
                    value = int(value)
                elif not isinstance(value, str):
                    raise ValueError
            except (TypeError, ValueError, KeyError):
                raise OptionError(f"option {key} has the wrong type; got {value!r}") from None
            values[key] = value
        options = cls(**values)
        options.configs()  # every check of the library's configs, before queueing
        return options

    def configs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`s2vg.convert.convert` (configs validated on creation)."""
        from s2vg.convert import RigRequest
        from s2vg.depth.registry import available_depth_estimators
        from s2vg.inpaint.base import available_inpainters

        if self.depth not in ("auto", *available_depth_estimators()):
            raise OptionError(f"depth must be auto or one of {', '.join(available_depth_estimators())}; got {self.depth!r}")
        if self.inpainter not in ("auto", *available_inpainters()):
            raise OptionError(f"inpainter must be auto or one of {', '.join(available_inpainters())}; got {self.inpainter!r}")
        return {
            "config": ConvertConfig(depth=self.depth, inpainter=self.inpainter, max_frames=self.max_frames),
            "rig": RigRequest(views=self.views),
            "depth_stage": DepthStageConfig(estimator=self.depth),
            "stereo": StereoConfig(divergence=self.divergence, convergence=self.convergence),
            "output_config": OutputConfig(layout=self.layout),
        }


class JobProgress:
    """Live progress of one job, fed by ``Progress(on_update=...)`` from the worker thread.

    The job's fraction is the weights (:data:`STAGE_WEIGHTS`) of the stages already left
    plus the running stage's ``count / total`` times its weight; it never goes back.
    Stages without a weight (inner steps) change the label, not the fraction.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.stage: str | None = None
        self.count = 0
        self.total: int | None = None
        self.fraction = 0.0
        self.started: float | None = None
        self._done = 0.0  # weights of the stages already left
        self._weighted: str | None = None  # the weighted stage running now

    def start(self) -> None:
        with self._lock:
            self.started = time.monotonic()

    def __call__(self, stage: str, count: int, total: int | None) -> None:
        with self._lock:
            self.stage, self.count, self.total = stage, count, total
            if stage not in STAGE_WEIGHTS:
                return
            if stage != self._weighted:
                if self._weighted is not None:
                    self._done += STAGE_WEIGHTS[self._weighted]
                self._weighted = stage
            part = min(1.0, count / total) if total else 0.0
            self.fraction = max(self.fraction, min(1.0, self._done + STAGE_WEIGHTS[stage] * part))

    def finish(self) -> None:
        with self._lock:
            self.fraction = 1.0

    def snapshot(self) -> dict[str, Any]:
        """``stage``, ``count``, ``total``, ``percent`` (0-100), ``elapsed_s`` and ``eta_s`` (None early on)."""
        with self._lock:
            elapsed = time.monotonic() - self.started if self.started is not None else 0.0
            eta = None
            if self.started is not None and 0.02 <= self.fraction < 1.0:
                eta = elapsed * (1.0 - self.fraction) / self.fraction
            elif self.fraction >= 1.0:
                eta = 0.0
            return {
                "stage": self.stage,
                "count": self.count,
                "total": self.total,
                "percent": round(100.0 * self.fraction, 1),
                "elapsed_s": round(elapsed, 1),
                "eta_s": None if eta is None else round(eta, 1),
            }


@dataclass
class Job:
    """One conversion: its input, options, folder, state and results.

    ``status`` goes ``queued`` -> ``running`` -> ``done`` | ``failed`` (or ``cancelled``
    while still queued).
    """

    id: str
    source_id: str
    source_name: str
    input_path: Path
    options: JobOptions
    folder: Path
    status: str = "queued"
    error: str | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None
    summary: dict[str, Any] | None = None
    outputs: list[Path] = field(default_factory=list)
    extras: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    progress: JobProgress = field(default_factory=JobProgress)

    def to_json(self) -> dict[str, Any]:
        """What the page shows; files are named by index, never by server path."""
        return {
            "id": self.id,
            "source": self.source_id,
            "name": self.source_name,
            "options": dataclasses.asdict(self.options),
            "status": self.status,
            "error": self.error,
            "progress": self.progress.snapshot(),
            "outputs": [
                {"index": i, "name": p.name, "size": p.stat().st_size if p.exists() else 0}
                for i, p in enumerate(self.outputs)
            ],
            "extras": [
                {"index": len(self.outputs) + i, "name": p.name, "size": p.stat().st_size if p.exists() else 0}
                for i, p in enumerate(self.extras)
            ],
            "notes": list(self.notes),
        }

    def files(self) -> list[Path]:
        """Downloadable files: the outputs, then the extras (reports, renders)."""
        return [*self.outputs, *self.extras]


#: A step run after a successful conversion, in the worker: ``step(job)`` may write
#: extra files (an evaluation report, a spatial render) into ``job.folder`` and append
#: them to ``job.extras``. A step that raises adds a note; the job stays done.
PostStep = Callable[[Job], None]


def run_conversion(job: Job) -> dict[str, Any]:
    """Convert ``job.input_path`` into ``job.folder`` with the job's options."""
    from s2vg.convert import convert
    from s2vg.progress import Progress

    return convert(job.input_path, job.folder, progress=Progress(enabled=False, on_update=job.progress), **job.options.configs())


class QueueFull(OptionError):
    """Too many jobs are waiting."""


class JobQueue:
    """Runs jobs one at a time in a background thread.

    Args:
        runner: does the work of a job and returns its summary; defaults to
            :func:`run_conversion`.
        post_steps: run after each successful job (see :data:`PostStep`); defaults to none.
        max_queued: jobs waiting or running at once; a further submit raises :class:`QueueFull`.
    """

    def __init__(
        self,
        runner: Callable[[Job], dict[str, Any]] = run_conversion,
        post_steps: Sequence[PostStep] = (),
        max_queued: int = 16,
    ) -> None:
        self.runner = runner
        self.post_steps = tuple(post_steps)
        self.max_queued = max_queued
        self.jobs: dict[str, Job] = {}
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex[:12]

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="s2vg-jobs", daemon=True)
            self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the running job (queued ones stay queued)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def submit(self, job: Job) -> Job:
        with self._lock:
            active = sum(j.status in ("queued", "running") for j in self.jobs.values())
            if active >= self.max_queued:
                raise QueueFull(f"{active} jobs are already queued or running (limit {self.max_queued}); wait for one to finish")
            self.jobs[job.id] = job
        self._queue.put(job)
        return job

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued job; False when it is running or finished."""
        with self._lock:
            job = self.jobs.get(job_id)
            if job is None or job.status != "queued":
                return False
            job.status = "cancelled"
            job.finished = time.time()
            return True

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:
                if job.status != "queued":
                    continue
                job.status = "running"
            self._run(job)

    def _run(self, job: Job) -> None:
        job.progress.start()
        try:
            job.folder.mkdir(parents=True, exist_ok=True)
            job.summary = self.runner(job)
            job.outputs = [Path(p) for p in job.summary.get("outputs", [])]
        except S2VGError as exc:
            job.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - one job's bug must not stop the server
            log.exception("job %s failed", job.id)
            job.error = f"internal error ({type(exc).__name__}: {exc}); see the server log"
        if job.error is None:
            for step in self.post_steps:
                try:
                    step(job)
                except Exception as exc:  # noqa: BLE001 - extras are optional
                    log.exception("post step of job %s failed", job.id)
                    job.notes.append(f"{getattr(step, '__name__', 'extra step')} failed: {exc}")
            job.progress.finish()
        job.status = "failed" if job.error else "done"
        job.finished = time.time()
