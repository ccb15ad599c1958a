"""The local executor: jobs one after another in this process, chunks from one sequential decode."""

from __future__ import annotations

import time

from s2vg.executors.base import JobOutcome, add_seconds, depth_task, discard_state_after
from s2vg.jobs.job import JobSpec
from s2vg.progress import Progress


class LocalExecutor:
    """Runs jobs in this process, showing progress bars through ``progress``."""

    name = "local"

    def run_one(self, spec: JobSpec, progress: Progress, keep_state: bool = False) -> dict:
        """Run one job to its end; returns its summary (exceptions propagate).

        The state folder is removed when the outputs are complete (unless ``keep_state``)
        and after a failure that a resume cannot fix (bad input or options).
        """
        from s2vg.jobs.assemble import assemble
        from s2vg.jobs.job import update_progress
        from s2vg.jobs.render import pending_chunks, render_chunks, render_direct
        from s2vg.jobs.summary import job_summary

        start = time.perf_counter()
        seconds: dict[str, float] = {}
        try:
            result, depth_seconds = depth_task(spec, progress)
            add_seconds(seconds, depth_seconds)
            stages = Progress(enabled=False)
            with progress.stage("stereo", total=result.frames, unit="frame") as bar:
                if spec.segmented:
                    pending = pending_chunks(spec, result)
                    bar.update(result.frames - sum(min(result.frames, (k + 1) * spec.chunk_frames) - k * spec.chunk_frames for k in pending))
                    render_chunks(spec, pending, stages, bar, record=True)
                else:
                    render_direct(spec, stages, bar)
            if spec.segmented:
                with stages.timer("assemble"):
                    assemble(spec, result)
            add_seconds(seconds, stages.seconds)
            add_seconds(progress.seconds, stages.seconds)
        except Exception as exc:
            if discard_state_after(exc):
                spec.state.remove()
            raise
        if keep_state:
            update_progress(spec, complete=True)
        else:
            spec.state.remove()
        return job_summary(spec, result, seconds, time.perf_counter() - start, self.name, keep_state)

    def run(self, specs: list[JobSpec], progress: Progress, keep_going: bool, keep_state: bool = False) -> list[JobOutcome]:
        """Run jobs in order; a failure stops the rest unless ``keep_going``."""
        outcomes = [JobOutcome(input=str(s.input_path), outputs=[str(p) for p in s.outputs]) for s in specs]
        for spec, outcome in zip(specs, outcomes):
            began = time.perf_counter()
            try:
                outcome.summary = self.run_one(spec, progress, keep_state)
                outcome.status = "done"
            except Exception as exc:  # noqa: BLE001 - one failing input must not stop a batch
                outcome.status, outcome.error = "failed", exc
            outcome.seconds = time.perf_counter() - began
            if outcome.status == "failed" and not keep_going:
                break
        return outcomes
