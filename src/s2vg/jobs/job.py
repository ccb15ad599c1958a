"""A conversion job: everything a worker needs to run one stage of it, and its state folder.

:func:`prepare_job` checks everything that can fail without decoding (input, options,
weights, output folder), resolves ``auto`` choices once (so every worker of a cluster
builds the same estimator and inpainter), opens the state folder (starting it, resuming
it, or refusing a mismatching one) and returns a :class:`JobSpec`. A spec is plain,
picklable data; the stages in :mod:`s2vg.jobs.depth_pass`, :mod:`s2vg.jobs.render` and
:mod:`s2vg.jobs.assemble` take it and build their models through :func:`cached_model`.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from s2vg.config import (
    ConvertConfig,
    DepthConfig,
    DepthStageConfig,
    JobConfig,
    OutputConfig,
    RigConfig,
    StereoConfig,
)
from s2vg.errors import InputError, OptionError, OutputError
from s2vg.io.info import IMAGE_SUFFIXES, VideoInfo
from s2vg.jobs.identity import describe_mismatch, input_identity
from s2vg.jobs.state import JobState, state_dir_for

#: Version of the state folder's layout; a job of another version is not resumed.
STATE_VERSION = 1

#: Video writer options that apply to the finished file, not to a segment's stream.
_WHOLE_FILE_OPTIONS = frozenset({"audio_source", "spherical", "metadata"})

#: Video container suffixes whose chunks are encoded as segments and joined by packet copy.
SEGMENT_VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv")


@dataclass(frozen=True)
class JobSpec:
    """One conversion, resolved: the input, the outputs, every option, the plan.

    Attributes:
        input_path: the input video, image folder or image.
        info: its :class:`~s2vg.io.VideoInfo`.
        outputs: output files (or PNG folders), in the order of the layout's streams.
        config, rig, depth, depth_stage, stereo, output_config: the options as given.
        inpainter: the resolved inpainter name (``auto`` decided) and ``inpainter_options``.
        views: views V of the frame matrix.
        depth_source: ``"estimator"`` or ``"file"``.
        estimator: the resolved estimator name for ``build``; None for a depth file.
        stabilize: whether temporal stabilisation runs.
        window: stabilisation context on each side in frames (0 when not stabilising).
        planned_frames: frames the header promises (after ``max_frames``).
        state_dir: the job's state folder.
        video_options: encoder options of video outputs (codec, crf, preset, frame packing).
        audio_source: where audio comes from (the input video), or None.
        resumed: the state folder of an interrupted run is being continued.
        planned_chunk_frames: the chunk size N of the plan: as given, else the largest the
            memory budget allows (:func:`s2vg.jobs.memory.choose_chunk_frames`), else (on
            resume) the one the job started with.
        memory_budget: the budget in bytes the chunk was chosen for; None when given.
    """

    input_path: Path
    info: VideoInfo
    outputs: tuple[Path, ...]
    config: ConvertConfig
    rig: Any  # s2vg.convert.RigRequest (kept untyped here to avoid an import cycle)
    depth: DepthConfig
    depth_stage: DepthStageConfig
    stereo: StereoConfig
    output_config: OutputConfig
    inpainter: str
    inpainter_options: dict
    views: int
    depth_source: str
    estimator: str | None
    stabilize: bool
    window: int
    planned_frames: int
    state_dir: Path
    video_options: dict = field(default_factory=dict)
    audio_source: Path | None = None
    resumed: bool = False
    planned_chunk_frames: int = 0
    memory_budget: int | None = None

    @property
    def segment_options(self) -> dict:
        """Encoder options of one segment: those of the output less what only the whole file carries."""
        return {k: v for k, v in self.video_options.items() if k not in _WHOLE_FILE_OPTIONS}

    @property
    def state(self) -> JobState:
        return JobState(self.state_dir)

    @property
    def chunk_frames(self) -> int:
        return self.planned_chunk_frames or self.config.chunk_frames

    def chunk_span(self, chunk: int, frames: int) -> tuple[int, int]:
        """Frames ``[start, stop)`` of ``chunk`` in a video of ``frames`` frames."""
        start = chunk * self.chunk_frames
        return start, min(frames, start + self.chunk_frames)

    def chunks(self, frames: int) -> int:
        """Number of chunks of a video of ``frames`` frames."""
        return -(-frames // self.chunk_frames)

    @property
    def video_output(self) -> bool:
        return self.outputs[0].suffix.lower() in SEGMENT_VIDEO_SUFFIXES

    @property
    def segmented(self) -> bool:
        """Chunks become segment files joined at the end; False for MV-HEVC, whose x265
        encoder takes the whole video in one stream (pass 2 then restarts on resume)."""
        return self.output_config.layout != "mv-hevc"

    @property
    def focal(self) -> float:
        """The rig's focal length in pixels (given, or the default for the width)."""
        from s2vg.geometry.rig import default_focal

        return self.rig.focal if self.rig.focal is not None else default_focal(self.info.width)

    @property
    def segment_suffix(self) -> str:
        """Suffix of segment files: the output's for video, '' (a PNG folder) for images."""
        return self.outputs[0].suffix.lower() if self.video_output else ""

    def options(self) -> dict:
        """Every option that shapes the output, as JSON-able data (compared on resume)."""
        from s2vg import __version__

        convert = dataclasses.asdict(self.config)
        convert.pop("memory_budget")  # shapes only the chunk size, which the plan records
        return {
            "s2vg_version": __version__,
            "convert": convert,
            "rig": dataclasses.asdict(self.rig),
            "depth": dataclasses.asdict(self.depth),
            "depth_stage": dataclasses.asdict(self.depth_stage),
            "stereo": dataclasses.asdict(self.stereo),
            "output": dataclasses.asdict(self.output_config),
            "inpainter": self.inpainter,
            "inpainter_options": {k: repr(v) for k, v in sorted(self.inpainter_options.items())},
            "views": self.views,
            "estimator": self.estimator,
            "outputs": [str(p.resolve()) for p in self.outputs],
        }


# ------------------------------------------------------------------ models, built once per process

_MODELS: dict[tuple, Any] = {}
#: What a request (``auto`` ...) resolved to in this process: request -> (model key, name, options).
_RESOLVED: dict[tuple, tuple] = {}


def _forget_kind(kind: str) -> None:
    for old in [k for k in _MODELS if k[0] == kind]:
        del _MODELS[old]


def cached_model(key: tuple, build: Callable[[], Any]) -> Any:
    """The model built by ``build`` for ``key``, built at most once per process.

    Only the most recent model of each kind (``key[0]``) is kept, so a batch with one set
    of options builds its estimator and inpainter once, and memory holds one of each.
    """
    if key not in _MODELS:
        _forget_kind(key[0])
        _MODELS[key] = build()
    return _MODELS[key]


def build_estimator(spec: JobSpec):
    """The depth estimator of a job (cached per process)."""
    from s2vg.depth.stage import build_depth_estimator

    stage = dataclasses.replace(spec.depth_stage, estimator=spec.estimator)
    key = ("estimator", spec.estimator, stage.model_path, stage.device, stage.batch_size)
    return cached_model(key, lambda: build_depth_estimator(stage))


def build_inpainter(spec: JobSpec):
    """The inpainter of a job (cached per process)."""
    from s2vg.inpaint.base import get_inpainter

    key = ("inpainter", spec.inpainter, repr(sorted(spec.inpainter_options.items())))
    return cached_model(key, lambda: get_inpainter(spec.inpainter, **spec.inpainter_options))


# ------------------------------------------------------------------ preparing a job


def prepare_job(
    input_path: str | Path,
    output: str | Path | None,
    *,
    config: ConvertConfig,
    rig: Any,
    depth: DepthConfig,
    depth_stage: DepthStageConfig,
    stereo: StereoConfig,
    output_config: OutputConfig,
    inpainter_options: dict | None,
    job: JobConfig,
) -> JobSpec:
    """Check a conversion, resolve its choices and open its state folder.

    Everything that can fail without decoding fails here, before any work: a missing or
    unreadable input, impossible options, missing weights, an output folder that does not
    exist, a state folder that belongs to another input or other options (with ``resume``).

    Raises:
        InputError, OptionError, MissingWeightsError, OutputError: one-line messages.
    """
    from s2vg.convert import DEFAULT_VIEWS, DEFAULT_VIEWS_OTHERWISE, choose_inpainter
    from s2vg.io import probe
    from s2vg.io.depth_files import is_depth_path
    from s2vg.io.layouts import frame_packing_for, output_paths, spherical_metadata_for

    info = probe(input_path)
    inpainter_options = dict(inpainter_options or {})
    request = ("inpainter", config.inpainter, repr(sorted(inpainter_options.items())))
    entry = _RESOLVED.get(request)
    if entry is None or entry[0] not in _MODELS:
        built, name = choose_inpainter(config.inpainter, inpainter_options)
        # The options are the diffusion inpainter's; the others are built without any (as choose_inpainter does).
        options = inpainter_options if name == "svg" else {}
        key = ("inpainter", name, repr(sorted(options.items())))
        _forget_kind("inpainter")
        _MODELS[key] = built
        entry = _RESOLVED[request] = (key, name, options)
    _, inpainter_name, inpainter_options = entry
    views = rig.views or DEFAULT_VIEWS.get(inpainter_name, DEFAULT_VIEWS_OTHERWISE)
    literal_baseline = rig.baseline if rig.baseline is not None else RigConfig.baseline
    RigConfig(mode=rig.mode, views=views, baseline=literal_baseline, focal=rig.focal)  # validates early
    if rig.mode == "circle":
        raise OptionError("mode circle makes no stereo pair; use left2right, right2left or middle2leftright (circle is for `s2vg spatial`)")
    file_depth = is_depth_path(config.depth)
    if not file_depth and depth.kind != "relative":
        raise OptionError(f"--depth-kind {depth.kind} describes a depth file, but --depth {config.depth!r} is a model; give a depth file")
    estimator_name = None
    consistent = False
    if not file_depth:
        from s2vg.depth.stage import build_depth_estimator

        request = ("estimator", config.depth, depth_stage.model_path, depth_stage.device, depth_stage.batch_size)
        entry = _RESOLVED.get(request)
        if entry is None or entry[0] not in _MODELS:
            estimator = build_depth_estimator(dataclasses.replace(depth_stage, estimator=config.depth))
            # Workers rebuild it by its resolved name, so `auto` cannot resolve differently elsewhere.
            name = estimator.name if depth_stage.model_path is None else config.depth
            key = ("estimator", name, depth_stage.model_path, depth_stage.device, depth_stage.batch_size)
            _forget_kind("estimator")
            _MODELS[key] = estimator
            entry = _RESOLVED[request] = (key, name, {})
        estimator_name, consistent = entry[1], _MODELS[entry[0]].temporally_consistent
    planned = info.frames if config.max_frames is None else min(info.frames, config.max_frames)
    stabilize = depth.kind == "relative" and depth_stage.stabilize and not consistent and planned > 1
    paths = output_paths(input_path, output, output_config.layout, suffix="" if output_config.png_sequence else None)
    if output is not None and not Path(output).suffix and Path(output).parent.is_dir():
        Path(output).mkdir(exist_ok=True)  # a folder for player-named outputs
    for path in paths:
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise OutputError(f"output folder {str(parent)!r} does not exist; create it or choose another output")
    video_options = dict(
        codec=output_config.codec,
        crf=output_config.crf,
        preset=output_config.preset,
        frame_packing=frame_packing_for(output_config.layout),
    )
    spherical = spherical_metadata_for(output_config.layout)
    if spherical is not None:
        if paths[0].suffix.lower() not in (".mp4", ".mov", ".m4v"):
            raise OptionError(f"video output {str(paths[0])!r}: VR180 metadata is written for MP4/MOV; use a .mp4 or .mov name")
        video_options["spherical"] = spherical
    if output_config.layout == "mv-hevc":
        from s2vg.io.mvhevc import require_multiview_encoder

        require_multiview_encoder()  # a one-line OptionError naming what to install, before any work
    spec = JobSpec(
        input_path=Path(input_path),
        info=info,
        outputs=tuple(paths),
        config=config,
        rig=rig,
        depth=depth,
        depth_stage=depth_stage,
        stereo=stereo,
        output_config=output_config,
        inpainter=inpainter_name,
        inpainter_options=inpainter_options,
        views=views,
        depth_source="file" if file_depth else "estimator",
        estimator=estimator_name,
        stabilize=stabilize,
        window=depth_stage.window if stabilize else 0,
        planned_frames=planned,
        state_dir=state_dir_for(paths[0]),
        video_options=video_options,
        audio_source=info.path if info.kind == "video" else None,
    )
    spec = plan_chunks(spec, resume=job.resume)
    if paths[0].suffix.lower() in IMAGE_SUFFIXES and planned > 1:
        raise InputError(
            f"image output {str(paths[0])!r} holds one frame but the input has {planned}; "
            "write a video (.mp4) or a folder of PNGs instead"
        )
    resumed = open_state(spec, resume=job.resume)
    return dataclasses.replace(spec, resumed=resumed)


def output_pixels_ratio(spec: JobSpec) -> float:
    """Output pixels (all files of the layout) per input pixel: 2 for full SBS, 1 for anaglyph."""
    from s2vg.io.layouts import output_size

    out_w, out_h = output_size(spec.info.width, spec.info.height, spec.output_config.layout, focal=spec.focal)
    return out_w * out_h * len(spec.outputs) / (spec.info.width * spec.info.height)


def plan_chunks(spec: JobSpec, resume: bool) -> JobSpec:
    """``spec`` with its chunk size decided: given, resumed, or chosen from the memory budget.

    Raises:
        OptionError: the budget is below what one frame per chunk needs (names the minimum).
    """
    from s2vg.jobs.memory import choose_chunk_frames, default_memory_budget, job_peak_bytes

    if spec.config.chunk_frames is not None:
        return dataclasses.replace(spec, planned_chunk_frames=spec.config.chunk_frames)
    if resume and spec.state.exists():
        # Resume with the chunk the job started with, whatever memory is free now.
        try:
            planned = int(spec.state.load_manifest()["plan"]["chunk_frames"])
        except (OSError, ValueError, KeyError, TypeError):
            planned = 0
        if planned > 0:
            return dataclasses.replace(spec, planned_chunk_frames=planned, memory_budget=spec.config.memory_budget)
    shape = dict(views=spec.views, context_frames=spec.config.context_frames, window=spec.window,
                 output_pixels_ratio=output_pixels_ratio(spec))
    budget = spec.config.memory_budget
    if budget is None:
        budget = default_memory_budget(job_peak_bytes(spec.info.height, spec.info.width, chunk_frames=1, **shape))
    chosen = choose_chunk_frames(spec.info.height, spec.info.width, budget=budget, **shape)
    return dataclasses.replace(spec, planned_chunk_frames=chosen, memory_budget=budget)


def _depth_file_identity(spec: JobSpec) -> dict | None:
    if spec.depth_source != "file":
        return None
    path = Path(str(spec.config.depth).rsplit(".npz:", 1)[0] + (".npz" if ".npz:" in str(spec.config.depth) else ""))
    if path.is_dir():
        from s2vg.io.info import natural_key

        files = tuple(sorted((p for p in path.iterdir() if p.is_file()), key=natural_key))
        return input_identity(path, 0.0, len(files), files)
    return input_identity(path, 0.0, 0)


def _first_difference(old: Any, new: Any, prefix: str = "") -> str | None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            found = _first_difference(old.get(key), new.get(key), f"{prefix}{key}.")
            if found:
                return found
        return None
    return None if old == new else f"{prefix[:-1]} was {old!r}, now {new!r}"


def open_state(spec: JobSpec, resume: bool) -> bool:
    """Start, resume or refuse the job's state folder; returns True when resuming.

    Raises:
        InputError: ``resume`` and the state was made from another input (or depth file).
        OptionError: ``resume`` and the state was made with other options.
    """
    state = spec.state
    identity = input_identity(spec.input_path, spec.info.duration, spec.info.frames, spec.info.files)
    depth_identity = _depth_file_identity(spec)
    options = spec.options()
    if state.exists():
        try:
            manifest = state.load_manifest()
        except (OSError, ValueError):
            manifest = None
        if resume and manifest is not None and not manifest.get("progress", {}).get("complete"):
            where = f"cannot resume {spec.outputs[0]}: its job state {str(state.folder)!r}"
            if manifest.get("state_version") != STATE_VERSION:
                raise OptionError(f"{where} has layout version {manifest.get('state_version')}, this s2vg writes {STATE_VERSION}; run without --resume to start over")
            mismatch = describe_mismatch(manifest.get("input", {}), identity)
            if manifest.get("input", {}).get("path") != identity["path"]:
                mismatch = f"it was started on {manifest.get('input', {}).get('path')!r}"
            if mismatch:
                raise InputError(f"{where} was made from another input ({spec.input_path}: {mismatch}); run without --resume to start over")
            if depth_identity is not None and describe_mismatch(manifest.get("depth_file") or {}, depth_identity):
                raise InputError(f"{where} was made with another depth file ({spec.config.depth}: "
                                 f"{describe_mismatch(manifest.get('depth_file') or {}, depth_identity)}); run without --resume to start over")
            difference = _first_difference(manifest.get("options", {}), options)
            if difference:
                raise OptionError(f"{where} used other options ({difference}); give the same options, or run without --resume to start over")
            return True
        unfinished = manifest is not None and not manifest.get("progress", {}).get("complete")
        if unfinished and not resume:
            warnings.warn(f"discarding the unfinished job state {str(state.folder)!r} (--resume would have continued it)", stacklevel=3)
        state.remove()
    state.save_manifest(
        {
            "state_version": STATE_VERSION,
            "input": identity,
            "depth_file": depth_identity,
            "options": options,
            "plan": {"chunk_frames": spec.chunk_frames, "context_frames": spec.config.context_frames, "window": spec.window},
            "progress": {"depth_chunks": 0, "depth_done": False, "frames": None, "chunks": None, "segments": []},
        }
    )
    return False


def update_progress(spec: JobSpec, **changes: Any) -> None:
    """Record progress in the manifest (what ``--resume`` and progress pollers read)."""
    state = spec.state
    manifest = state.load_manifest()
    manifest["progress"].update(changes)
    state.save_manifest(manifest)
