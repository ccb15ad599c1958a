"""Where the tasks of conversion jobs run: this process (``local``) or a Ray cluster (``ray``).

Both run the same stage tasks (:mod:`s2vg.executors.base`) over the same state folders,
so they give identical outputs. Ray is imported only when the ``ray`` executor is built.
"""

from __future__ import annotations

from s2vg.config import JobConfig
from s2vg.executors.base import JobOutcome
from s2vg.executors.local import LocalExecutor


def get_executor(job: JobConfig = JobConfig()):
    """The executor ``job.executor`` names (``LocalExecutor`` or ``RayExecutor``).

    Raises:
        OptionError: ``ray`` asked for but not installed.
    """
    if job.executor == "ray":
        from s2vg.executors.ray import RayExecutor

        return RayExecutor(address=job.ray_address, gpus=job.ray_gpus)
    return LocalExecutor()


__all__ = ["JobOutcome", "LocalExecutor", "get_executor"]
