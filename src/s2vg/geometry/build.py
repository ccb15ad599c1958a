"""Compose the geometry into a frame matrix: warp every frame into every view, clean up."""

from __future__ import annotations

import torch

from s2vg.geometry.cleanup import CRACK_RULES, multiplane_cleanup
from s2vg.geometry.edges import edge_drop_mask, spoiled_edge_lines
from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.geometry.rig import CameraRig
from s2vg.geometry.warp import forward_warp
from s2vg.progress import SILENT, Progress

#: Pixels warped per call. Larger batches stop fitting the allocator's cached blocks
#: and pay page faults on every call; 1.5 M (8 frames of 320x576) measured fastest here.
_PIXELS_PER_BATCH = 1_500_000


def build_frame_matrix(
    frames: torch.Tensor,
    depth_m: torch.Tensor,
    rig: CameraRig,
    *,
    planes: int = 4,
    cleanup: bool = True,
    progress: Progress = SILENT,
    out: FrameMatrix | None = None,
    crack_rule: str = CRACK_RULES[0],
    drop_spoiled_edges: bool = True,
) -> FrameMatrix:
    """Warp a clip into every view of the rig.

    The view at the source position is the clip itself, fully known. Every other view is
    the forward warp of each frame with its depth, followed by the multi-plane cleanup.

    Args:
        frames: ``(T, H, W, 3)`` float32 in [0, 1].
        depth_m: ``(T, H, W)`` float32 depth in metres (see :mod:`s2vg.geometry.depth`).
        rig: cameras; its width and height must match the frames.
        planes: depth planes of the cleanup; defaults to 4.
        cleanup: run the multi-plane cleanup; defaults to True.
        progress: receives one update per frame-view.
        crack_rule: the cleanup's crack rule (:mod:`s2vg.geometry.cleanup`); defaults to
            ``"two-sided"``, ``"reference"`` reproduces the authors' code.
        out: a matrix of the same rig and shape to write into (its arrays may be views of
            a larger buffer, as a sliding render window's); defaults to new arrays.
        drop_spoiled_edges: the source's spoiled lines at the two borders across the rig's
            baseline (:mod:`s2vg.geometry.edges`, found per frame) are not warped into the
            other views, where they would show as a line inside the picture; the source
            view keeps them. Defaults to True.

    Returns:
        :class:`FrameMatrix` with ``colors (V, T, H, W, 3)`` (``out`` itself when given).
    """
    t, h, w, _ = frames.shape
    if (rig.height, rig.width) != (h, w):
        raise ValueError(f"rig is {rig.height}x{rig.width} but frames are {h}x{w}")
    frames = frames.float()
    depth_m = depth_m.float()
    v = rig.views
    if out is not None:
        if tuple(out.colors.shape) != (v, t, h, w, 3) or out.colors.dtype != torch.float32:
            raise ValueError(f"out is {tuple(out.colors.shape)} {out.colors.dtype}; need {(v, t, h, w, 3)} float32")
        colors, known, depth = out.colors, out.known, out.depth
    else:
        colors = torch.zeros((v, t, h, w, 3), dtype=torch.float32)
        known = torch.zeros((v, t, h, w), dtype=torch.bool)
        depth = torch.zeros((v, t, h, w), dtype=torch.float32)
    K = rig.intrinsics(torch.float64)
    tgt_from_src = rig.tgt_from_src(torch.float64)
    source = rig.source_index
    batch = max(1, _PIXELS_PER_BATCH // (h * w))
    drop = _spoiled_edges(frames, rig) if drop_spoiled_edges and v > 1 else None
    with progress.stage("frame matrix", total=v * t, unit="frame-view") as bar:
        for view in range(v):
            if view == source:
                colors[view], known[view], depth[view] = frames, True, depth_m
                bar.update(t)
                continue
            for start in range(0, t, batch):
                stop = min(t, start + batch)
                warped, mask, warped_depth = forward_warp(
                    frames[start:stop], depth_m[start:stop], K, tgt_from_src[view], rig.intrinsics(torch.float64, view),
                    drop=None if drop is None else drop[start:stop],
                )
                if cleanup:
                    warped, mask, warped_depth = multiplane_cleanup(warped, mask, warped_depth, planes, crack_rule=crack_rule)
                colors[view, start:stop], known[view, start:stop], depth[view, start:stop] = warped, mask, warped_depth
                bar.update(stop - start)
    return out if out is not None else FrameMatrix(colors=colors, known=known, depth=depth, rig=rig)


def _spoiled_edges(frames: torch.Tensor, rig: CameraRig) -> torch.Tensor | None:
    """``(T, H, W)`` bool spoiled border lines across the rig's baseline (columns for a
    horizontal rig, rows for a vertical one), or None where there are none."""
    offsets = rig.positions[:, :2] - rig.positions[rig.source_index, :2]
    vertical = float(abs(offsets[:, 1]).sum()) > float(abs(offsets[:, 0]).sum())
    across = frames.transpose(1, 2) if vertical else frames
    counts = spoiled_edge_lines(across)
    if not bool(counts.any()):
        return None
    mask = edge_drop_mask(across, counts)
    return mask.transpose(1, 2) if vertical else mask
