"""Pass 1 of a streamed job: depth for the whole video, one chunk at a time, resumable.

The video is decoded once, in chunks of ``N`` frames. Per chunk:

1. *Estimate* inverse depth, continuing the estimator's state (the weight-free estimator
   carries its accumulated parallax evidence across chunks; per-frame models carry none),
   and feed the streaming shot-cut detector. The raw depth is kept at float16 precision
   (float32 where values exceed float16's range) and written to ``raw/k.npz``.
2. *Stabilise* a chunk as soon as ``w`` frames after it are estimated: the stabiliser sees
   the chunk plus ``w`` frames of context on each side (clipped at shot cuts), exactly the
   neighbours it uses inside a chunk, so a chunk boundary is no boundary for it.
3. Store the stabilised depth (float16) with each frame's low/high percentiles in
   ``depth/k.npz``, and a small checkpoint (estimator state, cut detector, cuts).

At the end the per-frame percentiles of the whole video (two numbers per frame) are
smoothed inside each shot (:func:`s2vg.depth.smooth_range`), so the normalisation is
continuous across chunks and restarts at cuts, and stored in ``range.npz``.

Resuming reloads the checkpoint and the raw depth still on disk, re-decodes from the first
frame the next stabilisation needs (seeking), and goes on; because every value that
crosses a chunk boundary is read back at the precision it was stored with, the result is
bit-identical to an uninterrupted pass.

Depth files: relative inverse depth from a file takes the place of the estimator (and is
stabilised when asked); metric depth or disparity is converted to metres and stored as
float32, with a subsample of its inverse for the range that convergence needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from s2vg.depth.shots import ShotCutDetector
from s2vg.errors import InputError
from s2vg.jobs.frames import check_frame_count, iter_indexed_frames
from s2vg.jobs.job import JobSpec, build_estimator, update_progress
from s2vg.progress import SILENT, Progress

#: Largest magnitude stored as float16 (its largest finite value is 65504).
_FLOAT16_LIMIT = 60000.0
#: Samples of inverse depth kept over the whole clip for the range of literal depth.
_LITERAL_SAMPLES = 1_000_000


def storage_precision(values: np.ndarray) -> np.ndarray:
    """``values`` at the precision the state folder stores: float16 when they fit, else float32."""
    values = np.asarray(values, np.float32)
    if values.size and np.isfinite(values).all() and float(np.abs(values).max()) < _FLOAT16_LIMIT:
        return values.astype(np.float16)
    return values


@dataclass
class DepthCheckpoint:
    """What the depth pass carries from one chunk to the next (pickled in ``checkpoint.pkl``).

    Attributes:
        raw_chunks: chunks whose raw depth is estimated and stored.
        depth_chunks: chunks whose finished depth is stored.
        estimator_state: the estimator's state after ``raw_chunks`` chunks (None for
            stateless estimators and depth files).
        detector: the shot-cut detector after ``raw_chunks`` chunks.
        cuts: shot cuts found so far (frame indices).
        frames: total frames, once decoding reached the end; else None.
        finished: the range is computed and stored.
    """

    raw_chunks: int = 0
    depth_chunks: int = 0
    estimator_state: object = None
    detector: ShotCutDetector = field(default_factory=ShotCutDetector)
    cuts: list[int] = field(default_factory=list)
    frames: int | None = None
    finished: bool = False


@dataclass(frozen=True)
class DepthPassResult:
    """What pass 2 needs from pass 1 (read from ``range.npz``).

    Attributes:
        frames: frames in the video (after ``max_frames``).
        cuts: shot cuts.
        lo, hi: ``(T,)`` float64 normalisation range per frame (relative depth), else None.
        inv_depth_range: (far, near) inverse depth in 1/m of literal depth, else None.
        estimator: the estimator's name, or None for a depth file.
        stabilized: whether stabilisation ran.
        confidence: the weight-free estimator's mean confidence in [0, 1], else None.
    """

    frames: int
    cuts: list[int]
    lo: np.ndarray | None
    hi: np.ndarray | None
    inv_depth_range: tuple[float, float] | None
    estimator: str | None
    stabilized: bool
    confidence: float | None = None


def load_result(spec: JobSpec) -> DepthPassResult:
    """The stored result of a finished depth pass."""
    data = spec.state.load_arrays(spec.state.range_path)
    literal = "inv_far" in data
    return DepthPassResult(
        frames=int(data["frames"]),
        cuts=[int(c) for c in data["cuts"]],
        lo=None if literal else data["lo"],
        hi=None if literal else data["hi"],
        inv_depth_range=(float(data["inv_far"]), float(data["inv_near"])) if literal else None,
        estimator=spec.estimator,
        stabilized=spec.stabilize,
        confidence=float(data["confidence"]) if "confidence" in data else None,
    )


class _DepthFile:
    """Slices of a depth file, memory-mapped when it is a ``.npy`` (bounded memory)."""

    def __init__(self, spec: JobSpec) -> None:
        from s2vg.io.depth_files import load_depth

        name = str(spec.config.depth)
        self.name = name
        values = None
        if name.lower().endswith(".npy"):
            try:
                values = np.load(name, mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError):
                values = None  # load_depth gives the one-line error
            if values is not None and values.ndim == 4 and values.shape[-1] == 1:
                values = values[..., 0]
            if values is not None and (values.ndim not in (2, 3) or not np.issubdtype(values.dtype, np.number)):
                values = None
            if values is not None and values.ndim == 2:
                values = values[None]
        self.values = values if values is not None else load_depth(name)
        h, w = self.values.shape[1:]
        if (h, w) != (spec.info.height, spec.info.width):
            raise InputError(
                f"depth {name!r} has shape {tuple(self.values.shape)} but the frames are "
                f"({spec.planned_frames}, {spec.info.height}, {spec.info.width}) (T, H, W); give the depth of this clip at its resolution"
            )

    def slice(self, start: int, stop: int) -> np.ndarray:
        if stop > len(self.values):
            raise InputError(
                f"depth {self.name!r} has {len(self.values)} frames but the video has at least {stop}; give the depth of this clip"
            )
        return np.array(self.values[start:stop], dtype=np.float32)


class _Pass:
    """The state of one run of the depth pass (see the module docstring)."""

    def __init__(self, spec: JobSpec, progress: Progress) -> None:
        self.spec = spec
        self.state = spec.state
        self.progress = progress
        self.n = spec.chunk_frames
        self.w = spec.window
        self.literal = spec.depth.kind != "relative"
        self.estimator = build_estimator(spec) if spec.depth_source == "estimator" else None
        self.depth_file = _DepthFile(spec) if spec.depth_source == "file" else None
        self.stateful = self.estimator is not None and hasattr(self.estimator, "estimate")
        self.ckpt: DepthCheckpoint = self.state.load_checkpoint() if self.state.checkpoint_path.exists() else DepthCheckpoint()
        self.frames: dict[int, np.ndarray] = {}  # decoded frames still needed
        self.pts: dict[int, int | None] = {}
        self.raw: dict[int, np.ndarray] = {}  # raw depth by frame, float32 of the stored precision
        self.pending: list[int] = []  # decoded frames of the chunk being gathered for estimation
        self.sample_stride = max(1, spec.planned_frames * spec.info.height * spec.info.width // _LITERAL_SAMPLES)

    # -------------------------------------------------------------- steps

    def first_frame_needed(self) -> int:
        ckpt = self.ckpt
        estimate_from = ckpt.raw_chunks * self.n
        if self.literal or not self.spec.stabilize:
            return estimate_from
        return min(estimate_from, max(0, ckpt.depth_chunks * self.n - self.w))

    def start_pts(self, frame: int) -> int | None:
        """The timestamp of ``frame`` from the chunk files that hold it (for seeking)."""
        chunk = frame // self.n
        for path in (self.state.raw_path(chunk), self.state.depth_path(chunk)):
            if path.exists():
                stamps = _load_member(path, "pts")
                index = frame - chunk * self.n
                if index < len(stamps) and stamps[index] >= 0:
                    return int(stamps[index])
        return None

    def load_raw(self, chunk: int) -> None:
        """Bring a stored raw chunk into memory (after a resume)."""
        start = chunk * self.n
        data = self.state.load_arrays(self.state.raw_path(chunk))
        for offset, values in enumerate(data["inv_depth"]):
            self.raw.setdefault(start + offset, values.astype(np.float32))

    def estimate_chunk(self) -> None:
        """Estimate raw depth of the gathered chunk, store it, advance the checkpoint."""
        chunk = self.ckpt.raw_chunks
        start = chunk * self.n
        indices = self.pending
        frames = np.stack([self.frames[i] for i in indices])
        ckpt = self.ckpt
        if self.spec.depth_stage.detect_cuts:
            ckpt.cuts.extend(ckpt.detector.update(frames))
        with self.progress.timer("depth"):
            if self.depth_file is not None:
                raw = self.depth_file.slice(start, start + len(indices))
            elif self.stateful:
                raw, ckpt.estimator_state = self.estimator.estimate(frames, ckpt.estimator_state)
            else:
                raw = self.estimator(frames)
        raw = np.asarray(raw, np.float32)
        source = f"depth file {self.depth_file.name!r}" if self.depth_file is not None else f"estimator {self.spec.estimator!r}"
        if raw.shape != frames.shape[:3]:
            raise InputError(f"{source} gave depth of shape {raw.shape} for frames of shape {frames.shape[:3]}; give depth of this clip")
        if not self.literal and not np.isfinite(raw).all():
            raise InputError(f"{source} gave NaN or infinite inverse depth in frames {start}..{start + len(indices) - 1}; "
                             "give finite values (fill invalid pixels first)")
        pts = np.array([-1 if self.pts[i] is None else self.pts[i] for i in indices], np.int64)
        if self.literal:
            self.store_literal(chunk, raw, pts)
        else:
            stored = storage_precision(raw)
            self.state.save_arrays(self.state.raw_path(chunk), inv_depth=stored, pts=pts)
            for offset, values in enumerate(stored):
                self.raw[start + offset] = values.astype(np.float32)
        ckpt.raw_chunks += 1
        self.pending = []
        self.state.save_checkpoint(ckpt)

    def store_literal(self, chunk: int, values: np.ndarray, pts: np.ndarray) -> None:
        """Metric depth or disparity: convert to metres and store as the finished chunk."""
        import torch

        from s2vg.config import RigConfig
        from s2vg.geometry.depth import check_metric_depth, disparity_to_depth

        tensor = torch.from_numpy(values)
        if self.spec.depth.kind == "metric":
            depth_m = check_metric_depth(tensor)
        else:
            baseline = self.spec.rig.baseline if self.spec.rig.baseline is not None else RigConfig.baseline
            depth_m = disparity_to_depth(tensor, self.spec.focal, baseline)
        flat = (1.0 / depth_m).flatten().numpy()
        # Every stride-th value of the whole clip flattened (as one in-memory pass would take):
        # the first one in this chunk sits at the offset that completes the previous chunks.
        offset = (-chunk * self.n * values.shape[1] * values.shape[2]) % self.sample_stride
        self.state.save_arrays(
            self.state.depth_path(chunk), compressed=True, depth_m=depth_m.numpy(), pts=pts,
            samples=flat[offset :: self.sample_stride].copy(),
        )
        self.ckpt.depth_chunks = chunk + 1

    def can_stabilise(self, chunk: int) -> bool:
        """Whether the ``w`` frames after ``chunk`` are estimated (before the end of the video is known)."""
        return self.ckpt.raw_chunks * self.n >= (chunk + 1) * self.n + self.w

    def stabilise_chunk(self, chunk: int) -> None:
        from s2vg.depth.stabilize import stabilize_inv_depth
        from s2vg.depth.statistics import frame_percentiles, weaken_range

        spec, stage = self.spec, self.spec.depth_stage
        total = self.ckpt.frames
        start = chunk * self.n
        stop = start + self.n if total is None else min(start + self.n, total)
        lo_ctx = max(0, start - self.w)
        hi_ctx = stop + self.w if total is None else min(total, stop + self.w)
        for needed in range(lo_ctx // self.n, (hi_ctx - 1) // self.n + 1):
            if any(i not in self.raw for i in range(max(lo_ctx, needed * self.n), min(hi_ctx, (needed + 1) * self.n))):
                self.load_raw(needed)
        raw = np.stack([self.raw[i] for i in range(lo_ctx, hi_ctx)])
        if spec.stabilize:
            frames = np.stack([self.frames[i] for i in range(lo_ctx, hi_ctx)])
            cuts = [c - lo_ctx for c in self.ckpt.cuts if lo_ctx < c < hi_ctx]
            with self.progress.timer("stabilize depth"):
                stable = stabilize_inv_depth(
                    raw, frames, cuts, window=stage.window, decay=stage.decay, colour_tolerance=stage.colour_tolerance,
                    depth_tolerance=stage.depth_tolerance, guided_radius=stage.guided_radius, guided_eps=stage.guided_eps,
                    flow_scale=stage.flow_scale,
                )[start - lo_ctx : stop - lo_ctx]
        else:
            stable = raw[start - lo_ctx : stop - lo_ctx]
        stored = storage_precision(stable)
        lo, hi = frame_percentiles(stored.astype(np.float32), stage.low_pct, stage.high_pct)
        # An estimator unsure of its near/far order asks for a weaker effect on those frames.
        strength = getattr(self.ckpt.estimator_state, "strength", None)
        if strength is not None and len(strength) >= stop:
            lo, hi = weaken_range(lo, hi, np.asarray(strength[start:stop], np.float64))
        pts = np.array([-1 if self.pts.get(i) is None else self.pts[i] for i in range(start, stop)], np.int64)
        self.state.save_arrays(self.state.depth_path(chunk), compressed=True, inv_depth=stored, lo=lo, hi=hi, pts=pts)
        self.ckpt.depth_chunks = chunk + 1
        self.state.save_checkpoint(self.ckpt)
        # Raw chunks that no later stabilisation reads are deleted: the state stays small.
        keep_from = max(0, self.ckpt.depth_chunks * self.n - self.w)
        for old in range(0, keep_from // self.n):
            self.state.raw_path(old).unlink(missing_ok=True)
        self.drop_before(keep_from)

    def drop_before(self, frame: int) -> None:
        for store in (self.frames, self.raw, self.pts):
            for index in [i for i in store if i < frame]:
                del store[index]

    def finish(self) -> None:
        """Smooth the range over the whole video and store it."""
        from s2vg.depth.statistics import smooth_range

        total = self.ckpt.frames or 0
        chunks = self.spec.chunks(total)
        if self.literal:
            import torch

            samples = np.concatenate([_load_member(self.state.depth_path(k), "samples") for k in range(chunks)])
            values = torch.from_numpy(samples.astype(np.float32))
            arrays = dict(inv_far=float(torch.quantile(values, 0.02)), inv_near=float(torch.quantile(values, 0.98)))
        else:
            lo = np.concatenate([_load_member(self.state.depth_path(k), "lo") for k in range(chunks)])
            hi = np.concatenate([_load_member(self.state.depth_path(k), "hi") for k in range(chunks)])
            stage = self.spec.depth_stage
            lo, hi = smooth_range(lo, hi, self.ckpt.cuts, stage.range_smoothing)
            arrays = dict(lo=lo, hi=hi)
            state = self.ckpt.estimator_state
            if getattr(state, "confidence_frames", 0):
                arrays["confidence"] = np.float64(state.confidence_sum / state.confidence_frames)
        self.state.save_arrays(
            self.state.range_path, frames=np.int64(total), cuts=np.array(self.ckpt.cuts, np.int64), **arrays
        )
        self.ckpt.finished = True
        self.state.save_checkpoint(self.ckpt)
        for path in (self.state.folder / "raw").glob("*.npz"):
            path.unlink(missing_ok=True)


def run_depth_pass(spec: JobSpec, progress: Progress = SILENT) -> DepthPassResult:
    """Run (or finish, or skip when done) pass 1 of a job; see the module docstring.

    Args:
        spec: the job.
        progress: progress sink; stage ``"depth pass"``, one update per frame finished.

    Returns:
        The :class:`DepthPassResult`, also stored in the state folder.

    Raises:
        InputError: corrupt or truncated input, depth of the wrong shape.
    """
    run = _Pass(spec, progress)
    ckpt = run.ckpt
    if ckpt.finished:
        return load_result(spec)
    n = run.n
    first = run.first_frame_needed()
    already = ckpt.depth_chunks * n
    with progress.stage("depth pass", total=spec.planned_frames, unit="frame") as bar:
        bar.update(min(already, spec.planned_frames))
        if ckpt.frames is None:
            frame_iter = iter_indexed_frames(spec.info, first, spec.config.max_frames, run.start_pts(first) if first else None)
            decoded = first
            estimate_from = ckpt.raw_chunks * n
            with progress.timer("decode"):
                next_frame = next(frame_iter, None)
            while next_frame is not None:
                index, pts, frame = next_frame
                run.frames[index], run.pts[index] = frame, pts
                decoded = index + 1
                if index >= estimate_from:
                    run.pending.append(index)
                if len(run.pending) == n:
                    run.estimate_chunk()
                    estimate_from = ckpt.raw_chunks * n
                    while not run.literal and ckpt.depth_chunks < ckpt.raw_chunks and run.can_stabilise(ckpt.depth_chunks):
                        run.stabilise_chunk(ckpt.depth_chunks)
                        bar.update(n)
                    if run.literal:
                        bar.update(n)
                        run.drop_before(ckpt.raw_chunks * n)
                    update_progress(spec, depth_chunks=ckpt.depth_chunks)
                with progress.timer("decode"):
                    next_frame = next(frame_iter, None)
            if decoded == 0 and first == 0:
                raise InputError(f"input {str(spec.input_path)!r} gave no frames; give a video with frames in it")
            check_frame_count(spec.info, decoded, spec.config.max_frames)
            if run.pending:
                run.estimate_chunk()
                if run.literal:
                    bar.update(len(run.frames))
            ckpt.frames = decoded
            run.state.save_checkpoint(ckpt)
        elif not run.literal and ckpt.depth_chunks < spec.chunks(ckpt.frames):
            # Decoding had finished; only stabilisation is left: decode just its frames again.
            for index, pts, frame in iter_indexed_frames(spec.info, first, ckpt.frames, run.start_pts(first) if first else None):
                run.frames[index], run.pts[index] = frame, pts
        while not run.literal and ckpt.depth_chunks < spec.chunks(ckpt.frames):
            chunk = ckpt.depth_chunks
            run.stabilise_chunk(chunk)
            start, stop = spec.chunk_span(chunk, ckpt.frames)
            bar.update(stop - start)
        update_progress(spec, depth_chunks=ckpt.depth_chunks, frames=ckpt.frames, chunks=spec.chunks(ckpt.frames))
        run.finish()
    update_progress(spec, depth_done=True)
    return load_result(spec)


def _load_member(path, key: str) -> np.ndarray:
    """One array of an ``.npz`` without reading the others."""
    with np.load(path, allow_pickle=False) as data:
        return data[key]
