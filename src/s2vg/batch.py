"""Converting many inputs at once: files, folders, glob patterns and lists of paths.

:func:`expand_inputs` turns what a user typed into inputs and output folders:

* a video or image file is one input; a folder of images is one input (an image sequence);
* a folder holding videos is a batch of them (``recursive``: its subfolders too, and each
  output goes into the same relative subfolder of the output folder);
* a glob pattern (``'clips/*.mp4'``, ``'**'`` with ``recursive``) is every match;
* a text file (``.txt`` or ``.lst``) lists paths, one a line (blank lines and lines
  starting with ``#`` are skipped; relative paths are relative to the list's folder).

:func:`run_batch` converts them (:func:`s2vg.convert.convert` semantics per input), skips
inputs whose outputs exist (unless ``overwrite``), goes on past failures when
``keep_going``, and returns a summary with one row per input. One plain input behaves as
:func:`s2vg.convert.convert` does (its errors are raised), except that existing outputs
are skipped unless ``overwrite``.
"""

from __future__ import annotations

import glob
import time
from dataclasses import dataclass
from pathlib import Path

from s2vg.config import BatchConfig, JobConfig
from s2vg.errors import InputError, OptionError, S2VGError
from s2vg.io.info import IMAGE_SUFFIXES, natural_key
from s2vg.progress import Progress

#: File suffixes taken as videos when a folder or a pattern is expanded.
VIDEO_SUFFIXES: tuple[str, ...] = (
    ".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".gif", ".mts", ".m2ts", ".ts", ".wmv", ".flv", ".mpg", ".mpeg",
)
#: File suffixes read as lists of paths.
LIST_SUFFIXES: tuple[str, ...] = (".txt", ".lst")

_GLOB_CHARS = set("*?[")


class BatchFailed(S2VGError):
    """Some inputs of a batch failed; the summary says which and why (exit code 1)."""

    exit_code = 1


@dataclass(frozen=True)
class BatchItem:
    """One input of a batch and the output folder it goes to (None: the user's output as given)."""

    input: Path
    subfolder: Path | None = None


def _videos_in(folder: Path, recursive: bool) -> list[Path]:
    files = folder.rglob("*") if recursive else folder.iterdir()
    found = [p for p in files if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES and not p.name.startswith(".")]
    return sorted(found, key=lambda p: [natural_key(Path(part)) for part in p.relative_to(folder).parts])


def _read_list(path: Path) -> list[str]:
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"list of inputs {str(path)!r} cannot be read ({exc}); give a text file with one path a line") from None
    entries = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            entry = Path(line).expanduser()
            entries.append(str(entry if entry.is_absolute() else path.parent / entry))
    return entries


def expand_inputs(inputs: list[str], recursive: bool = False) -> tuple[list[BatchItem], bool]:
    """Inputs as the user typed them -> the inputs to convert.

    Returns:
        ``(items, is_batch)``: ``is_batch`` is False only for one plain input (a file, an
        image folder, or a path that does not exist, which then fails as a single input).

    Raises:
        InputError: a pattern that matches nothing, an unreadable list, a folder with
            neither videos nor images.
    """
    items: list[BatchItem] = []
    batch = len(inputs) > 1
    for raw in inputs:
        path = Path(raw).expanduser()
        if not path.exists() and _GLOB_CHARS & set(raw):
            matches = sorted(glob.glob(raw, recursive=recursive), key=lambda m: natural_key(Path(m)))
            matches = [m for m in matches if Path(m).is_dir() or Path(m).suffix.lower() in VIDEO_SUFFIXES + IMAGE_SUFFIXES]
            if not matches:
                raise InputError(f"pattern {raw!r} matches no video or image; check the pattern (quote it so the shell does not expand it)")
            nested, _ = expand_inputs(matches, recursive)
            items += nested
            batch = True
        elif path.is_file() and path.suffix.lower() in LIST_SUFFIXES:
            nested, _ = expand_inputs(_read_list(path), recursive)
            items += nested
            batch = True
        elif path.is_dir():
            videos = _videos_in(path, recursive)
            if videos:
                items += [BatchItem(v, v.parent.relative_to(path)) for v in videos]
                batch = True
            elif any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir() if p.is_file()):
                items.append(BatchItem(path))  # an image sequence
            else:
                raise InputError(
                    f"input folder {str(path)!r} holds no video{' (also in subfolders)' if recursive else ''} and no image; "
                    "give video files, an image folder, or --recursive for videos in subfolders"
                )
        else:
            items.append(BatchItem(path))
    return items, batch


def _output_for(item: BatchItem, output: str | Path | None, is_batch: bool) -> str | Path | None:
    if not is_batch or output is None:
        return output
    folder = Path(output)
    return folder / item.subfolder if item.subfolder and str(item.subfolder) != "." else folder


def _row(outcome) -> dict:
    summary = outcome.summary or {}
    error = outcome.error
    reason = None
    if error is not None:
        reason = str(error) if isinstance(error, S2VGError) else f"{type(error).__name__}: {error}"
    elif outcome.status == "skipped":
        reason = "outputs exist (--overwrite converts again)"
    elif outcome.status == "not run":
        reason = "stopped after an earlier failure (--keep-going goes on)"
    return {
        "input": outcome.input,
        "status": outcome.status,
        "outputs": summary.get("outputs", outcome.outputs),
        "frames": summary.get("output_frames"),
        "seconds": round(outcome.seconds, 2),
        "reason": reason,
    }


def run_batch(
    inputs: list[str | Path],
    output: str | Path | None,
    *,
    batch: BatchConfig = BatchConfig(),
    job: JobConfig = JobConfig(),
    progress: Progress | None = None,
    **convert_options,
) -> dict:
    """Convert several inputs (see the module docstring).

    Args:
        inputs: files, folders, glob patterns or list files.
        output: an output folder for a batch (created when missing), or as
            :func:`s2vg.convert.convert` takes it for one input.
        batch: recursive, overwrite and keep-going.
        job: resume and executor (as :func:`s2vg.convert.convert`).
        progress: progress sink.
        convert_options: the keyword options of :func:`s2vg.convert.convert`
            (``config``, ``rig``, ``depth`` ...).

    Returns:
        For one plain input, the job summary of :func:`s2vg.convert.convert` (or
        ``{"skipped": True, ...}``). For a batch, ``{"command": "convert", "batch": True,
        "rows": [{input, status, outputs, frames, seconds, reason}], "done", "skipped",
        "failed", "not_run", "results": [job summaries]}``.

    Raises:
        the input's error for one plain input; OptionError for a file name as the output
        of a batch or two inputs with the same output.
    """
    from s2vg.config import OutputConfig
    from s2vg.convert import convert
    from s2vg.executors import JobOutcome, get_executor
    from s2vg.io.layouts import output_paths

    progress = progress or Progress(enabled=False)
    items, is_batch = expand_inputs([str(i) for i in inputs], batch.recursive)
    output_config: OutputConfig = convert_options.get("output_config", OutputConfig())
    suffix = "" if output_config.png_sequence else None
    if is_batch and output is not None and Path(output).suffix and not Path(output).is_dir():
        raise OptionError(f"several inputs need an output folder, but -o {str(output)!r} names a file; give a folder")
    planned: dict[Path, Path] = {}
    targets = []
    for item in items:
        out = _output_for(item, output, is_batch)
        paths = output_paths(item.input, out, output_config.layout, suffix=suffix)
        for path in paths:
            key = path.resolve()
            if key in planned:
                raise OptionError(f"inputs {str(planned[key])!r} and {str(item.input)!r} would both write {str(path)!r}; "
                                  "convert them into different output folders")
            planned[key] = item.input
        targets.append((item, out, paths))
    if not is_batch:
        item, out, paths = targets[0]
        if not batch.overwrite and all(p.exists() for p in paths):
            return {"command": "convert", "input": str(item.input), "outputs": [str(p) for p in paths], "skipped": True,
                    "reason": "outputs exist (--overwrite converts again)"}
        return convert(item.input, out, progress=progress, job=job, **convert_options)

    if output is not None:
        Path(output).mkdir(parents=True, exist_ok=True)
    from s2vg.jobs.job import prepare_job

    executor = get_executor(job)
    outcomes: list[JobOutcome] = []
    specs, spec_outcomes = [], []
    stop = False
    for item, out, paths in targets:
        outcome = JobOutcome(input=str(item.input), outputs=[str(p) for p in paths])
        outcomes.append(outcome)
        if stop:
            continue
        if not batch.overwrite and all(p.exists() for p in paths):
            outcome.status = "skipped"
            continue
        began = time.perf_counter()
        try:
            if out is not None:
                Path(out).mkdir(parents=True, exist_ok=True)
            specs.append(prepare_job(item.input, out, job=job, **_job_options(convert_options)))
            spec_outcomes.append(outcome)
        except Exception as exc:  # noqa: BLE001 - a bad input fails alone
            outcome.status, outcome.error, outcome.seconds = "failed", exc, time.perf_counter() - began
            stop = not batch.keep_going
    if specs and not stop:
        for outcome, ran in zip(spec_outcomes, executor.run(specs, progress, batch.keep_going, job.keep_state)):
            outcome.status, outcome.summary, outcome.error, outcome.seconds = ran.status, ran.summary, ran.error, ran.seconds
    rows = [_row(o) for o in outcomes]
    counts = {status: sum(r["status"] == status for r in rows) for status in ("done", "skipped", "failed", "not run")}
    return {
        "command": "convert",
        "batch": True,
        "executor": executor.name,
        "rows": rows,
        "done": counts["done"],
        "skipped": counts["skipped"],
        "failed": counts["failed"],
        "not_run": counts["not run"],
        "results": [o.summary for o in outcomes if o.summary is not None],
    }


def _job_options(convert_options: dict) -> dict:
    """The keyword options of :func:`~s2vg.jobs.job.prepare_job`, with the defaults of :func:`~s2vg.convert.convert`."""
    from s2vg.config import ConvertConfig, DepthConfig, DepthStageConfig, OutputConfig, StereoConfig
    from s2vg.convert import RigRequest

    unknown = set(convert_options) - {"config", "rig", "depth", "depth_stage", "stereo", "output_config", "inpainter_options"}
    if unknown:
        raise TypeError(f"run_batch() got unexpected keyword arguments {sorted(unknown)}")
    o = convert_options
    return dict(
        config=o.get("config", ConvertConfig()), rig=o.get("rig", RigRequest()), depth=o.get("depth", DepthConfig()),
        depth_stage=o.get("depth_stage", DepthStageConfig()), stereo=o.get("stereo", StereoConfig()),
        output_config=o.get("output_config", OutputConfig()), inpainter_options=o.get("inpainter_options"),
    )


def format_table(summary: dict) -> str:
    """The batch summary as a text table: one row per input, then the counts."""
    rows = summary["rows"]
    header = ("status", "input", "frames", "seconds", "output / reason")
    lines = [[r["status"], r["input"], "" if r["frames"] is None else str(r["frames"]), f"{r['seconds']:.1f}",
              r["reason"] if r["reason"] else ", ".join(r["outputs"])] for r in rows]
    widths = [max(len(header[i]), *(len(line[i]) for line in lines)) if lines else len(header[i]) for i in range(4)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header[:4], widths)) + "  " + header[4]]
    out += ["  ".join(c.ljust(w) for c, w in zip(line[:4], widths)) + "  " + line[4] for line in lines]
    out.append(f"{summary['done']} done, {summary['skipped']} skipped, {summary['failed']} failed"
               + (f", {summary['not_run']} not run" if summary["not_run"] else ""))
    return "\n".join(out)
