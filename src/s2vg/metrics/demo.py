"""``s2vg demo``: render a ground-truth scene, convert it to stereo, and show input | result | truth.

No file of the user's is needed and nothing is downloaded: the scene is rendered
(:mod:`s2vg.metrics.scenes`), written as a lossless PNG clip to a temporary folder, and
converted by :func:`s2vg.convert.convert` with its default (offline) settings twice:
with the scene's true depth as a metric depth file at the true baseline, and (unless
disabled) with the default depth estimator at the same divergence. The outputs are the
side-by-side stereo videos, the input clip, and ``demo.png`` (middle frame: input, each
result's right eye, the true right view), plus the scores of each right eye against the truth.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from s2vg.config import ConvertConfig, DemoConfig, DepthConfig, StereoConfig
from s2vg.errors import OutputError
from s2vg.metrics import report
from s2vg.metrics.metrics import depth_error, psnr, ssim
from s2vg.metrics.scenes import make_scene, render_scene, scene_rig
from s2vg.progress import Progress

#: Frame rate of the rendered clip.
DEMO_FPS = 24


def _right_eye(path: Path, width: int) -> np.ndarray:
    """Right halves ``(T, H, W, 3)`` of a full side-by-side video."""
    from s2vg.io import read_frames

    frames, _ = read_frames(path)
    return frames[:, :, width:]


def _panel(image: np.ndarray, label: str) -> np.ndarray:
    tile = np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
    bar = np.full((22, tile.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, label, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([bar, tile], axis=0)


def run_demo(config: DemoConfig = DemoConfig(), output_dir: str | Path = "s2vg-demo", *, progress: Progress | None = None) -> dict[str, Any]:
    """Render, convert and compare (see the module docstring).

    Args:
        config: scene, size, frames and effect strength.
        output_dir: folder for the outputs (created if missing; its parent must exist).
        progress: progress sink; defaults to silent.

    Returns:
        summary dict: ``outputs`` (paths), ``scores`` (PSNR/SSIM of each right eye against
        the true right view, over all pixels and over the true disocclusions), ``depth_error``
        of the estimator, the rig, and ``seconds``.
    """
    from s2vg.convert import RigRequest, convert
    from s2vg.geometry.build import build_frame_matrix
    from s2vg.io.writer import ImageSequenceWriter, VideoWriter

    progress = progress or Progress(enabled=False)
    start = time.perf_counter()
    out = Path(output_dir)
    if not out.parent.is_dir():
        raise OutputError(f"output folder parent {str(out.parent)!r} does not exist; create it or choose another output")
    try:
        out.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(f"output folder {str(out)!r} cannot be created ({exc.strerror or exc})") from None

    scene = make_scene(config.scene, height=config.height, width=config.width, seed=config.seed)
    rig = scene_rig(scene, views=2, divergence_pct=config.divergence)
    with progress.stage("render scene", total=1, unit="clip") as bar:
        shot = render_scene(scene, rig, config.frames)
        bar.update(1)
    left, truth_right, depth_m = shot.colors[0], shot.colors[1], shot.depth[0]
    baseline = float(rig.positions[1, 0])
    holes = ~build_frame_matrix(torch.from_numpy(left), torch.from_numpy(depth_m), rig).known[1].numpy()

    outputs: dict[str, str] = {}
    scores: dict[str, dict[str, float]] = {}
    rights: dict[str, np.ndarray] = {}
    summaries: dict[str, dict] = {}
    depth_err = None
    with tempfile.TemporaryDirectory(prefix="s2vg-demo-") as tmp:
        clip = Path(tmp) / "frames"
        writer = ImageSequenceWriter(clip, width=config.width, height=config.height)
        writer.write(left)
        writer.close()
        depth_file = Path(tmp) / "depth_m.npy"
        np.save(depth_file, depth_m)
        with VideoWriter(out / "demo_input.mp4", fps=DEMO_FPS, width=config.width, height=config.height) as video:
            video.write(left)
        outputs["input"] = str(out / "demo_input.mp4")

        runs = [("true depth", "demo_true_depth_sbs.mp4", dict(config=ConvertConfig(depth=str(depth_file)), rig=RigRequest(baseline=baseline), depth=DepthConfig(kind="metric")))]
        if config.estimated:
            runs.append(("estimated depth", "demo_estimated_depth_sbs.mp4", dict(config=ConvertConfig(), stereo=StereoConfig(divergence=config.divergence))))
        for label, name, kwargs in runs:
            with progress.timer(f"convert ({label})"):
                summaries[label] = convert(clip, out / name, progress=progress, **kwargs)
            outputs[label] = str(out / name)
            right = _right_eye(out / name, config.width)
            rights[label] = right
            scores[label] = {
                "psnr_all": psnr(right, truth_right),
                "psnr_holes": psnr(right, truth_right, holes),
                "ssim_all": ssim(right, truth_right),
            }
        if config.estimated:
            from s2vg.config import DepthStageConfig
            from s2vg.depth.stage import build_depth_estimator, run_depth_stage

            stage = DepthStageConfig()
            result = run_depth_stage(left, stage, estimator=build_depth_estimator(stage))
            depth_err = {"estimator": result.estimator, **depth_error(result.inv_depth, depth_m, kind="relative")}

    mid = config.frames // 2
    panels = [_panel(left[mid], "input (left)")]
    panels += [_panel(r[mid], f"result, {label}") for label, r in rights.items()]
    panels.append(_panel(truth_right[mid], "truth (right)"))
    gap = np.full((panels[0].shape[0], 6, 3), 255, np.uint8)
    side = np.concatenate([p for panel in panels for p in (panel, gap)][:-1], axis=1)
    report.write_atomic(out / "demo.png", report.encode_png(side))
    outputs["comparison"] = str(out / "demo.png")

    return {
        "command": "demo",
        "scene": scene.kind,
        "seed": scene.seed,
        "size": [config.width, config.height],
        "frames": config.frames,
        "rig": {"baseline_m": baseline, "focal_px": scene.focal, "max_disparity_px": scene.focal * baseline / scene.nearest_depth},
        "outputs": outputs,
        "inpainter": next(iter(summaries.values()))["inpainter"],
        "depth": {label: s.get("depth") for label, s in summaries.items()},
        "scores": scores,
        "depth_error": depth_err,
        "seconds": {**{k: round(v, 3) for k, v in progress.seconds.items() if k.startswith("convert")}, "total": round(time.perf_counter() - start, 3)},
    }
