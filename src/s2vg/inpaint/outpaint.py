"""Outpaint, then inpaint (DESIGN.md 3c): extend the source beyond the border a new view reveals.

A camera moved right sees content beyond the source's right border: in a plain frame
matrix the right edge strip of that view, as wide as the disparity of what touches the
border (``f b / z``), is unknown, and no real pixel exists to fill it. This module
extends the source video beyond that border first (:func:`extend_frames`), warps the
extended video, and crops back (:func:`build_frame_matrix_outpainted`), so that the strip
shows a continuation of the content instead of a stretched or black edge.

Margins (:func:`outpaint_margins`): a view at ``x`` metres with sensor shift ``s`` moves a
pixel at depth ``z`` by ``d = -f x / z + s`` pixels. The right border is revealed where
``d < 0``, by ``-d`` pixels; the left where ``d > 0``. The margin of a side is the largest
such value over every view, frame and row in a band of ``band`` columns at that border
(what touches the border), rounded up; a side whose margin is below ``min_margin`` is not
extended (nothing there to continue).

Extension (:func:`extend_frames`), colours by ``method``, depth always by repeating the
border pixel along its row (a subject cut by the border continues at its depth, so its
continuation moves with it and covers the whole revealed strip):

- ``"classical"``: offline, no weights. Real pixels of other frames first: a camera that
  pans sees beyond the border at other times. The motion of the content at each border
  (the median optical flow, OpenCV DIS, of a band of columns there, accumulated over
  frames, rounded to whole pixels) says where a margin pixel of frame ``t`` is in frame
  ``s``; it is copied from the
  nearest frame in time that holds it inside the picture, if the border band looks the
  same in both frames after that motion (mean absolute difference below
  ``colour_tolerance``). What no frame shows is the border pixel repeated along its row,
  which measured better than mirroring or the classical hole fill on the rendered scenes
  and the round-trip clips (``benchmarks/outpaint.py``).
- ``"diffusion"``: the frame-matrix sampler on the same one-view matrix with the video
  model (video outpainting is inpainting of the extended strip; a one-view matrix has no
  rows, so every resample runs along time).
- ``"mirror"``: the border band reflected (OpenCV's BORDER_REFLECT_101).
- ``"stretch"``: the border pixel repeated (edge stretching; a baseline).

Warp (:func:`build_frame_matrix_outpainted`): the extended frames go through the project's
forward warp and multi-plane cleanup with the rig's focal, positions and sensor shifts and
the principal point of the original camera (``cx = W / 2 + margin_left`` in the extended
frame), so every pixel lands ``margin_left`` pixels right of where the plain warp puts it;
a fourth channel marks real pixels through the warp and the cleanup.

Known stays honest: ``known`` is True only where every contribution was a real source
pixel. The warped extension is returned as a hint: colours and depth set, ``known`` False,
and the :class:`OutpaintedFrameMatrix` field ``filled`` True. An inpainter fills unknown
pixels and would overwrite the hint; :func:`inpaint_outpainted` runs any inpainter with the
hint treated as known and gives the result back with ``known`` marking real pixels only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from s2vg.config import DiffusionConfig, OutpaintConfig
from s2vg.errors import InputError, OptionError
from s2vg.geometry.build import build_frame_matrix
from s2vg.geometry.cleanup import multiplane_cleanup
from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.geometry.rig import CameraRig
from s2vg.geometry.warp import forward_warp
from s2vg.progress import SILENT, Progress

ExtendMethod = Literal["auto", "classical", "diffusion", "mirror", "stretch"]
EXTEND_METHODS: tuple[str, ...] = ("auto", "classical", "diffusion", "mirror", "stretch")
#: Pixels warped per call (as :mod:`s2vg.geometry.build`).
_PIXELS_PER_BATCH = 1_500_000


@dataclass(frozen=True, eq=False)
class OutpaintedFrameMatrix(FrameMatrix):
    """A :class:`FrameMatrix` whose border strips hold the warped extension as a hint.

    Attributes:
        filled: ``(V, T, H, W)`` bool, True where ``colors`` and ``depth`` come from the
            invented extension (``known`` is False there).
        margins: ``(left, right)`` pixels the source was extended by.
    """

    filled: torch.Tensor = field(default=None)
    margins: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.filled is None or tuple(self.filled.shape) != tuple(self.known.shape):
            shape = None if self.filled is None else tuple(self.filled.shape)
            raise ValueError(f"filled must be (V, T, H, W) = {tuple(self.known.shape)}; got {shape}")


def outpaint_margins(depth_m: torch.Tensor, rig: CameraRig, *, band: int = OutpaintConfig.border_band,
                     min_margin: int = OutpaintConfig.min_margin) -> tuple[int, int]:
    """``(left, right)`` pixels the rig's views reveal beyond the source's borders.

    Args:
        depth_m: ``(T, H, W)`` source depth in metres.
        rig: the cameras (focal, positions, sensor shifts).
        band: columns at each border whose content counts as touching it.
        min_margin: margins below this many pixels count as 0.
    """
    depth = torch.as_tensor(depth_m).float()
    band = max(1, min(int(band), depth.shape[-1]))
    x = torch.as_tensor(rig.positions[:, 0], dtype=torch.float64)
    shift = torch.zeros_like(x) if rig.principal_shift is None else torch.as_tensor(rig.principal_shift, dtype=torch.float64)
    margins = []
    for side, columns in (("left", depth[..., :band]), ("right", depth[..., -band:])):
        inv = 1.0 / columns.double().clamp_min(1e-6)
        near, far = float(inv.max()), float(inv.min())
        # d = -f x inv + s is linear in inv: its extremes over the band are at the extremes of inv.
        d = torch.stack([-rig.focal * x * near + shift, -rig.focal * x * far + shift])
        reveal = float(d.max()) if side == "left" else float(-d.min())
        margin = int(math.ceil(reveal - 1e-9)) if reveal > 0 else 0
        margins.append(margin if margin >= min_margin else 0)
    return margins[0], margins[1]


def extend_frames(
    frames: torch.Tensor,
    depth_m: torch.Tensor,
    margin_left: int,
    margin_right: int,
    method: ExtendMethod = OutpaintConfig.method,
    denoiser: object | None = None,
    *,
    prompt: str = "",
    config: DiffusionConfig | None = None,
    progress: Progress = SILENT,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The clip extended by ``margin_left`` and ``margin_right`` columns.

    Args:
        frames: ``(T, H, W, 3)`` float32 in [0, 1].
        depth_m: ``(T, H, W)`` depth in metres.
        margin_left, margin_right: columns to add on each side, >= 0.
        method: ``"classical"``, ``"diffusion"``, ``"mirror"`` or ``"stretch"`` (module
            docstring), or ``"auto"``: diffusion when a ``denoiser`` is given, else classical.
        denoiser: the :class:`~s2vg.inpaint.diffusion.VideoDenoiser` for ``"diffusion"``.
        prompt: text describing the clip (``"diffusion"``).
        config: sampler options for ``"diffusion"``; defaults to ``DiffusionConfig()``.
        progress: progress sink.

    Returns:
        ``(frames, depth)``: ``(T, H, W + L + R, 3)`` float32 in [0, 1] whose columns
        ``[L, L + W)`` are the input exactly, and ``(T, H, W + L + R)`` float32 depth
        (the border depth repeated along each row).
    """
    frames, depth_m = _check_clip(frames, depth_m)
    if method not in EXTEND_METHODS:
        raise OptionError(f"outpaint method must be one of {', '.join(EXTEND_METHODS)}; got {method!r}")
    if method == "auto":
        method = "diffusion" if denoiser is not None else "classical"
    left, right = int(margin_left), int(margin_right)
    if left < 0 or right < 0:
        raise OptionError(f"outpaint margins must be >= 0 pixels; got {margin_left!r} and {margin_right!r}")
    t, h, w, _ = frames.shape
    depth = _replicate_columns(depth_m.unsqueeze(-1), left, right).squeeze(-1)
    if left == 0 and right == 0:
        return frames.clone(), depth
    if method == "stretch":
        return _replicate_columns(frames, left, right), depth
    if method == "mirror":
        if max(left, right) > w - 1:
            raise OptionError(f"a mirror extension of {max(left, right)} px needs frames wider than that; got width {w}")
        flat = frames.permute(0, 3, 1, 2)
        return F.pad(flat, (left, right, 0, 0), mode="reflect").permute(0, 2, 3, 1).contiguous(), depth
    if method == "classical":
        colors = _replicate_columns(frames, left, right)
        found, values = _from_other_frames(frames.numpy(), left, right)
        colors = torch.where(torch.from_numpy(found).unsqueeze(-1), torch.from_numpy(values), colors)
    else:
        if denoiser is None:
            raise OptionError("outpaint method 'diffusion' needs a video model (denoiser); use 'classical' without one")
        from s2vg.inpaint.diffusion.sampler import FrameMatrixSampler

        matrix = _one_view_matrix(frames, depth, left, right)
        colors = FrameMatrixSampler(denoiser, config)(matrix, prompt, progress).frames[0]
    colors = colors.float().clamp(0, 1)
    colors[:, :, left:left + w] = frames  # the real pixels exactly
    return colors, depth


def build_frame_matrix_outpainted(
    frames: torch.Tensor,
    depth_m: torch.Tensor,
    rig: CameraRig,
    *,
    planes: int = 4,
    cleanup: bool = True,
    margin: int | tuple[int, int] | None = OutpaintConfig.margin,
    method: ExtendMethod = OutpaintConfig.method,
    denoiser: object | None = None,
    prompt: str = "",
    config: DiffusionConfig | None = None,
    min_margin: int = OutpaintConfig.min_margin,
    band: int = OutpaintConfig.border_band,
    progress: Progress = SILENT,
) -> FrameMatrix:
    """:func:`~s2vg.geometry.build.build_frame_matrix` with the source extended first.

    Args:
        frames, depth_m, rig, planes, cleanup: as ``build_frame_matrix``.
        margin: None (default) for :func:`outpaint_margins`; an int for that many pixels
            on every side the rig reveals; or ``(left, right)`` literally.
        method, denoiser, prompt, config: how to extend (:func:`extend_frames`).
        min_margin, band: as :func:`outpaint_margins`.
        progress: progress sink.

    Returns:
        An :class:`OutpaintedFrameMatrix` shaped like ``build_frame_matrix``'s output
        (``known`` True only for real pixels; ``filled`` marks the warped extension), or
        the plain ``build_frame_matrix`` result when no side needs extending.
    """
    frames, depth_m = _check_clip(frames, depth_m)
    t, h, w, _ = frames.shape
    if (rig.height, rig.width) != (h, w):
        raise InputError(f"rig is {rig.height}x{rig.width} but frames are {h}x{w}; build the rig for this clip")
    left, right = _resolve_margins(margin, depth_m, rig, band, min_margin)
    if left == 0 and right == 0:
        return build_frame_matrix(frames, depth_m, rig, planes=planes, cleanup=cleanup, progress=progress)
    wide, wide_depth = extend_frames(frames, depth_m, left, right, method, denoiser, prompt=prompt, config=config,
                                     progress=progress)
    return warp_extended(wide, wide_depth, rig, left, right, planes=planes, cleanup=cleanup, progress=progress)


def warp_extended(wide: torch.Tensor, wide_depth: torch.Tensor, rig: CameraRig, left: int, right: int, *,
                  planes: int = 4, cleanup: bool = True, progress: Progress = SILENT) -> OutpaintedFrameMatrix:
    """Warp an extended clip into every view of ``rig`` (made for the original frame) and crop back.

    Args:
        wide: ``(T, H, L + W + R, 3)`` float32 in [0, 1]: the clip with ``left`` and
            ``right`` extra columns (from :func:`extend_frames`, or a render's truth).
        wide_depth: ``(T, H, L + W + R)`` depth in metres.
        rig: the cameras of the original ``W``-wide frame.
        left, right: the margins.
        planes, cleanup, progress: as ``build_frame_matrix``.

    Returns:
        :class:`OutpaintedFrameMatrix` of the ``W``-wide views; the source view is the
        original clip (the extension's middle), fully known.
    """
    wide, wide_depth = _check_clip(wide, wide_depth)
    t, h, wide_w, _ = wide.shape
    w = wide_w - left - right
    if (rig.height, rig.width) != (h, w):
        raise InputError(f"rig is {rig.height}x{rig.width} but the extended clip without its margins is {h}x{w}")
    frames, depth_m = wide[:, :, left:left + w], wide_depth[:, :, left:left + w]
    real = torch.zeros(t, h, wide_w, 1)
    real[:, :, left:left + w] = 1.0
    carried = torch.cat([wide, real], dim=-1)  # the 4th channel says "real pixel" through warp and cleanup
    v = rig.views
    colors = torch.zeros((v, t, h, w, 3), dtype=torch.float32)
    known = torch.zeros((v, t, h, w), dtype=torch.bool)
    filled = torch.zeros((v, t, h, w), dtype=torch.bool)
    depth = torch.zeros((v, t, h, w), dtype=torch.float32)
    K = rig.intrinsics(torch.float64)
    K[0, 2] += left  # the original camera's principal point in the extended frame
    tgt_from_src = rig.tgt_from_src(torch.float64)
    source = rig.source_index
    batch = max(1, _PIXELS_PER_BATCH // (h * wide_w))
    with progress.stage("frame matrix (outpainted)", total=v * t, unit="frame-view") as bar:
        for view in range(v):
            if view == source:
                colors[view], known[view], depth[view] = frames, True, depth_m
                bar.update(t)
                continue
            K_tgt = K.clone()
            if rig.principal_shift is not None:
                K_tgt[0, 2] += float(rig.principal_shift[view])
            for start in range(0, t, batch):
                stop = min(t, start + batch)
                out, mask, d = forward_warp(carried[start:stop], wide_depth[start:stop], K, tgt_from_src[view], K_tgt)
                if cleanup:
                    out, mask, d = multiplane_cleanup(out, mask, d, planes)
                out, mask, d = out[:, :, left:left + w], mask[:, :, left:left + w], d[:, :, left:left + w]
                is_real = mask & (out[..., 3] >= 1.0 - 1e-6)
                colors[view, start:stop] = torch.where(mask.unsqueeze(-1), out[..., :3], torch.zeros(()))
                known[view, start:stop], filled[view, start:stop] = is_real, mask & ~is_real
                depth[view, start:stop] = torch.where(mask, d, torch.zeros(()))
                bar.update(stop - start)
    return OutpaintedFrameMatrix(colors=colors, known=known, depth=depth, rig=rig, filled=filled, margins=(left, right))


def inpaint_outpainted(inpainter: object, matrix: FrameMatrix, progress: Progress = SILENT, *,
                       in_place: bool = False, frames: slice = slice(None)) -> FrameMatrix:
    """Fill ``matrix`` with ``inpainter``, keeping the outpainted hint of an
    :class:`OutpaintedFrameMatrix` (treated as known while filling).

    ``in_place`` lets an inpainter that can (``fills_in_place``) overwrite ``matrix``'s
    own arrays instead of copying them; the caller must not use ``matrix`` afterwards.
    ``frames`` (a slice of timestamps) names the frames the caller keeps: an inpainter that
    can (``fills_frame_range``) fills those (and what it needs before them) and only reads
    the others; any other fills all.

    Returns:
        The filled matrix with ``known`` as it came in (real pixels only), so callers
        still see what was invented; a plain :class:`FrameMatrix` goes straight through
        ``inpainter``.
    """
    extra: dict = {"in_place": True} if in_place and getattr(inpainter, "fills_in_place", False) else {}
    if frames != slice(None) and getattr(inpainter, "fills_frame_range", False):
        extra["frames"] = frames
    if not isinstance(matrix, OutpaintedFrameMatrix):
        return inpainter(matrix, progress, **extra)
    plain = FrameMatrix(colors=matrix.colors, known=matrix.known | matrix.filled, depth=matrix.depth, rig=matrix.rig)
    out = inpainter(plain, progress, **extra)
    return OutpaintedFrameMatrix(colors=out.colors, known=matrix.known, depth=out.depth, rig=matrix.rig,
                                 filled=matrix.filled, margins=matrix.margins)


def border_strip(depth_m: torch.Tensor | np.ndarray, positions_x: float, focal: float, shift: float = 0.0
                 ) -> np.ndarray:
    """``(T, H, W)`` bool: the pixels of a view whose content lies beyond the source's borders.

    A view at ``positions_x`` metres (sensor shift ``shift`` px) shows at pixel ``x`` the
    source point ``x + f b / z - shift`` with ``z`` the view's own depth there; the pixel is
    in the border strip when that point is outside ``[0, W)``. Used to score outpainting.

    Args:
        depth_m: ``(T, H, W)`` the view's true depth in metres.
    """
    depth = np.asarray(depth_m, np.float64)
    w = depth.shape[-1]
    x = np.arange(w, dtype=np.float64)
    src = x + focal * positions_x / np.maximum(depth, 1e-6) - shift
    return (np.rint(src) < 0) | (np.rint(src) > w - 1)


# -- helpers ---------------------------------------------------------------------------------
def _check_clip(frames: torch.Tensor, depth_m: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    frames, depth_m = torch.as_tensor(frames), torch.as_tensor(depth_m)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise InputError(f"frames must be (T, H, W, 3) in [0, 1]; got shape {tuple(frames.shape)}")
    if tuple(depth_m.shape) != tuple(frames.shape[:3]):
        raise InputError(f"depth has shape {tuple(depth_m.shape)} but the frames are {tuple(frames.shape[:3])}; "
                         "give depth of this clip")
    return frames.float().cpu(), depth_m.float().cpu()


def _resolve_margins(margin: int | tuple[int, int] | None, depth_m: torch.Tensor, rig: CameraRig, band: int,
                     min_margin: int) -> tuple[int, int]:
    if margin is None:
        return outpaint_margins(depth_m, rig, band=band, min_margin=min_margin)
    if isinstance(margin, tuple):
        left, right = (int(m) for m in margin)
    else:
        revealed = outpaint_margins(depth_m, rig, band=band, min_margin=1)
        left, right = (int(margin) if m > 0 else 0 for m in revealed)
    if left < 0 or right < 0:
        raise OptionError(f"outpaint margins must be >= 0 pixels; got {margin!r}")
    return left, right


def _replicate_columns(x: torch.Tensor, left: int, right: int) -> torch.Tensor:
    """``(T, H, W, C)`` padded with ``left``/``right`` copies of its first/last column."""
    if left == 0 and right == 0:
        return x.clone()
    return F.pad(x.permute(0, 3, 1, 2), (left, right, 0, 0), mode="replicate").permute(0, 2, 3, 1).contiguous()


def _from_other_frames(frames: np.ndarray, left: int, right: int, band: int = 8,
                       colour_tolerance: float = 0.06) -> tuple[np.ndarray, np.ndarray]:
    """Margin pixels seen inside the picture at other times (module docstring, ``"classical"``).

    Args:
        frames: ``(T, H, W, 3)`` float32 in [0, 1].

    Returns:
        ``found`` ``(T, H, W + L + R)`` bool and ``values`` ``(T, H, W + L + R, 3)`` float32.
    """
    import cv2

    t, h, w, _ = frames.shape
    wide = w + left + right
    found = np.zeros((t, h, wide), bool)
    values = np.zeros((t, h, wide, 3), np.float32)
    if t < 2 or min(h, w) < 16:  # DIS needs a few pyramid levels
        return found, values
    gray = [cv2.cvtColor(np.clip(f * 255 + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY) for f in frames]
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    band = max(1, min(band, w // 2))
    sides = [(slice(0, band), left, np.arange(-left, 0)), (slice(w - band, w), right, np.arange(w, w + right))]
    flows = [dis.calc(gray[i], gray[i + 1], None) for i in range(t - 1)]
    ys = np.arange(h, dtype=np.float32)[:, None]
    for columns, margin, xs in sides:
        if margin == 0:
            continue
        # Position of the band's content in frame i relative to frame 0 (pixels, x and y).
        steps = np.array([np.median(f[:, columns].reshape(-1, 2), axis=0) for f in flows])
        position = np.concatenate([np.zeros((1, 2)), np.cumsum(steps, axis=0)])
        band_x = np.arange(w, dtype=np.float32)[columns][None]
        out_cols = xs + left  # where these margin columns sit in the extended frame
        for i in range(t):
            todo = np.ones((h, margin), bool)
            for j in sorted(range(t), key=lambda j: (abs(j - i), j)):
                if j == i or not todo.any():
                    continue
                # Whole pixels: copies stay sharp (a sub-pixel pan is off by at most half a pixel).
                dx, dy = np.rint(position[j] - position[i]).astype(np.float32)
                # Is the band itself the same content in frame j after this motion?
                map_x = np.broadcast_to(band_x + dx, (h, band)).astype(np.float32)
                map_y = np.broadcast_to(ys + dy, (h, band)).astype(np.float32)
                moved = cv2.remap(frames[j], map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                  borderValue=(-1.0, -1.0, -1.0))
                ok = (moved >= 0).all(axis=-1)
                if ok.mean() < 0.5 or np.abs(moved[ok] - frames[i][:, columns][ok]).mean() > colour_tolerance:
                    continue
                mx = np.broadcast_to(xs[None].astype(np.float32) + dx, (h, margin)).astype(np.float32)
                my = np.broadcast_to(ys + dy, (h, margin)).astype(np.float32)
                inside = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1) & todo
                if not inside.any():
                    continue
                sample = cv2.remap(frames[j], mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                rows, cols = np.nonzero(inside)
                values[i, rows, out_cols[cols]] = sample[rows, cols]
                found[i, rows, out_cols[cols]] = True
                todo &= ~inside
    return found, values


def _one_view_matrix(frames: torch.Tensor, depth: torch.Tensor, left: int, right: int) -> FrameMatrix:
    """A one-view matrix of the extended clip whose margins are unknown."""
    t, h, w, _ = frames.shape
    wide = w + left + right
    colors = torch.zeros(1, t, h, wide, 3)
    colors[0, :, :, left:left + w] = frames
    known = torch.zeros(1, t, h, wide, dtype=torch.bool)
    known[0, :, :, left:left + w] = True
    rig = CameraRig(width=wide, height=h, focal=1.0, positions=np.zeros((1, 3)))
    return FrameMatrix(colors=colors, known=known, depth=depth.unsqueeze(0), rig=rig)


__all__ = [
    "EXTEND_METHODS",
    "OutpaintedFrameMatrix",
    "border_strip",
    "build_frame_matrix_outpainted",
    "extend_frames",
    "inpaint_outpainted",
    "outpaint_margins",
    "warp_extended",
]
