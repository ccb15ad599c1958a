"""The diffusion frame-matrix sampler (DESIGN.md section 3b): fill every disocclusion of a
frame matrix with a monocular video diffusion model, denoising columns (each view as a
T-frame video) and rows (each timestamp as a V-frame video across the views).

Per step ``t`` (values of ``scheduler.timesteps``, high to low; ``t_prev`` is the next):

1. *Main step*: one column pass over the views that still have unknown cells (all of them
   while ``t > frame_matrix_end``, then only the rig's target views; all of them to the
   end in multi-view mode). Its clean estimates feed re-injection.
2. *Boundary re-injection* (while ``t > reinject_end``): decode those estimates, paste
   the real (eroded) known pixels over them in pixel space and encode again: the new
   source latents. Only frames with unknown pixels are re-encoded (the others would come
   back unchanged: the encoder is deterministic, it uses the posterior mode).
3. *Resampling* R times: re-noise the state from ``t_prev`` back to ``t``, put the
   noised source latents into the known cells, and denoise again with one pass whose
   direction cycles columns, rows 0->V-1, columns, rows V-1->0. After
   ``frame_matrix_end``, the target views alone, ``target_resample`` times. In the
   multi-view second stage (``t <= stage2_begin``) the target views are first denoised
   alone ``target_resample`` times and then held fixed while every ``stage2_time_every``-th
   resample runs along time and the others along views (alternating direction).
4. *Blend*: known cells take the source latents noised to ``t_prev`` through the soft
   latent mask. After the last step the state is the clean estimate (so DDIM without
   ``set_alpha_to_one`` leaves no residual noise), blended with the clean source latents.

Cost: every pass is one model call (all columns, V videos of T frames; or all rows, T
videos of V frames) with unconditional and conditional halves concatenated, split only
under ``batch_frames``; columns or rows without unknown cells are skipped. Each latent is
updated by exactly one video of a pass, so "averaging passes" reduces to the window blend
of long clips (:mod:`s2vg.inpaint.diffusion.windows`), done on model outputs before one
scheduler step. Calls, frame evaluations (frames x batch, guidance included) and VAE
frames are counted in :class:`SamplerStats`.

The sampler writes no scheduler algebra: it calls the adapter of
:mod:`s2vg.inpaint.diffusion.schedulers`. This class holds the matrix as latents, one per
view and frame, which rows and columns share; that needs a per-frame VAE
(``temporal_factor`` 1). For a VAE that compresses time, ``FrameMatrixSampler(denoiser)``
returns a :class:`~s2vg.inpaint.diffusion.exchange.PixelExchangeSampler`, which holds the
matrix in pixel space between passes (see that module for the design and its cost).

Frames whose size the model cannot take are padded at the bottom and right edges
(:func:`~s2vg.inpaint.diffusion.layout.pad_matrix`) and cropped back. A matrix with a
single view (video outpainting, :mod:`s2vg.inpaint.outpaint`) has no rows to mix: its
resamples all run along time. The source view's known pixels are always the input's;
it is denoised only where it has unknown pixels (outpainting).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Iterator, Literal

import torch

from s2vg.config import DiffusionConfig
from s2vg.errors import InputError, OptionError
from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.inpaint.diffusion.layout import crop_frames, latent_frames, pad_matrix
from s2vg.inpaint.diffusion.masks import latent_masks
from s2vg.inpaint.diffusion.protocol import Conditioning, VideoDenoiser
from s2vg.inpaint.diffusion.schedulers import SchedulerAdapter, adapter_for, make_scheduler
from s2vg.inpaint.diffusion.windows import frame_windows, window_weights
from s2vg.progress import SILENT, Progress

Direction = Literal["columns", "rows", "rows_reversed"]
#: The frame-matrix resampling cycle (DESIGN.md 3b step 2).
RESAMPLE_CYCLE: tuple[Direction, ...] = ("columns", "rows", "columns", "rows_reversed")


@dataclass
class SamplerStats:
    """What a run cost.

    Attributes:
        model_calls: denoiser ``predict`` calls.
        frame_evaluations: sum over calls of frames x batch, unconditional half included.
        vae_frames_encoded / vae_frames_decoded: frames through the VAE encoder / decoder.
        reinjected_frames: frames decoded and re-encoded by boundary re-injection.
        calls_by_stage: model calls per stage ("frame matrix", "target views").
        seconds: wall time per stage (setup, frame matrix, target views, decode).
    """

    model_calls: int = 0
    frame_evaluations: int = 0
    vae_frames_encoded: int = 0
    vae_frames_decoded: int = 0
    reinjected_frames: int = 0
    calls_by_stage: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SamplerResult:
    """Inpainted colours ``(V, T, H, W, 3)`` float32 in [0, 1] on the CPU, and the cost."""

    frames: torch.Tensor
    stats: SamplerStats


@dataclass
class _Pass:
    prev: torch.Tensor  # (V, C, T, h, w) after the step; untouched latents keep the fallback
    x0: torch.Tensor  # (V, C, T, h, w) clean estimates where updated, 0 elsewhere
    updated: torch.Tensor  # (V, T) bool


class FrameMatrixSampler:
    """Inpaints a frame matrix with a :class:`VideoDenoiser`.

    Args:
        denoiser: the video model (any object following the protocol).
        config: every number of the method; defaults to ``DiffusionConfig()``.

    Example:
        >>> sampler = FrameMatrixSampler(denoiser, DiffusionConfig(steps=50))  # doctest: +SKIP
        >>> result = sampler(matrix, "an astronaut riding a horse")  # doctest: +SKIP
        >>> result.frames.shape, result.stats.model_calls  # doctest: +SKIP
    """

    def __new__(cls, denoiser: VideoDenoiser, config: DiffusionConfig | None = None) -> "FrameMatrixSampler":
        # A VAE that compresses time gets the pixel-exchange sampler (same interface).
        if cls is FrameMatrixSampler and int(getattr(denoiser, "temporal_factor", 1)) > 1:
            from s2vg.inpaint.diffusion.exchange import PixelExchangeSampler

            cls = PixelExchangeSampler
        return super().__new__(cls)

    def __init__(self, denoiser: VideoDenoiser, config: DiffusionConfig | None = None) -> None:
        self.denoiser = denoiser
        self.config = config if config is not None else DiffusionConfig()
        if int(denoiser.temporal_factor) < 1:
            raise OptionError(f"model {denoiser.name} has temporal factor {denoiser.temporal_factor}; it must be >= 1")

    # ------------------------------------------------------------------------------------
    @torch.no_grad()
    def __call__(self, matrix: FrameMatrix, prompt: str = "", progress: Progress = SILENT) -> SamplerResult:
        """Fill the unknown pixels of ``matrix``.

        Args:
            matrix: the frame matrix, any size (padded to the model's size multiple and
                cropped back).
            prompt: text describing the clip.
            progress: progress sink; one tick per denoising step.

        Returns:
            :class:`SamplerResult` with the inpainted colours: known pixels of the source
            view are the input's exactly (and every view's eroded known pixels when
            ``config.paste_known``).
        """
        self._stats = SamplerStats()
        cfg = self.config
        with self._timed("setup"):
            matrix, size = pad_matrix(matrix, size_multiple(self.denoiser))
            self._setup(matrix, prompt)
        timesteps = self._adapter.set_timesteps(cfg.steps, seq_len=self._sequence_length(matrix.frames))
        state = self._randn(self._source.shape) * self._adapter.init_noise_sigma
        state = self._blend(state, timesteps[0])
        x0_latest = torch.zeros_like(state)
        final = None
        with progress.stage("inpaint (diffusion)", total=len(timesteps), unit="step") as bar:
            for i, t in enumerate(timesteps):
                t_prev = timesteps[i + 1] if i + 1 < len(timesteps) else None
                matrix_phase = cfg.multiview or float(t) > cfg.frame_matrix_end
                self._stage = "frame matrix" if matrix_phase else "target views"
                with self._timed(self._stage):
                    main_views = self._unknown_views if matrix_phase else self._targets
                    main = self._pass(state, t, "columns", main_views, fallback=state)
                    x0_latest = torch.where(self._frame_mask(main.updated), main.x0, x0_latest)
                    if cfg.reinject and float(t) > cfg.reinject_end:
                        self._reinject(main.x0, main.updated & self._frame_unknown)
                    if t_prev is None:
                        final = x0_latest * (1 - self._soft) + self._source * self._soft
                    else:
                        state = self._resample(main.prev, t, t_prev, matrix_phase)
                        state = self._blend(state, t_prev)
                bar.update(1)
        with self._timed("decode"):
            frames = crop_frames(self._finish(final), size)
        return SamplerResult(frames=frames, stats=self._stats)

    # -- setup ---------------------------------------------------------------------------
    def _setup(self, matrix: FrameMatrix, prompt: str) -> None:
        cfg, model = self.config, self.denoiser
        check_matrix(matrix, model)
        v, t, h, w = matrix.known.shape
        f = int(model.spatial_factor)
        self._device = torch.device(model.device)
        masks = latent_masks(matrix.known.reshape(v * t, h, w).cpu(), f, cfg.mask_erode, cfg.mask_threshold,
                             cfg.soft_mask_kernel)
        self._matrix = matrix
        self._pixel_mask = masks.pixel.reshape(v, t, h, w)
        hard = masks.hard.reshape(v, t, h // f, w // f)
        # Soft mask laid out like the latents: (V, 1, T, h, w).
        self._soft = masks.soft.reshape(v, t, h // f, w // f).unsqueeze(1).to(self._device)
        self._frame_unknown = ~hard.all(dim=(2, 3))  # (V, T): frames with unknown cells
        self._unknown_views = [i for i in range(v) if bool(self._frame_unknown[i].any())]
        self._unknown_rows = [i for i in range(t) if bool(self._frame_unknown[:, i].any())]
        self._targets = [i for i in matrix.rig.target_indices if i in self._unknown_views]
        self._real = (matrix.colors.float().cpu() * self._pixel_mask.unsqueeze(-1)).contiguous()
        latents = self._encode_frames(self._real.reshape(v * t, h, w, 3))  # (V*T, C, h, w)
        self._source = latents.reshape(v, t, *latents.shape[1:]).transpose(1, 2).contiguous()
        cond, uncond = model.encode_prompt(prompt, cfg.negative_prompt)
        self._cond, self._uncond = cond, uncond
        self._adapter: SchedulerAdapter = adapter_for(make_scheduler(model.scheduler, cfg.scheduler))
        self._generator = torch.Generator("cpu").manual_seed(cfg.seed)
        self._window, self._overlap = model.max_frames, cfg.window_overlap
        if model.max_frames is not None and max(v, t) > model.max_frames and cfg.window_overlap >= model.max_frames:
            raise OptionError(
                f"window overlap {cfg.window_overlap} must be smaller than the {model.max_frames} frames "
                f"model {model.name} takes at once"
            )

    def _sequence_length(self, frames: int) -> int:
        """Latent tokens of one column video (for schedulers that shift by the video's size)."""
        model = self.denoiser
        h, w = self._matrix.height // model.spatial_factor, self._matrix.width // model.spatial_factor
        count = latent_frames(frames, int(model.temporal_factor))
        tokens = getattr(model, "sequence_length", None)
        return int(tokens(count, h, w)) if tokens is not None else count * h * w

    def _direction(self, r: int) -> Direction:
        """Direction of resample ``r``: the cycle, or always columns for a single-view matrix."""
        return "columns" if self._matrix.views == 1 else RESAMPLE_CYCLE[r % len(RESAMPLE_CYCLE)]

    # -- passes --------------------------------------------------------------------------
    def _resample(self, state: torch.Tensor, t: torch.Tensor, t_prev: torch.Tensor, matrix_phase: bool) -> torch.Tensor:
        """R re-noise / blend / denoise rounds at ``t``; returns the state at ``t_prev``."""
        cfg = self.config
        if cfg.multiview and float(t) <= cfg.stage2_begin:
            for _ in range(cfg.target_resample):
                state = self._round(state, t, t_prev, "columns", self._targets)
            held = state[self._targets].clone()
            for r in range(cfg.stage2_resample):
                if (r + 1) % cfg.stage2_time_every == 0:
                    state = self._round(state, t, t_prev, "columns", self._unknown_views)
                else:
                    state = self._round(state, t, t_prev, "rows" if r % 2 == 0 else "rows_reversed", self._unknown_rows)
                state[self._targets] = held  # the second stage never changes the target views
            return state
        if not matrix_phase:
            for _ in range(cfg.target_resample):
                state = self._round(state, t, t_prev, "columns", self._targets)
            return state
        for r in range(cfg.resample):
            direction = self._direction(r)
            subset = self._unknown_views if direction == "columns" else self._unknown_rows
            state = self._round(state, t, t_prev, direction, subset)
        return state

    def _round(self, state: torch.Tensor, t: torch.Tensor, t_prev: torch.Tensor, direction: Direction,
               subset: list[int]) -> torch.Tensor:
        """Re-noise ``state`` (at ``t_prev``) to ``t``, blend the known cells, denoise one pass."""
        noisy = self._adapter.renoise(state, self._randn(state.shape), t_prev, t)
        noisy = self._blend(noisy, t)
        return self._pass(noisy, t, direction, subset, fallback=state).prev

    def _pass(self, x: torch.Tensor, t: torch.Tensor, direction: Direction, subset: list[int],
              fallback: torch.Tensor) -> _Pass:
        """Denoise the columns (views) or rows (timestamps) in ``subset`` of ``x`` from ``t``.

        Args:
            x: ``(V, C, T, h, w)`` state at ``t``.
            subset: view indices for columns, timestamp indices for rows.
            fallback: values of the latents the pass does not touch.
        """
        v, _, t_len = x.shape[:3]
        prev, x0 = fallback.clone(), torch.zeros_like(x)
        updated = torch.zeros(v, t_len, dtype=torch.bool)
        if not subset:
            return _Pass(prev, x0, updated)
        index = torch.tensor(subset, device=x.device)
        if direction == "columns":
            videos = x.index_select(0, index)  # (n, C, T, h, w)
        else:
            videos = x.index_select(2, index).permute(2, 1, 0, 3, 4)  # (n, C, V, h, w)
        # The reversed row pass is one permutation of the frame axis, inverted on the output.
        order = torch.arange(videos.shape[2], device=x.device)
        if direction == "rows_reversed":
            order = order.flip(0)
        inverse = torch.argsort(order)
        output = self._evaluate(videos.index_select(2, order), t).index_select(2, inverse)
        step = self._adapter.step(output, t, videos, generator=self._generator, eta=self.config.eta)
        if direction == "columns":
            prev[index] = step.prev_sample
            x0[index] = step.x0
            updated[subset] = True
        else:
            prev[:, :, index] = step.prev_sample.permute(2, 1, 0, 3, 4)
            x0[:, :, index] = step.x0.permute(2, 1, 0, 3, 4)
            updated[:, subset] = True
        return _Pass(prev, x0, updated)

    def _evaluate(self, videos: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Guided model output ``(n, C, F, h, w)`` for ``n`` videos, windowed along F if needed."""
        n, _, frames = videos.shape[:3]
        spans = frame_windows(frames, self._window, self._overlap)
        if len(spans) == 1:
            return self._guided(self._adapter.model_input(videos, t), t)
        chunks = torch.cat([videos[:, :, a:b] for a, b in spans], dim=0)  # window-major
        guided = self._guided(self._adapter.model_input(chunks, t), t)
        output = torch.zeros_like(videos)
        for j, ((a, b), weight) in enumerate(zip(spans, window_weights(frames, spans, self._overlap))):
            output[:, :, a:b] += guided[j * n:(j + 1) * n] * weight.to(videos.device).view(1, 1, -1, 1, 1)
        return output

    def _guided(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Classifier-free guidance over one batch: uncond and cond halves in the same calls."""
        scale = self.config.guidance_scale
        guide = scale != 1.0
        n, frames = x.shape[0], x.shape[2]
        batch = torch.cat([x, x]) if guide else x
        cond = _repeat_cond(self._cond, n)
        if guide:
            cond = _cat_cond([_repeat_cond(self._uncond, n), cond])
        per_call = batch.shape[0] if self.config.batch_frames is None else max(1, self.config.batch_frames // frames)
        outputs = []
        with self._timed("model"):
            for start in range(0, batch.shape[0], per_call):
                stop = min(start + per_call, batch.shape[0])
                outputs.append(self.denoiser.predict(batch[start:stop], t, _slice_cond(cond, start, stop)).float())
                self._stats.model_calls += 1
                self._stats.calls_by_stage[self._stage] = self._stats.calls_by_stage.get(self._stage, 0) + 1
                self._stats.frame_evaluations += (stop - start) * frames
        output = torch.cat(outputs)
        if not guide:
            return output
        uncond_out, cond_out = output.chunk(2)
        return uncond_out + scale * (cond_out - uncond_out)

    # -- known region ------------------------------------------------------------------------
    def _blend(self, state: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Known cells take the source latents noised to ``t`` (soft mask), unknown keep ``state``."""
        noisy_source = self._adapter.noise_to(self._source, self._randn(self._source.shape), t)
        return state * (1 - self._soft) + noisy_source * self._soft

    def _reinject(self, x0: torch.Tensor, frames: torch.Tensor) -> None:
        """Boundary re-injection for the ``(V, T)`` bool ``frames``: decode, paste real pixels, encode."""
        pairs = frames.nonzero()
        if len(pairs) == 0:
            return
        with self._timed("re-injection"):
            views, times = pairs[:, 0], pairs[:, 1]
            dv, dt = views.to(self._device), times.to(self._device)
            pixels = self._decode_frames(x0[dv, :, dt])  # (N, H, W, 3)
            known = self._pixel_mask[views, times].unsqueeze(-1)
            pixels = torch.where(known, self._real[views, times], pixels)
            self._source[dv, :, dt] = self._encode_frames(pixels)
            self._stats.reinjected_frames += len(pairs)

    def _frame_mask(self, frames: torch.Tensor) -> torch.Tensor:
        """``(V, T)`` bool to a mask broadcastable over the latents ``(V, 1, T, 1, 1)``."""
        return frames.to(self._device)[:, None, :, None, None]

    # -- VAE -----------------------------------------------------------------------------
    def _encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """``(N, H, W, 3)`` frames to ``(N, C, h, w)`` float32 latents on the model device."""
        out = []
        with self._timed("vae"):
            for start in range(0, frames.shape[0], self.config.vae_batch_frames):
                chunk = frames[start:start + self.config.vae_batch_frames].to(self._device)
                out.append(self.denoiser.encode(chunk.unsqueeze(0))[0].transpose(0, 1).float())
                self._stats.vae_frames_encoded += chunk.shape[0]
        return torch.cat(out)

    def _decode_frames(self, latents: torch.Tensor) -> torch.Tensor:
        """``(N, C, h, w)`` latents to ``(N, H, W, 3)`` float32 frames on the CPU."""
        out = []
        with self._timed("vae"):
            for start in range(0, latents.shape[0], self.config.vae_batch_frames):
                chunk = latents[start:start + self.config.vae_batch_frames]
                out.append(self.denoiser.decode(chunk.transpose(0, 1).unsqueeze(0))[0].float().cpu())
                self._stats.vae_frames_decoded += chunk.shape[0]
        return torch.cat(out)

    def _finish(self, final: torch.Tensor) -> torch.Tensor:
        """Decode the frames that have unknown pixels and paste the real ones back."""
        matrix = self._matrix
        colors = matrix.colors.float().cpu().clone()
        known = matrix.known.cpu()
        source = matrix.source_index
        need = ~known.all(dim=(2, 3))  # frames with unknown pixels
        if not self.config.paste_known:
            need[:] = True
        if bool(known[source].all()):
            need[source] = False  # the source view is the input itself
        pairs = need.nonzero()
        if len(pairs):
            views, times = pairs[:, 0], pairs[:, 1]
            decoded = self._decode_frames(final[views.to(self._device), :, times.to(self._device)])
            if self.config.paste_known:
                decoded = torch.where(self._pixel_mask[views, times].unsqueeze(-1), colors[views, times], decoded)
            colors[views, times] = decoded
        return keep_source(colors, matrix)

    # -- utilities -------------------------------------------------------------------------
    def _randn(self, shape: torch.Size | tuple[int, ...]) -> torch.Tensor:
        # Drawn on the CPU from one seeded generator, then moved: the same numbers on every device.
        return torch.randn(tuple(shape), generator=self._generator).to(self._device)

    @contextmanager
    def _timed(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            seconds = self._stats.seconds
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start


def _repeat_cond(cond: Conditioning, n: int) -> Conditioning:
    if isinstance(cond, dict):
        return {k: v.repeat(n, *([1] * (v.ndim - 1))) for k, v in cond.items()}
    return cond.repeat(n, *([1] * (cond.ndim - 1)))


def _cat_cond(parts: list[Conditioning]) -> Conditioning:
    if isinstance(parts[0], dict):
        return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
    return torch.cat(parts)


def _slice_cond(cond: Conditioning, start: int, stop: int) -> Conditioning:
    if isinstance(cond, dict):
        return {k: v[start:stop] for k, v in cond.items()}
    return cond[start:stop]


def keep_source(colors: torch.Tensor, matrix: FrameMatrix) -> torch.Tensor:
    """``colors (V, T, H, W, 3)`` with the source view's known pixels set to the input's."""
    source = matrix.source_index
    known = matrix.known[source].cpu().unsqueeze(-1)
    colors[source] = torch.where(known, matrix.colors[source].float().cpu(), colors[source])
    return colors


def size_multiple(denoiser: VideoDenoiser) -> int:
    """Pixels that H and W must be multiples of: ``denoiser.size_multiple`` where it has one
    (VAE factor times patch size), else its spatial factor."""
    return int(getattr(denoiser, "size_multiple", None) or denoiser.spatial_factor)


def check_matrix(matrix: FrameMatrix, denoiser: VideoDenoiser) -> None:
    """Reject a matrix the denoiser cannot take, with the sizes seen and the fix."""
    f = int(denoiser.spatial_factor)
    if matrix.height % f or matrix.width % f:
        raise InputError(
            f"frame matrix of {matrix.height}x{matrix.width} pixels is not divisible by model "
            f"{denoiser.name}'s latent factor {f}; resize the clip to a multiple of {f} pixels"
        )
