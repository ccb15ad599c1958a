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
from s2vg.inpaint.diffusion.backends.random_init import save_random_zeroscope
from s2vg.inpaint.diffusion.backends.zeroscope import load_zeroscope
from s2vg.inpaint.diffusion.schedulers import adapter_for, make_scheduler


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", type=int, default=8)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--resample", type=int, default=6)
    parser.add_argument("--height", type=int, default=64)
    parser.add_argument("--width", type=int, default=96)
    parser.add_argument("--size", choices=("tiny", "full"), default="tiny")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default=None)
    parser.add_argument("--batch-frames", type=int, default=None, help="memory budget of one model call")
    parser.add_argument("--max-frames", type=int, default=16)
    args = parser.parse_args()

    config = DiffusionConfig(steps=args.steps, resample=args.resample, batch_frames=args.batch_frames)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        folder = save_random_zeroscope(f"{tmp}/zeroscope-{args.size}", size=args.size)
        model = load_zeroscope(folder, device=args.device, dtype=args.dtype, max_frames=args.max_frames)
        print(f"model: random {args.size} Zeroscope-format, {sum(p.numel() for p in model.unet.parameters()) / 1e6:.1f} M "
              f"UNet parameters, {model.dtype} on {model.device}, built and loaded in {time.perf_counter() - start:.1f} s")
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
