"""Depth stage speed and flicker: ms per frame of each estimator, shot cuts, stabilisation, range; flicker before/after.

Usage: python benchmarks/depth.py [--shared ../shared] [--size 320x576] [--max-frames 60] [--architecture small]

Runs on the sample clips in ``../shared/samples`` (the astronaut frames with their model
depth, and the sample videos), resized to ``--size``. Flicker is the motion-compensated
frame-to-frame change of inverse depth in units of its 2-98 % range
(:func:`s2vg.depth.warped_temporal_change`). Depth Anything rows appear only where its
weights are cached. ``--architecture small|base|large`` also times a randomly initialised
Depth Anything V2 of that size (speed only: its output is meaningless), which needs no
weights. Timings on a shared CPU are noisy: repeat and take the smaller number.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import cv2
import numpy as np

from s2vg.depth import (
    detect_shot_cuts,
    get_depth_estimator,
    robust_range,
    stabilize_inv_depth,
    warped_temporal_change,
)
from s2vg.depth.depth_anything import weights_cached
from s2vg.depth.registry import LEARNED_ESTIMATORS
from s2vg.io.frames import read_frames


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def resize_clip(frames: np.ndarray, h: int, w: int) -> np.ndarray:
    if frames.shape[1:3] == (h, w):
        return frames
    return np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in frames])


def load_clips(shared: Path, h: int, w: int, max_frames: int) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    clips: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    astronaut = shared / "samples" / "astronaut"
    if (astronaut / "depth.npz").exists():
        images = sorted((astronaut / "images").glob("*.jpg"))
        frames = np.stack([cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in images]).astype(np.float32) / 255
        clips["astronaut"] = (frames, np.load(astronaut / "depth.npz")["raw"])
    for video in sorted((shared / "samples" / "videos").glob("*.mp4")):
        frames, _ = read_frames(video, max_frames=max_frames)
        clips[video.stem] = (resize_clip(frames, h, w), None)
    return clips


#: Backbone and head sizes of the published Depth Anything V2 checkpoints (their config.json).
ARCHITECTURES = {
    # transformers' convert_depth_anything_to_hf.py (get_dpt_config): DINOv2 out_indices per size.
    "small": dict(hidden=384, heads=6, neck=[48, 96, 192, 384], fusion=64, stages=[3, 6, 9, 12]),
    "base": dict(hidden=768, heads=12, neck=[96, 192, 384, 768], fusion=128, stages=[3, 6, 9, 12]),
    "large": dict(hidden=1024, heads=16, layers=24, neck=[256, 512, 1024, 1024], fusion=256, stages=[5, 12, 18, 24]),
}


def random_depth_anything(size: str, folder: Path) -> Path:
    """Save a randomly initialised Depth Anything V2 of the given size (no download) and return its folder."""
    import transformers

    arch = ARCHITECTURES[size]
    layers = arch.get("layers", 12)
    stages = arch["stages"]
    backbone = transformers.Dinov2Config(
        hidden_size=arch["hidden"], num_hidden_layers=layers, num_attention_heads=arch["heads"], intermediate_size=4 * arch["hidden"],
        image_size=518, patch_size=14, out_features=[f"stage{k}" for k in stages], reshape_hidden_states=False,
    )
    config = transformers.DepthAnythingConfig(
        backbone_config=backbone, reassemble_hidden_size=arch["hidden"], neck_hidden_sizes=arch["neck"], fusion_hidden_size=arch["fusion"],
    )
    transformers.DepthAnythingForDepthEstimation(config).save_pretrained(folder)
    transformers.DPTImageProcessorPil(
        size={"height": 518, "width": 518}, keep_aspect_ratio=True, ensure_multiple_of=14, resample=3, do_pad=False,
        image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225],
    ).save_pretrained(folder)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    parser.add_argument("--size", default="320x576", help="HxW the videos are resized to")
    parser.add_argument("--max-frames", type=int, default=60)
    parser.add_argument("--architecture", choices=sorted(ARCHITECTURES), action="append", default=[],
                        help="also time a randomly initialised Depth Anything V2 of this size (speed only)")
    args = parser.parse_args()
    h, w = (int(v) for v in args.size.split("x"))
    clips = load_clips(args.shared, h, w, args.max_frames)
    if not clips:
        raise SystemExit(f"no sample clips under {args.shared}/samples")
    estimators: list[tuple[str, dict]] = [("heuristic", {})]
    estimators += [(n, {}) for n in LEARNED_ESTIMATORS if weights_cached(n)]  # every learned family whose weights are cached
    if args.architecture:
        import tempfile

        scratch = Path(tempfile.mkdtemp(prefix="s2vg_depth_bench_"))
        for size in args.architecture:
            folder = random_depth_anything(size, scratch / size)
            estimators.append((f"random DA-v2 {size}", {"model_path": str(folder)}))
    print(f"{'clip':<16}{'frames':>7}{'HxW':>10}  {'depth':<24}{'ms/frame':>9}{'cuts ms/f':>10}{'stab ms/f':>10}{'range ms/f':>11}{'flicker':>9}{'stabilised':>11}")
    for name, (frames, given) in clips.items():
        sources: list[tuple[str, np.ndarray | None]] = [("given (sample raw)", given)] if given is not None else []
        sources += [(e, None) for e, _ in estimators]
        for label, inv_depth in sources:
            t = len(frames)
            if inv_depth is None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    options = dict(estimators)[label]
                    estimator = get_depth_estimator("depth-anything-v2-small" if options else label, **options)
                inv_depth, seconds = timed(estimator, frames)
                depth_ms = f"{1000 * seconds / t:9.1f}"
            else:
                depth_ms = f"{'-':>9}"
            cuts, cut_s = timed(detect_shot_cuts, frames)
            stable, stab_s = timed(stabilize_inv_depth, inv_depth, frames, cuts)
            _, range_s = timed(robust_range, stable, cuts)
            before, after = warped_temporal_change(inv_depth, frames, cuts), warped_temporal_change(stable, frames, cuts)
            print(
                f"{name:<16}{t:>7}{f'{frames.shape[1]}x{frames.shape[2]}':>10}  {label:<24}{depth_ms}"
                f"{1000 * cut_s / t:10.1f}{1000 * stab_s / t:10.1f}{1000 * range_s / t:11.2f}{before:9.4f}{after:11.4f}"
            )


if __name__ == "__main__":
    main()
