"""Frame-matrix build speed: frame-views per second, warp vs cleanup split, peak memory.

Usage: python benchmarks/geometry_matrix.py [--repeats 3] [--frames 16] [--views 8]

Prints one row per resolution (320x576 like the samples, and 720x1280) with the median of
the repeats. "build cpu s" is process CPU time (both threads): on a shared machine it is
steadier than the wall-clock "build s". Synthetic input: a textured clip with a smooth depth field plus near objects.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import torch

from s2vg.config import RigConfig
from s2vg.geometry.build import build_frame_matrix
from s2vg.geometry.cleanup import multiplane_cleanup
from s2vg.geometry.depth import relative_to_depth
from s2vg.geometry.rig import CameraRig
from s2vg.geometry.warp import forward_warp


def synthetic_clip(t: int, h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    frames = torch.rand((t, h, w, 3), generator=g)
    y = torch.linspace(0, 1, h)[:, None]
    x = torch.linspace(0, 1, w)[None]
    inv = (0.2 + 0.6 * y).expand(h, w).clone().repeat(t, 1, 1)
    for k in range(t):  # a near disc moving right
        cx, cy, r = 0.3 + 0.02 * k, 0.5, 0.15
        inv[k][((x - cx) ** 2 + (y - cy) ** 2) < r * r] = 1.0
    return frames, relative_to_depth(inv)


def measure(t: int, v: int, h: int, w: int, repeats: int) -> dict:
    frames, depth = synthetic_clip(t, h, w)
    rig = CameraRig.from_config(RigConfig(views=v), h, w)
    K, tf = rig.intrinsics(), rig.tgt_from_src()
    totals, cpus, warps, cleans = [], [], [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        build_frame_matrix(frames, depth, rig)
        totals.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        warp_s = clean_s = 0.0
        for view in range(1, v):
            a = time.perf_counter()
            warped, known, wdepth = forward_warp(frames, depth, K, tf[view])
            b = time.perf_counter()
            multiplane_cleanup(warped, known, wdepth, 4)
            c = time.perf_counter()
            warp_s, clean_s = warp_s + b - a, clean_s + c - b
        warps.append(warp_s)
        cleans.append(clean_s)
    total = statistics.median(totals)
    return {
        "size": f"{h}x{w}",
        "T x V": f"{t}x{v}",
        "build s": total,
        "build cpu s": statistics.median(cpus),
        "frame-views/s": t * v / total,
        "warp s": statistics.median(warps),
        "cleanup s": statistics.median(cleans),
        "peak RSS MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--views", type=int, default=8)
    parser.add_argument("--scaling", action="store_true", help="also vary T and V at 320x576 (linear scaling check)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    rows = [measure(args.frames, args.views, h, w, args.repeats) for h, w in ((320, 576), (720, 1280))]
    if args.scaling:
        rows += [measure(t, v, 320, 576, args.repeats) for t, v in ((8, 8), (32, 8), (16, 2), (16, 4))]
    keys = list(rows[0])
    print(" | ".join(f"{k:>13}" for k in keys))
    for row in rows:
        print(" | ".join(f"{row[k]:>13.2f}" if isinstance(row[k], float) else f"{row[k]:>13}" for k in keys))
    print("(peak RSS is the process maximum so far, so the second row includes the first)")


if __name__ == "__main__":
    main()
