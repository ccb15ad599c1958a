"""Conversion jobs that stream a video of any length in bounded memory and survive interruption.

A job runs in two passes over the input (:mod:`.depth_pass`, :mod:`.render`) and a final
join (:mod:`.assemble`); its intermediate results live in a state folder next to the output
(:mod:`.state`) with a manifest of the input's identity and the options (:mod:`.job`), so
``s2vg convert --resume`` continues where an interrupted run stopped and gives the same
output. :mod:`.memory` states the memory bound.
"""

from s2vg.jobs.job import JobSpec, prepare_job
from s2vg.jobs.memory import choose_chunk_frames, memory_bound, parse_size
from s2vg.jobs.state import JobState, state_dir_for

__all__ = ["JobSpec", "JobState", "choose_chunk_frames", "memory_bound", "parse_size", "prepare_job", "state_dir_for"]
