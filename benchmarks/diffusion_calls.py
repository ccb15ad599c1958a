"""Cost of the diffusion frame-matrix sampler beside the reference schedule.

Runs :class:`~s2vg.inpaint.diffusion.FrameMatrixSampler` with a randomly initialised
Zeroscope-format model (``--size tiny`` on a CPU; ``--size full`` is Zeroscope's
architecture, for a GPU) on a synthetic V x T frame matrix whose non-source views miss a
strip in every frame (as a left-to-right warp does), and prints model calls, frame
evaluations (frames x batch, guidance included), VAE frames and wall time per stage,
beside the counts of the reference schedule: the authors' loop, one model call per view
(column) or per timestamp (row), each with a batch of 2 (uncond + cond), re-injection
decoding and encoding every denoised view each step.

    python3 benchmarks/diffusion_calls.py                      # V=8, T=16, 50 steps, R=6, tiny, CPU
    python3 benchmarks/diffusion_calls.py --size full --device cuda --height 320 --width 576 --steps 10
    python3 benchmarks/diffusion_calls.py --backend wan         # a tiny random Wan (timed; slow on a CPU)
    python3 benchmarks/diffusion_calls.py --counts              # every backend's counts at its defaults

``--counts`` runs each backend's sampler (its scheduler, factors, channels and frame
limit, from a tiny random folder) with a stand-in network and VAE whose cost is nil: the
counts depend on the schedule, the geometry and the holes, not on the weights. Frame
evaluations count frames on the model's latent frame axis (``(F - 1) / k + 1`` for a VAE
that compresses time by ``k``); VAE frames count pixel frames (padding included).

Timings are wall-clock on whatever machine runs it (noisy on a shared CPU).
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch

from s2vg.config import DiffusionConfig
from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.geometry.rig import CameraRig
from s2vg.inpaint.diffusion import FrameMatrixSampler
from s2vg.inpaint.diffusion.backends import load_denoiser
from s2vg.inpaint.diffusion.backends.random_init import RANDOM_MODELS
from s2vg.inpaint.diffusion.schedulers import adapter_for, make_scheduler

BACKENDS = ("zeroscope", "wan", "ltx", "cogvideox")


class StandIn:
    """A backend's geometry and scheduler with a free network and VAE (for counting).

    Encoding averages each latent cell and each group of frames (causal first frame
    alone); decoding repeats; the network predicts zeros.
    """

    device = torch.device("cpu")

    def __init__(self, model) -> None:
        self.name = f"stand-in for {model.name}"
        self.scheduler = model.scheduler
        self.spatial_factor, self.temporal_factor = model.spatial_factor, model.temporal_factor
        self.size_multiple = getattr(model, "size_multiple", model.spatial_factor)
        self.latent_channels, self.max_frames = model.latent_channels, model.max_frames
        self._tokens = getattr(model, "sequence_length", None)

    def sequence_length(self, frames, height, width):
        return self._tokens(frames, height, width) if self._tokens else frames * height * width

    def encode(self, frames):
        b, f, h, w, _ = frames.shape
        k, s = self.temporal_factor, self.spatial_factor
        n = 1 + (f - 1) // k if k > 1 else f
        return torch.zeros(b, self.latent_channels, n, h // s, w // s)

    def decode(self, latents):
        b, _, n, h, w = latents.shape
        k, s = self.temporal_factor, self.spatial_factor
        f = (n - 1) * k + 1 if k > 1 else n
        return torch.zeros(b, f, h * s, w * s, 3)

    def encode_prompt(self, prompt, negative_prompt):
        return torch.ones(1, 1), torch.zeros(1, 1)

    def predict(self, latents, timestep, cond):
        return torch.zeros_like(latents)


def synthetic_matrix(views: int, frames: int, height: int, width: int) -> FrameMatrix:
    """View 0 fully known; view v misses a strip ~v/V of a tenth of the width in every frame."""
    g = torch.Generator().manual_seed(0)
    colors = torch.rand(views, frames, height, width, 3, generator=g)
    known = torch.ones(views, frames, height, width, dtype=torch.bool)
    for v in range(1, views):
        strip = max(2, int(0.1 * width * v / (views - 1)))
        for t in range(frames):
            x0 = (width // 3 + 2 * t) % (width - strip)
            known[v, t, :, x0:x0 + strip] = False
    positions = np.zeros((views, 3))
    positions[:, 0] = np.linspace(0.0, 0.08, views)
    rig = CameraRig(width=width, height=height, focal=800.0 * width / 576, positions=positions)
    return FrameMatrix(colors=colors * known.unsqueeze(-1), known=known, depth=torch.ones(views, frames, height, width),
                       rig=rig)


def reference_counts(views: int, frames: int, timesteps: list[float], config: DiffusionConfig,
                     targets: int = 1) -> dict[str, int]:
    """Counts of the authors' schedule (one call per column or row, batch 2 for guidance)."""
    calls = frames_eval = vae = 0
    by_stage = {"frame matrix": 0, "target views": 0}
    for i, t in enumerate(timesteps):
        matrix_phase = t > config.frame_matrix_end
        calls_before = calls
        denoised = views if matrix_phase else targets
        calls += denoised
        frames_eval += denoised * frames
        vae += denoised * frames  # re-injection: decode and encode every denoised view
        if i + 1 < len(timesteps) and matrix_phase:
            for r in range(config.resample):
                if r % 4 in (0, 2):
                    calls, frames_eval = calls + views, frames_eval + views * frames
                else:
                    calls, frames_eval = calls + frames, frames_eval + frames * views
        elif i + 1 < len(timesteps):
            calls += config.target_resample * targets
            frames_eval += config.target_resample * targets * frames
        by_stage["frame matrix" if matrix_phase else "target views"] += calls - calls_before
    return {"model_calls": calls, "calls_by_stage": by_stage, "frame_evaluations": 2 * frames_eval,
            "frame_evaluations_x1": frames_eval,
            "reinjection_frames": vae, "vae_encoded": vae + views * frames, "vae_decoded": vae + 2 * frames}


def counts_table(args: argparse.Namespace, config: DiffusionConfig) -> None:
    """Every backend's counts at its defaults, beside the reference schedule's."""
    print(f"V={args.views} T={args.frames} {args.height}x{args.width}, {config.steps} steps, R={config.resample}, "
          f"target R={config.target_resample}, frame_matrix_end={config.frame_matrix_end:g}, guidance "
          f"{config.guidance_scale:g}; stand-in network and VAE (counts only)")
    header = f"{'backend':12}{'f':>4}{'k':>3}{'calls':>8}{'frame evals':>13}{'VAE enc':>10}{'VAE dec':>10}{'VAE total':>11}"
    print(header)
    reference = None
    with tempfile.TemporaryDirectory() as tmp:
        for name in BACKENDS:
            folder = RANDOM_MODELS[name](f"{tmp}/{name}", size="tiny")
            stand_in = StandIn(load_denoiser(name, model=str(folder), device="cpu"))
            multiple = stand_in.size_multiple
            height, width = -(-args.height // multiple) * multiple, -(-args.width // multiple) * multiple
            matrix = synthetic_matrix(args.views, args.frames, height, width)
            stats = FrameMatrixSampler(stand_in, config)(matrix).stats
            vae = stats.vae_frames_encoded + stats.vae_frames_decoded
            print(f"{name:12}{stand_in.spatial_factor:>4}{stand_in.temporal_factor:>3}{stats.model_calls:>8,}"
                  f"{stats.frame_evaluations:>13,}{stats.vae_frames_encoded:>10,}{stats.vae_frames_decoded:>10,}{vae:>11,}")
            if reference is None:
                timesteps = adapter_for(make_scheduler(stand_in.scheduler, config.scheduler)).set_timesteps(config.steps)
                reference = reference_counts(args.views, args.frames, timesteps.tolist(), config)
    ref_vae = reference["vae_encoded"] + reference["vae_decoded"]
    print(f"{'reference':12}{'':>4}{'':>3}{reference['model_calls']:>8,}{reference['frame_evaluations']:>13,}"
          f"{reference['vae_encoded']:>10,}{reference['vae_decoded']:>10,}{ref_vae:>11,}  (authors' loop, per-frame VAE)")
    print("frame evals: frames on the model's latent frame axis x batch, guidance included; VAE: pixel frames")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", type=int, default=8)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--resample", type=int, default=6)
    parser.add_argument("--height", type=int, default=64)
    parser.add_argument("--width", type=int, default=96)
    parser.add_argument("--backend", choices=BACKENDS, default="zeroscope")
    parser.add_argument("--counts", action="store_true", help="every backend's counts with a stand-in network")
    parser.add_argument("--size", choices=("tiny", "full"), default="tiny")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default=None)
    parser.add_argument("--batch-frames", type=int, default=None, help="memory budget of one model call")
    parser.add_argument("--max-frames", type=int, default=None, help="frames the model takes at once (backend default)")
    parser.add_argument("--cpu-offload", choices=("model", "sequential"), default=None)
    parser.add_argument("--vae-tiling", action="store_true")
    args = parser.parse_args()

    config = DiffusionConfig(steps=args.steps, resample=args.resample, batch_frames=args.batch_frames)
    if args.counts:
        counts_table(args, config)
        return
    options = {} if args.max_frames is None else {"max_frames": args.max_frames}
    if args.backend != "zeroscope":
        options.update(cpu_offload=args.cpu_offload, vae_tiling=args.vae_tiling)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        folder = RANDOM_MODELS[args.backend](f"{tmp}/{args.backend}-{args.size}", size=args.size)
        model = load_denoiser(args.backend, model=str(folder), device=args.device, dtype=args.dtype, **options)
        network = model.unet if args.backend == "zeroscope" else model.transformer
        print(f"model: random {args.size} {args.backend}, {sum(p.numel() for p in network.parameters()) / 1e6:.1f} M "
              f"denoiser parameters, {model.dtype} on {model.device}, built and loaded in {time.perf_counter() - start:.1f} s")
        matrix = synthetic_matrix(args.views, args.frames, args.height, args.width)
        if model.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        result = FrameMatrixSampler(model, config)(matrix, "an astronaut riding a horse")
        wall = time.perf_counter() - start
    stats = result.stats
    timesteps = adapter_for(make_scheduler(model.scheduler, config.scheduler)).set_timesteps(config.steps).tolist()
    ref = reference_counts(args.views, args.frames, timesteps, config)
    print(f"\nV={args.views} T={args.frames} {args.height}x{args.width}, {config.steps} steps, R={config.resample}, "
          f"target R={config.target_resample}, frame_matrix_end={config.frame_matrix_end:g}, "
          f"guidance {config.guidance_scale:g}, batch_frames={config.batch_frames}")
    print(f"{'':28}{'s2vg':>12}{'reference':>12}{'ratio':>8}")
    rows = [
        ("model calls", stats.model_calls, ref["model_calls"]),
        ("frame evals (x2 guidance)", stats.frame_evaluations, ref["frame_evaluations"]),
        ("re-injection frames", stats.reinjected_frames, ref["reinjection_frames"]),
        ("VAE frames encoded", stats.vae_frames_encoded, ref["vae_encoded"]),
        ("VAE frames decoded", stats.vae_frames_decoded, ref["vae_decoded"]),
    ]
    for stage in ("target views", "frame matrix"):  # inserted after the total, in this order reversed
        rows.insert(1, (f"  calls, {stage}", stats.calls_by_stage.get(stage, 0), ref["calls_by_stage"][stage]))
    for name, ours, theirs in rows:
        print(f"{name:28}{ours:>12,}{theirs:>12,}{theirs / max(ours, 1):>7.1f}x")
    print(f"(reference frame evals before the x2 for guidance: {ref['frame_evaluations_x1']:,}; its final decode "
          "counts the 2 stereo views, ours every view with holes)")
    print("\nwall time per stage (s):")
    for name in ("setup", "frame matrix", "target views", "decode"):
        print(f"  {name:24}{stats.seconds.get(name, 0.0):8.2f}")
    print(f"  {'total':24}{wall:8.2f}")
    print("  of which (s): " + ", ".join(f"{name} {stats.seconds.get(name, 0.0):.2f}"
                                         for name in ("model", "vae", "re-injection")))
    if model.device.type == "cuda":
        print(f"peak GPU memory: {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
