"""The Ray executor: jobs and the chunks of each job as Ray tasks; progress shown by the driver.

Per job: one task runs the depth pass (it is sequential: the estimator and the shot-cut
detector carry state from chunk to chunk), then one task per chunk renders and encodes
that chunk (chunks are independent, so they spread over the cluster), then one task joins
the segments. Every task reads and writes the job's state folder, so on a multi-machine
cluster the inputs, outputs and state folders must be on storage all nodes share (the
same paths everywhere). Tasks that run a learned model (Depth Anything, the diffusion
inpainter) request GPUs from Ray.

Results are identical to the local executor's: each chunk is a pure function of files in
the state folder and of the input, whatever process runs it.

Ray is imported only here, and only when ``--executor ray`` is asked for; it is the
optional extra ``pip install "s2vg[ray]"``.
"""

from __future__ import annotations

import os
import time
from typing import Any

from s2vg.errors import OptionError
from s2vg.executors.base import (
    JobOutcome,
    add_seconds,
    depth_task,
    direct_task,
    discard_state_after,
    finish_task,
    render_task,
)
from s2vg.jobs.job import JobSpec
from s2vg.progress import Progress

#: Seconds between two looks at the state folders for depth-pass progress.
_POLL_SECONDS = 0.5


def _import_ray():
    try:
        import ray
    except ImportError:
        raise OptionError('--executor ray needs Ray, which is not installed; pip install "s2vg[ray]" (or pip install ray)') from None
    return ray


def _call(fn, *args):
    """The one remote function: runs a stage task in a Ray worker."""
    return fn(*args)


class RayExecutor:
    """Runs jobs as Ray tasks.

    Args:
        address: the Ray cluster to connect to; defaults to None (``RAY_ADDRESS`` if set,
            else a new local Ray instance, shut down again when the run ends).
        gpus: GPUs requested by each task that runs a learned model; defaults to None
            (1 when the cluster has GPUs, else 0).
    """

    name = "ray"

    def __init__(self, address: str | None = None, gpus: float | None = None) -> None:
        self.ray = _import_ray()
        self.address = address
        self.gpus = gpus

    def _connect(self) -> bool:
        """Connect (or start a local instance); True when this call started it."""
        ray = self.ray
        if ray.is_initialized():
            return False
        address = self.address or os.environ.get("RAY_ADDRESS") or None
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level="error")
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise OptionError(f"cannot reach the Ray cluster at {address!r} ({exc}); check --ray-address or RAY_ADDRESS") from None
        return True

    def _gpus_for(self, uses_model: bool) -> float:
        if not uses_model:
            return 0.0
        if self.gpus is not None:
            return float(self.gpus)
        return 1.0 if self.ray.cluster_resources().get("GPU", 0) > 0 else 0.0

    def run(self, specs: list[JobSpec], progress: Progress, keep_going: bool, keep_state: bool = False) -> list[JobOutcome]:
        """Run every job on Ray; a failure cancels the rest unless ``keep_going``."""
        started = self._connect()
        try:
            return _Run(self, specs, progress, keep_going, keep_state).loop()
        finally:
            if started:
                self.ray.shutdown()

    def run_one(self, spec: JobSpec, progress: Progress, keep_state: bool = False) -> dict:
        """Run one job; returns its summary or raises its error (as the local executor)."""
        outcome = self.run([spec], progress, keep_going=False, keep_state=keep_state)[0]
        if outcome.error is not None:
            raise outcome.error
        assert outcome.summary is not None
        return outcome.summary


class _Run:
    """The driver's event loop over the tasks of all jobs."""

    def __init__(self, executor: RayExecutor, specs: list[JobSpec], progress: Progress, keep_going: bool, keep_state: bool) -> None:
        self.ray = executor.ray
        self.executor = executor
        self.specs = specs
        self.progress = progress
        self.keep_going = keep_going
        self.keep_state = keep_state
        self.remote = self.ray.remote(_call)
        self.outcomes = [JobOutcome(input=str(s.input_path), outputs=[str(p) for p in s.outputs]) for s in specs]
        self.owner: dict[Any, tuple[int, str]] = {}  # task -> (job, kind)
        self.results: dict[int, Any] = {}
        self.chunks_left: dict[int, int] = {}
        self.seconds: dict[int, dict[str, float]] = {i: {} for i in range(len(specs))}
        self.begin: dict[int, float] = {}
        self.depth_seen: dict[int, int] = {}

    def submit(self, job: int, kind: str, fn, *args, gpus: float = 0.0) -> None:
        ref = self.remote.options(num_gpus=gpus, num_cpus=1).remote(fn, *args)
        self.owner[ref] = (job, kind)

    def start(self, job: int) -> None:
        spec = self.specs[job]
        self.begin[job] = time.perf_counter()
        uses_model = spec.estimator is not None and spec.estimator != "heuristic"
        self.submit(job, "depth", depth_task, spec, gpus=self.executor._gpus_for(uses_model))

    def fail(self, job: int, error: BaseException) -> None:
        outcome = self.outcomes[job]
        outcome.status, outcome.error = "failed", error
        outcome.seconds = time.perf_counter() - self.begin.get(job, time.perf_counter())
        for ref, (owner, _) in list(self.owner.items()):
            if owner == job:
                self.ray.cancel(ref)
                del self.owner[ref]
        if discard_state_after(error):
            self.specs[job].state.remove()

    def poll_depth(self, bar) -> None:
        """Depth progress of running depth passes, read from their manifests."""
        for job, spec in enumerate(self.specs):
            if job in self.results or self.outcomes[job].status != "not run":
                continue
            try:
                done = spec.state.load_manifest()["progress"].get("depth_chunks", 0) * spec.chunk_frames
            except (OSError, ValueError, KeyError):
                continue
            done = min(done, spec.planned_frames)
            if done > self.depth_seen.get(job, 0):
                bar.update(done - self.depth_seen.get(job, 0))
                self.depth_seen[job] = done

    def handle(self, ref, depth_bar, stereo_bar) -> None:
        from s2vg.jobs.render import pending_chunks, record_segment

        job, kind = self.owner.pop(ref)
        spec = self.specs[job]
        try:
            value = self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            self.fail(job, cause if isinstance(cause, BaseException) else exc)
            return
        except self.ray.exceptions.RayError as exc:
            self.fail(job, exc)
            return
        if kind == "depth":
            result, seconds = value
            add_seconds(self.seconds[job], seconds)
            self.results[job] = result
            depth_bar.update(max(0, result.frames - self.depth_seen.get(job, 0)))
            if not spec.segmented:
                self.chunks_left[job] = 1
                self.submit(job, "render", direct_task, spec, gpus=self.executor._gpus_for(spec.inpainter == "svg"))
                return
            pending = pending_chunks(spec, result)
            stereo_bar.update(result.frames - sum(min(result.frames, (k + 1) * spec.chunk_frames) - k * spec.chunk_frames for k in pending))
            self.chunks_left[job] = len(pending)
            gpus = self.executor._gpus_for(spec.inpainter == "svg")
            for chunk in pending:
                self.submit(job, "render", render_task, spec, chunk, gpus=gpus)
            if not pending:
                self.submit(job, "finish", finish_task, spec)
        elif kind == "render":
            if "chunk" in value:
                record_segment(spec, value["chunk"])
            add_seconds(self.seconds[job], value["seconds"])
            stereo_bar.update(value["frames"])
            self.chunks_left[job] -= 1
            if self.chunks_left[job] == 0:
                if spec.segmented:
                    self.submit(job, "finish", finish_task, spec)
                else:
                    self.finished(job, 0.0)
        else:
            self.finished(job, value)

    def finished(self, job: int, assemble_seconds: float) -> None:
        from s2vg.jobs.job import update_progress
        from s2vg.jobs.summary import job_summary

        spec = self.specs[job]
        if assemble_seconds:
            self.seconds[job]["assemble"] = assemble_seconds
        if self.keep_state:
            update_progress(spec, complete=True)
        else:
            spec.state.remove()
        self.seconds[job].pop("render", None)
        total = time.perf_counter() - self.begin[job]
        outcome = self.outcomes[job]
        outcome.summary = job_summary(spec, self.results[job], self.seconds[job], total, "ray", self.keep_state)
        outcome.status, outcome.seconds = "done", total
        add_seconds(self.progress.seconds, self.seconds[job])

    def loop(self) -> list[JobOutcome]:
        total = sum(s.planned_frames for s in self.specs)
        with self.progress.stage("depth pass", total=total, unit="frame") as depth_bar, \
                self.progress.stage("stereo", total=total, unit="frame") as stereo_bar:
            for job in range(len(self.specs)):
                self.start(job)
            while self.owner:
                ready, _ = self.ray.wait(list(self.owner), num_returns=1, timeout=_POLL_SECONDS)
                if ready:
                    more, _ = self.ray.wait([r for r in self.owner if r not in ready], num_returns=len(self.owner) - len(ready), timeout=0)
                    ready = ready + more
                self.poll_depth(depth_bar)
                for ref in ready:
                    if ref in self.owner:
                        self.handle(ref, depth_bar, stereo_bar)
                if not self.keep_going and any(o.status == "failed" for o in self.outcomes):
                    for ref in list(self.owner):
                        self.ray.cancel(ref)
                    self.owner.clear()
        return self.outcomes
