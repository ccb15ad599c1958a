"""The frame-matrix sampler for VAEs that compress time: the matrix lives in pixel space
between passes (DESIGN.md 3b, "Newer models also compress time").

Why: a VAE that compresses time by ``k`` with a causal first frame (Wan and CogVideoX
``k = 4``, LTX-Video ``k = 8``) encodes a column (one view through T frames) into
``(T - 1) / k + 1`` latent frames that each mix ``k`` timestamps, and a row (one timestamp
across V views) into latent frames that each mix ``k`` views. The two directions have
different latent grids, and no latent of one is a latent of the other, so the latent
state of :class:`~s2vg.inpaint.diffusion.sampler.FrameMatrixSampler` (one latent per view
and frame) does not exist here. Encoding each frame alone (a one-frame video) would give
a shared grid, but a sequence of image latents is not a video the model was trained on.

Choice: the matrix is held as the latest clean estimate ``X`` ``(V, T, H, W, 3)`` in pixel
space, with the real (eroded) known pixels pasted over it, plus one unit noise tensor per
direction in that direction's latent grid (columns, rows 0->V-1, rows V-1->0: the reversed
rows are a different grid, since the causal first frame changes). A pass in direction
``d`` at timestep ``t``:

1. *Enter* ``d``: unless the previous pass ran in ``d`` on the same videos (then its
   latent output is used as it is, as the latent sampler would), encode the videos of
   ``X`` along ``d`` (frame counts padded to ``k n + 1`` by repeating the last frame,
   :mod:`~s2vg.inpaint.diffusion.layout`) to ``z0``, and compose the sample
   ``noise_to(z0, eps_d, level)`` at the level the state is at (``t`` for the main pass,
   ``t_prev`` for a resample, which is then re-noised to ``t`` by the scheduler adapter).
   ``z0`` is also the source latent that the soft latent mask blends into known cells:
   the estimate with the real pixels pasted, i.e. boundary re-injection.
2. *Denoise* all videos of the pass in one batched, guided call and step the scheduler;
   keep the result (sample at ``t_prev`` and clean estimate) pending.
3. *Leave* ``d`` (when the next pass has another direction or other videos): decode the
   pending clean estimate, crop the padded frames, paste the real pixels, write it into
   ``X``, and keep ``eps_d = noise_of(sample, x0, t_prev)`` (the adapter's inverse of the
   forward process), so that the direction's noise carries over to its next pass instead
   of being redrawn.

The known/unknown blend, the resample cycle (columns, rows, columns, rows reversed),
``frame_matrix_end``, the target views, the multi-view second stage, guidance, windows
(in latent frames) and the final paste follow the latent sampler; every piece of
scheduler algebra is the adapter's. Re-injection needs no extra work in a step that
changes direction; a step without a change (the target-view phase, fewer than two
resamples) decodes and re-encodes the main pass's estimate, as the reference does.

Cost in VAE frames (pixel frames through the encoder or the decoder, padding included):
every direction change decodes the videos of the old direction and encodes those of the
new one. With the default cycle and R = 6 a frame-matrix step changes direction 6 times
(c -> r, r -> c, c -> r', r' -> c, c -> r, and r -> c into the next step's main pass).
For V = 8 (7 views with holes), T = 16 and k = 4 a column pass covers 7 x 17 = 119 frames
and a row pass 16 x 9 = 144, so a step costs 3 (119 + 144) x 2 = 1,578 VAE frames against
the reference's 2 x 128 for re-injection alone. Measured with ``benchmarks/diffusion_calls.py
--counts`` (50 steps, R = 6): 40,300 VAE frames with CogVideoX's schedule (25 steps above
``frame_matrix_end`` = 500), 58,800 with Wan's (its flow shift of 3 keeps 37 of 50 steps
above 500), 54,200 with LTX-Video's, against 7,360 for the reference loop with a per-frame
VAE. That is the price of letting rows and columns exchange what they denoised when no
latent is shared. Model calls stay one per pass (248 to 296 against the reference's 2,073)
and frame evaluations, counted in latent frames, fall by the VAE's time factor (21,400
for Wan, 12,500 for LTX-Video, 14,900 for CogVideoX against 43,900 for Zeroscope).
Fewer resamples, or a lower ``frame_matrix_end`` for flow models, cut the VAE work in
proportion.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.inpaint.diffusion.layout import (
    crop_frames,
    group_frames,
    latent_frames,
    pad_frames,
    pad_matrix,
    valid_frames,
)
from s2vg.inpaint.diffusion.masks import latent_masks, soften
from s2vg.inpaint.diffusion.sampler import (
    RESAMPLE_CYCLE,
    Direction,
    FrameMatrixSampler,
    SamplerResult,
    SamplerStats,
    check_matrix,
    keep_source,
    size_multiple,
)
from s2vg.inpaint.diffusion.schedulers import SchedulerAdapter, adapter_for, make_scheduler
from s2vg.progress import SILENT, Progress

_DIRECTIONS: tuple[Direction, ...] = ("columns", "rows", "rows_reversed")


@dataclass
class _Pending:
    """The latest pass, not yet written into the pixel estimate."""

    direction: Direction
    subset: list[int]
    prev: torch.Tensor  # (n, C, F', h, w) sample at ``at``
    x0: torch.Tensor  # (n, C, F', h, w) clean estimate
    at: torch.Tensor | None  # timestep of ``prev``; None after the last step
    z0: torch.Tensor  # (n, C, F', h, w) source latents of the blend
    decoded: bool = False  # x0 already written into the estimate (re-injection)


class PixelExchangeSampler(FrameMatrixSampler):
    """Inpaints a frame matrix with a :class:`VideoDenoiser` whose VAE compresses time.

    Same interface and options as :class:`FrameMatrixSampler` (which returns this class
    for such models); see the module docstring for the design and its cost.
    """

    @torch.no_grad()
    def __call__(self, matrix: FrameMatrix, prompt: str = "", progress: Progress = SILENT) -> SamplerResult:
        """Fill the unknown pixels of ``matrix``; see :meth:`FrameMatrixSampler.__call__`."""
        self._stats = SamplerStats()
        cfg = self.config
        with self._timed("setup"):
            matrix, size = pad_matrix(matrix, size_multiple(self.denoiser))
            self._setup(matrix, prompt)
        timesteps = self._adapter.set_timesteps(cfg.steps, seq_len=self._sequence_length(matrix.frames))
        self._pending: _Pending | None = None
        with progress.stage("inpaint (diffusion)", total=len(timesteps), unit="step") as bar:
            for i, t in enumerate(timesteps):
                t_prev = timesteps[i + 1] if i + 1 < len(timesteps) else None
                matrix_phase = cfg.multiview or float(t) > cfg.frame_matrix_end
                self._stage = "frame matrix" if matrix_phase else "target views"
                with self._timed(self._stage):
                    main_views = self._subset("columns", matrix_phase)
                    if not main_views:
                        break
                    self._denoise("columns", main_views, t, t_prev, level=t)
                    if t_prev is None:
                        self._finish_estimate()
                    else:
                        if cfg.reinject and float(t) > cfg.reinject_end and not self._changes_direction(matrix_phase, t):
                            self._reinject()
                        self._resample_rounds(t, t_prev, matrix_phase)
                bar.update(1)
        with self._timed("decode"):
            self._flush()
            frames = crop_frames(self._finish_colors(), size)
        return SamplerResult(frames=frames, stats=self._stats)

    # -- setup ---------------------------------------------------------------------------
    def _setup(self, matrix: FrameMatrix, prompt: str) -> None:
        cfg, model = self.config, self.denoiser
        check_matrix(matrix, model)
        v, t, h, w = matrix.known.shape
        f, k = int(model.spatial_factor), int(model.temporal_factor)
        self._k = k
        self._device = torch.device(model.device)
        masks = latent_masks(matrix.known.reshape(v * t, h, w).cpu(), f, cfg.mask_erode, cfg.mask_threshold,
                             cfg.soft_mask_kernel)
        self._matrix = matrix
        self._pixel_mask = masks.pixel.reshape(v, t, h, w)
        self._real = (matrix.colors.float().cpu() * self._pixel_mask.unsqueeze(-1)).contiguous()
        self._estimate = self._real.clone()  # X: the clean estimate, real pixels pasted
        hard = masks.hard.reshape(v, t, h // f, w // f)
        self._soft: dict[Direction, torch.Tensor] = {}
        self._unknown: dict[Direction, list[int]] = {}
        for d in _DIRECTIONS:
            grouped = group_frames(self._videos(hard, d), k)  # (n_all, F', h, w)
            self._soft[d] = soften(grouped.reshape(-1, *grouped.shape[2:]), cfg.soft_mask_kernel).reshape(
                grouped.shape).unsqueeze(1).to(self._device)
            self._unknown[d] = [i for i in range(grouped.shape[0]) if not bool(grouped[i].all())]
        self._targets = [i for i in matrix.rig.target_indices if i in self._unknown["columns"]]
        self._cond, self._uncond = model.encode_prompt(prompt, cfg.negative_prompt)
        self._adapter: SchedulerAdapter = adapter_for(make_scheduler(model.scheduler, cfg.scheduler))
        self._generator = torch.Generator("cpu").manual_seed(cfg.seed)
        # Windows along the latent frame axis: the model's frame limit in latent frames.
        self._window = None if model.max_frames is None else latent_frames(int(model.max_frames), k)
        self._overlap = -(-cfg.window_overlap // k)
        if self._window is not None and self._overlap >= self._window:
            self._overlap = self._window - 1
        c = int(model.latent_channels)
        # One unit noise per direction over all its videos, drawn in a fixed order.
        self._noise = {d: self._randn((self._soft[d].shape[0], c, *self._soft[d].shape[2:])) for d in _DIRECTIONS}

    def _subset(self, direction: Direction, matrix_phase: bool) -> list[int]:
        if direction == "columns" and not matrix_phase:
            return self._targets
        return self._unknown[direction]

    # -- layout: the matrix as videos of one direction -------------------------------------
    def _videos(self, x: torch.Tensor, direction: Direction, subset: list[int] | None = None) -> torch.Tensor:
        """``(V, T, ...)`` to ``(n, F_pad, ...)``: columns are views, rows timestamps (reversed
        rows run V-1 -> 0); frame counts padded to what the VAE takes."""
        if direction == "columns":
            videos = x if subset is None else x[subset]
        else:
            videos = x.transpose(0, 1)
            videos = videos if subset is None else videos[subset]
            if direction == "rows_reversed":
                videos = videos.flip(1)
        return pad_frames(videos, valid_frames(videos.shape[1], self._k), dim=1)

    def _write_videos(self, frames: torch.Tensor, direction: Direction, subset: list[int]) -> None:
        """Write decoded ``(n, F_pad, H, W, 3)`` frames into the estimate, real pixels pasted."""
        v, t = self._matrix.views, self._matrix.frames
        length = t if direction == "columns" else v
        frames = frames[:, :length]
        if direction == "rows_reversed":
            frames = frames.flip(1)
        index = torch.tensor(subset)
        if direction == "columns":
            real, known = self._real[index], self._pixel_mask[index]
            self._estimate[index] = torch.where(known.unsqueeze(-1), real, frames)
        else:
            real, known = self._real[:, index], self._pixel_mask[:, index]
            self._estimate[:, index] = torch.where(known.unsqueeze(-1), real, frames.transpose(0, 1))

    # -- passes --------------------------------------------------------------------------
    def _changes_direction(self, matrix_phase: bool, t: torch.Tensor) -> bool:
        """Whether this step's resamples leave the column direction (which re-injects anyway)."""
        cfg = self.config
        if self._matrix.views == 1:
            return False
        if cfg.multiview and float(t) <= cfg.stage2_begin:
            return cfg.stage2_resample > 0
        return matrix_phase and cfg.resample >= 2

    def _resample_rounds(self, t: torch.Tensor, t_prev: torch.Tensor, matrix_phase: bool) -> None:
        cfg = self.config
        if cfg.multiview and float(t) <= cfg.stage2_begin:
            for _ in range(cfg.target_resample):
                self._denoise("columns", self._targets, t, t_prev, level=t_prev)
            self._flush()
            held = self._estimate[self._targets].clone()
            for r in range(cfg.stage2_resample):
                if (r + 1) % cfg.stage2_time_every == 0:
                    direction: Direction = "columns"
                else:
                    direction = "rows" if r % 2 == 0 else "rows_reversed"
                self._denoise(direction, self._unknown[direction], t, t_prev, level=t_prev)
                self._flush()
                self._estimate[self._targets] = held  # the second stage never changes the target views
            return
        if not matrix_phase:
            for _ in range(cfg.target_resample):
                self._denoise("columns", self._targets, t, t_prev, level=t_prev)
            return
        for r in range(cfg.resample):
            direction = self._direction(r)
            self._denoise(direction, self._subset(direction, True), t, t_prev, level=t_prev)

    def _denoise(self, direction: Direction, subset: list[int], t: torch.Tensor, t_prev: torch.Tensor | None,
                 level: torch.Tensor) -> None:
        """One pass over ``subset`` in ``direction`` from ``t``; the state is taken at ``level``."""
        if not subset:
            return
        x, z0 = self._enter(direction, subset, level)
        if float(level) != float(t):
            x = self._adapter.renoise(x, self._randn(x.shape), level, t)
        x = self._blend_videos(x, z0, direction, subset, t)
        output = self._evaluate(x, t)
        step = self._adapter.step(output, t, x, generator=self._generator, eta=self.config.eta)
        self._pending = _Pending(direction, list(subset), step.prev_sample, step.x0, t_prev, z0)

    def _enter(self, direction: Direction, subset: list[int], level: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The state of ``subset`` in ``direction`` at ``level`` and its source latents."""
        p = self._pending
        if (p is not None and p.direction == direction and p.subset == subset and p.at is not None
                and float(p.at) == float(level)):
            return p.prev, p.z0
        self._flush()
        z0 = self._encode_videos(self._videos(self._estimate, direction, subset))
        eps = self._noise[direction][torch.tensor(subset, device=self._device)]
        return self._adapter.noise_to(z0, eps, level), z0

    def _blend_videos(self, x: torch.Tensor, z0: torch.Tensor, direction: Direction, subset: list[int],
                      t: torch.Tensor) -> torch.Tensor:
        """Known cells take the source latents noised to ``t`` (soft mask), unknown keep ``x``."""
        soft = self._soft[direction][torch.tensor(subset, device=self._device)]
        return x * (1 - soft) + self._adapter.noise_to(z0, self._randn(z0.shape), t) * soft

    def _flush(self) -> None:
        """Write the pending pass into the pixel estimate and keep its direction's noise."""
        p = self._pending
        if p is None:
            return
        if not p.decoded:
            self._write_videos(self._decode_videos(p.x0), p.direction, p.subset)
        if p.at is not None:
            index = torch.tensor(p.subset, device=self._device)
            self._noise[p.direction][index] = self._adapter.noise_of(p.prev, p.x0, p.at)
        self._pending = None

    def _reinject(self) -> None:
        """Boundary re-injection in a step without a direction change: decode the main pass's
        estimate, paste the real pixels, encode again as the source latents."""
        p = self._pending
        with self._timed("re-injection"):
            self._write_videos(self._decode_videos(p.x0), p.direction, p.subset)
            p.z0 = self._encode_videos(self._videos(self._estimate, p.direction, p.subset))
            p.decoded = True
            self._stats.reinjected_frames += len(p.subset) * self._matrix.frames

    def _finish_estimate(self) -> None:
        """After the last step: the main pass's clean estimate, blended with the source latents."""
        p = self._pending
        soft = self._soft[p.direction][torch.tensor(p.subset, device=self._device)]
        final = p.x0 * (1 - soft) + p.z0 * soft
        frames = self._decode_videos(final)[:, :self._matrix.frames]
        index = torch.tensor(p.subset)
        if self.config.paste_known:
            known = self._pixel_mask[index].unsqueeze(-1)
            frames = torch.where(known, self._real[index], frames)
        self._estimate[index] = frames
        self._pending = None

    def _finish_colors(self) -> torch.Tensor:
        """The estimate where frames have unknown pixels, the input elsewhere."""
        matrix = self._matrix
        colors = matrix.colors.float().cpu().clone()
        known = matrix.known.cpu()
        need = ~known.all(dim=(2, 3))
        if not self.config.paste_known:
            need[:] = True
        colors[need] = self._estimate[need]
        return keep_source(colors, matrix)

    # -- VAE -----------------------------------------------------------------------------
    def _encode_videos(self, videos: torch.Tensor) -> torch.Tensor:
        """``(n, F, H, W, 3)`` pixel videos to ``(n, C, F', h, w)`` latents on the model device."""
        out = []
        per_call = max(1, self.config.vae_batch_frames // videos.shape[1])
        with self._timed("vae"):
            for start in range(0, videos.shape[0], per_call):
                chunk = videos[start:start + per_call].to(self._device)
                out.append(self.denoiser.encode(chunk).float())
                self._stats.vae_frames_encoded += chunk.shape[0] * chunk.shape[1]
        return torch.cat(out)

    def _decode_videos(self, latents: torch.Tensor) -> torch.Tensor:
        """``(n, C, F', h, w)`` latents to ``(n, F, H, W, 3)`` float32 pixel videos on the CPU."""
        out = []
        frames = valid_frames(1 + (latents.shape[2] - 1) * self._k, self._k)
        per_call = max(1, self.config.vae_batch_frames // frames)
        with self._timed("vae"):
            for start in range(0, latents.shape[0], per_call):
                decoded = self.denoiser.decode(latents[start:start + per_call]).float().cpu()
                out.append(decoded)
                self._stats.vae_frames_decoded += decoded.shape[0] * decoded.shape[1]
        return torch.cat(out)


__all__ = ["PixelExchangeSampler", "RESAMPLE_CYCLE"]
