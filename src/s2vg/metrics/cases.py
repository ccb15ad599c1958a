"""Evaluation cases: a frame matrix with holes plus the truth of the pixels a fill must invent.

Three sources of truth, one shape of case:

- :func:`scene_case`: a rendered scene (:mod:`s2vg.metrics.scenes`); the source view
  and its true depth go through the project's geometry, every view's truth is rendered.
- :func:`round_trip_case`: any real clip with any depth. The real frames are the
  *target* view. They are warped with their depth to a virtual source camera and back
  (each leg the project's warp and multi-plane cleanup); the target pixels lost on the
  round trip are exactly the holes a fill must invent when converting from that source
  to the target, and the real frames are their truth. The virtual source's own holes
  (content the target does not see) are filled with the nearest-background baseline
  before the way back, identically for every inpainter, and target pixels that would
  come from those invented source pixels count as holes, so no truth leaks and no
  invented pixel is scored as known.
- :func:`pair_case`: a rectified stereo pair with the left image's disparity; the left
  image is warped to the right camera, the real right image is the truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from s2vg.config import RigConfig
from s2vg.errors import InputError, OptionError
from s2vg.geometry.build import build_frame_matrix
from s2vg.geometry.cleanup import multiplane_cleanup
from s2vg.geometry.depth import disparity_to_depth
from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.geometry.rig import CameraRig, default_focal
from s2vg.geometry.warp import forward_warp
from s2vg.metrics.metrics import as_numpy, estimate_backward_flow
from s2vg.metrics.scenes import RenderedScene, Scene, render_scene, scene_rig


@dataclass(frozen=True, eq=False)
class EvalCase:
    """One scored input of the evaluation.

    Attributes:
        name: label in reports.
        source: ``"scene"``, ``"round-trip"`` or ``"pair"``.
        matrix: the frame matrix to fill; ``known`` False at the holes.
        truth: ``(V, T, H, W, 3)`` float32 true colours; only ``scored_views`` are read.
        scored_views: views whose holes are scored (the stereo target views).
        flow: ``(S, T, H, W, 2)`` float32 backward flow of each scored view's truth (exact
            for scenes, estimated for real clips), or None for single frames.
        flow_valid: ``(S, T, H, W)`` bool where that flow is trusted, or None.
        truth_depth: ``(V, T, H, W)`` float32 true depth in metres where known, else None.
        details: numbers that describe the case (baseline, largest disparity, ...).
    """

    name: str
    source: str
    matrix: FrameMatrix
    truth: np.ndarray
    scored_views: tuple[int, ...]
    flow: np.ndarray | None = None
    flow_valid: np.ndarray | None = None
    truth_depth: np.ndarray | None = None
    details: dict = field(default_factory=dict)

    @property
    def holes(self) -> np.ndarray:
        """``(S, T, H, W)`` bool: the unknown pixels of the scored views."""
        return ~self.matrix.known[list(self.scored_views)].cpu().numpy()


def scene_case(
    scene: Scene,
    *,
    frames: int = 16,
    views: int = 2,
    mode: str = "left2right",
    divergence_pct: float = 3.0,
    cleanup: bool = True,
    rendered: RenderedScene | None = None,
) -> EvalCase:
    """Render ``scene`` from a rig and warp its source view with its true depth.

    Args:
        scene: from :func:`~s2vg.metrics.scenes.make_scene`.
        frames: T; views: V; mode: rig mode; divergence_pct: disparity of the nearest card
            between the outer views in percent of the width (see :func:`scene_rig`).
        cleanup: run the multi-plane cleanup after warping, as conversion does; defaults to True.
        rendered: an existing render of exactly this rig (saves rendering twice).
    """
    rig = scene_rig(scene, views=views, mode=mode, divergence_pct=divergence_pct)
    shot = rendered if rendered is not None else render_scene(scene, rig, frames)
    if shot.margin:
        shot = shot.crop()
    src = rig.source_index
    matrix = build_frame_matrix(torch.from_numpy(shot.colors[src]), torch.from_numpy(shot.depth[src]), rig, cleanup=cleanup)
    scored = tuple(rig.target_indices)
    flow = np.stack([shot.backward_flow(v) for v in scored])
    valid = np.stack([shot.flow_valid(v) for v in scored])
    baseline = float(np.ptp(rig.positions[:, 0]))
    details = {
        "kind": scene.kind,
        "seed": scene.seed,
        "size": [scene.width, scene.height],
        "frames": shot.frames,
        "views": rig.views,
        "baseline_m": baseline,
        "max_disparity_px": scene.focal * baseline / scene.nearest_depth,
        "hole_fraction": float((~matrix.known[list(scored)]).float().mean()),
    }
    return EvalCase(f"scene:{scene.kind}", "scene", matrix, shot.colors, scored, flow, valid, shot.depth, details)


def _check_clip(frames: np.ndarray, depth_m: np.ndarray) -> None:
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise InputError(f"frames must be (T, H, W, 3) in [0, 1]; got shape {frames.shape}")
    if depth_m.shape != frames.shape[:3]:
        raise InputError(f"depth has shape {depth_m.shape} but the frames are {frames.shape[:3]}; give depth of this clip")
    if not np.isfinite(depth_m).all() or (depth_m <= 0).any():
        raise InputError("depth must be finite positive metres everywhere; convert relative depth with s2vg.geometry.depth first")


def _fill_source_holes(colors: torch.Tensor, known: torch.Tensor, depth: torch.Tensor, far_m: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Nearest-background fill of a virtual source view's holes (identical for every method)."""
    from s2vg.inpaint.baselines import NearestBackgroundInpainter

    t, h, w, _ = colors.shape
    rig = CameraRig(width=w, height=h, focal=1.0, positions=np.zeros((1, 3)))
    filled = NearestBackgroundInpainter()(FrameMatrix(colors[None], known[None], depth[None], rig))
    out_depth = filled.depth[0]
    out_depth = torch.where(out_depth > 0, out_depth, torch.full_like(out_depth, far_m))
    return filled.colors[0], out_depth


def round_trip_case(
    frames: np.ndarray | torch.Tensor,
    depth_m: np.ndarray | torch.Tensor,
    *,
    name: str = "clip",
    baseline: float | None = None,
    divergence_pct: float = 3.0,
    focal: float | None = None,
    views: int = 2,
    planes: int = 4,
    cleanup: bool = True,
    with_flow: bool = True,
) -> EvalCase:
    """The real-video round-trip protocol on one clip (see the module docstring).

    The real camera is the target; the virtual source sits ``baseline`` metres to its
    left, so the case is a left-to-right conversion (views ``linspace(0, baseline, V)``,
    the last one the real camera).

    Args:
        frames: ``(T, H, W, 3)`` float32 in [0, 1], the real clip.
        depth_m: ``(T, H, W)`` its depth in metres (any source: a model, a file, the truth).
        baseline: in metres; defaults to None: the baseline that gives the nearest content
            ``divergence_pct`` % of the width of disparity.
        focal: pixels; defaults to ``default_focal(W)``.
        views: V >= 2 (only the last view has truth); defaults to 2.
        with_flow: estimate the truth's backward flow (for flicker); defaults to True.
    """
    video = as_numpy(frames)
    depth = as_numpy(depth_m)
    _check_clip(video, depth)
    t, h, w, _ = video.shape
    focal = float(focal) if focal is not None else default_focal(w)
    if baseline is None:
        baseline = divergence_pct / 100.0 * w * float(depth.min()) / focal
    if not np.isfinite(baseline) or baseline <= 0:
        raise OptionError(f"round-trip baseline must be a positive number of metres; got {baseline!r}")
    rig = CameraRig.from_config(RigConfig(views=views, baseline=float(baseline), focal=focal), h, w)
    K = rig.intrinsics(torch.float64)
    video_t, depth_t = torch.from_numpy(video), torch.from_numpy(depth)

    # Leg 1: the real (target) camera at +baseline to the virtual source at 0.
    to_source = torch.eye(4, dtype=torch.float64)
    to_source[0, 3] = float(baseline)
    src_colors, src_known, src_depth = forward_warp(video_t, depth_t, K, to_source)
    if cleanup:
        src_colors, src_known, src_depth = multiplane_cleanup(src_colors, src_known, src_depth, planes)
    src_filled, src_depth_filled = _fill_source_holes(src_colors, src_known, src_depth, float(depth.max()))

    # Leg 2: the source, with a "real" flag channel, into every view of the rig.
    real = src_known.float().unsqueeze(-1)
    carried = torch.cat([src_filled, real], dim=-1)
    colors = torch.zeros((views, t, h, w, 3), dtype=torch.float32)
    known = torch.zeros((views, t, h, w), dtype=torch.bool)
    warped_depth = torch.zeros((views, t, h, w), dtype=torch.float32)
    tgt_from_src = rig.tgt_from_src(torch.float64)
    for v in range(views):
        if v == rig.source_index:
            colors[v], known[v], warped_depth[v] = src_filled, True, src_depth_filled
            continue
        out, mask, d = forward_warp(carried, src_depth_filled, K, tgt_from_src[v])
        if cleanup:
            out, mask, d = multiplane_cleanup(out, mask, d, planes)
        # A pixel counts as known only if every source pixel blended into it was real.
        mask = mask & (out[..., 3] >= 1.0 - 1e-6)
        colors[v] = torch.where(mask.unsqueeze(-1), out[..., :3], torch.zeros(()))
        known[v], warped_depth[v] = mask, torch.where(mask, d, torch.zeros(()))
    matrix = FrameMatrix(colors=colors, known=known, depth=warped_depth, rig=rig)

    target = views - 1
    truth = np.zeros((views, t, h, w, 3), np.float32)
    truth[target] = video
    truth_depth = None
    flow = valid = None
    if with_flow and t > 1:
        f, ok = estimate_backward_flow(video)
        flow, valid = f[None], ok[None]
    details = {
        "size": [w, h],
        "frames": t,
        "views": views,
        "baseline_m": float(baseline),
        "max_disparity_px": focal * float(baseline) / float(depth.min()),
        "source_hole_fraction": float((~src_known).float().mean()),
        "hole_fraction": float((~known[target]).float().mean()),
    }
    return EvalCase(f"round-trip:{name}", "round-trip", matrix, truth, (target,), flow, valid, truth_depth, details)


def fill_invalid_disparity(disparity_px: np.ndarray) -> np.ndarray:
    """Replace inf/NaN disparity from the background side.

    Along each row, every run of invalid values takes the smaller (farther) of the valid
    values at its two ends (the one end at a border); rows with no valid value then take
    the same rule along their column.

    Args:
        disparity_px: ``(..., H, W)`` disparity in pixels, inf or NaN where invalid.

    Returns:
        ``(..., H, W)`` float32 finite disparity.

    Raises:
        InputError: no valid value at all, or negative disparity.
    """
    d = np.asarray(disparity_px, np.float64).copy()
    valid = np.isfinite(d)
    if not valid.any():
        raise InputError("disparity has no finite value; give the left image's disparity in pixels (inf/NaN only where invalid)")
    if (d[valid] < 0).any():
        raise InputError(f"disparity has negative values (lowest {d[valid].min():g} px); give non-negative pixels")

    def along_last(values: np.ndarray, ok: np.ndarray) -> np.ndarray:
        n = values.shape[-1]
        index = np.arange(n)
        left = np.maximum.accumulate(np.where(ok, index, -1), axis=-1)
        right = np.minimum.accumulate(np.where(ok, index, n)[..., ::-1], axis=-1)[..., ::-1]
        left_val = np.where(left >= 0, np.take_along_axis(values, left.clip(0, n - 1), axis=-1), np.inf)
        right_val = np.where(right < n, np.take_along_axis(values, right.clip(0, n - 1), axis=-1), np.inf)
        return np.where(ok, values, np.minimum(left_val, right_val))

    d = along_last(np.where(valid, d, np.inf), valid)
    still = np.isfinite(d)
    if not still.all():
        d = np.swapaxes(along_last(np.swapaxes(d, -1, -2), np.swapaxes(still, -1, -2)), -1, -2)
    if not np.isfinite(d).all():  # whole frames without any valid value
        d = np.where(np.isfinite(d), d, np.nanmin(np.where(np.isfinite(d), d, np.nan)))
    return d.astype(np.float32)


def pair_case(
    left: np.ndarray | torch.Tensor,
    right: np.ndarray | torch.Tensor,
    disparity_px: np.ndarray | torch.Tensor,
    *,
    name: str = "pair",
    views: int = 2,
    planes: int = 4,
    cleanup: bool = True,
) -> EvalCase:
    """A rectified stereo pair: warp the left image to the right camera, the real right is the truth.

    Args:
        left, right: ``(H, W, 3)`` images or ``(T, H, W, 3)`` clips in [0, 1].
        disparity_px: ``(H, W)`` or ``(T, H, W)`` disparity of the left image in pixels
            (the right image shows left pixel x at x - d); inf/NaN where invalid, filled
            from the background side (:func:`fill_invalid_disparity`).
        views: V >= 2; the last is the right camera (only it is scored).
    """
    l_img, r_img = as_numpy(left), as_numpy(right)
    disp = as_numpy(disparity_px, np.float64)
    if l_img.ndim == 3:
        l_img, r_img, disp = l_img[None], r_img[None], disp[None]
    if l_img.shape != r_img.shape or l_img.ndim != 4 or l_img.shape[-1] != 3:
        raise InputError(f"left {l_img.shape} and right {r_img.shape} must be images of the same (H, W, 3) size")
    if disp.shape != l_img.shape[:3]:
        raise InputError(f"disparity has shape {disp.shape} but the images are {l_img.shape[:3]}; give the left image's disparity")
    disp = fill_invalid_disparity(disp)
    t, h, w, _ = l_img.shape
    focal, baseline = default_focal(w), 0.1  # any pair with focal * baseline = d * z gives the same warp
    depth = disparity_to_depth(torch.from_numpy(disp), focal, baseline)
    rig = CameraRig.from_config(RigConfig(views=views, baseline=baseline, focal=focal), h, w)
    matrix = build_frame_matrix(torch.from_numpy(np.ascontiguousarray(l_img)), depth, rig, planes=planes, cleanup=cleanup)
    truth = np.zeros((views, t, h, w, 3), np.float32)
    truth[0], truth[-1] = l_img, r_img
    flow = valid = None
    if t > 1:
        f, ok = estimate_backward_flow(r_img)
        flow, valid = f[None], ok[None]
    details = {
        "size": [w, h],
        "frames": t,
        "max_disparity_px": float(disp.max()),
        "hole_fraction": float((~matrix.known[-1]).float().mean()),
    }
    return EvalCase(name, "pair", matrix, truth, (views - 1,), flow, valid, None, details)
