"""Forward warping with a z-buffer: splat every source pixel into a target camera.

Convention: pixel centres at integer coordinates, origin top-left, x right, y down,
z forward; intrinsics ``K`` are ``[[f, 0, cx], [0, f, cy], [0, 0, 1]]``; transforms are
``tgt_from_src`` (points in the source camera to points in the target camera), i.e. the
inverse of the target's camera-to-world pose when the source is the world origin. A
positive baseline moves the camera right, so nearer content shifts left.

Projection runs in float64: in float32 about one projected pixel in 10^5 rounds to the
other side of a half-pixel boundary compared with the reference implementation.
"""

from __future__ import annotations

import torch


def pixel_grid(height: int, width: int, dtype: torch.dtype = torch.float64, device: torch.device | None = None) -> torch.Tensor:
    """``(H, W, 2)`` pixel coordinates (u, v) of every pixel centre."""
    v, u = torch.meshgrid(
        torch.arange(height, dtype=dtype, device=device), torch.arange(width, dtype=dtype, device=device), indexing="ij"
    )
    return torch.stack([u, v], dim=-1)


def unproject(depth_m: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Lift every pixel to a 3D point in its camera.

    Args:
        depth_m: ``(*, H, W)`` depth along z in metres.
        K: ``(3, 3)`` intrinsics.

    Returns:
        ``(*, H, W, 3)`` points (x, y, z) in the camera frame, dtype of ``K``.

    Example:
        >>> K = torch.tensor([[2.0, 0, 1], [0, 2.0, 1], [0, 0, 1]], dtype=torch.float64)
        >>> unproject(torch.full((2, 2), 4.0), K)[1, 1]
        tensor([0., 0., 4.], dtype=torch.float64)
    """
    h, w = depth_m.shape[-2:]
    z = depth_m.to(K.dtype)
    uv = pixel_grid(h, w, K.dtype, depth_m.device)
    f_x, f_y, c_x, c_y = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    x = (uv[..., 0] - c_x) * z / f_x
    y = (uv[..., 1] - c_y) * z / f_y
    return torch.stack([x, y, z], dim=-1)


def transform_points(points: torch.Tensor, tgt_from_src: torch.Tensor) -> torch.Tensor:
    """Apply a rigid ``(4, 4)`` or broadcastable ``(*, 4, 4)`` transform to ``(*, N..., 3)`` points.

    Args:
        points: ``(B, ..., 3)`` points.
        tgt_from_src: ``(4, 4)``, or ``(B, 4, 4)`` with one transform per leading item.
    """
    rot, trans = tgt_from_src[..., :3, :3], tgt_from_src[..., :3, 3]
    if tgt_from_src.dim() == 2:
        return points @ rot.T + trans
    extra = points.dim() - 2
    shape = (rot.shape[0],) + (1,) * extra
    rot_t = rot.transpose(-1, -2).reshape(shape[0], *([1] * (extra - 1)), 3, 3)
    return points @ rot_t + trans.reshape(*shape, 3)


def project(points: torch.Tensor, K: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Project camera-frame points to pixels.

    Args:
        points: ``(*, 3)`` points in the camera frame.
        K: ``(3, 3)`` intrinsics.

    Returns:
        ``uv`` ``(*, 2)`` continuous pixel coordinates and ``z`` ``(*,)`` depth; points with
        z <= 0 get uv of NaN-free garbage and must be rejected by the caller through ``z``.
    """
    z = points[..., 2]
    safe_z = torch.where(z > 0, z, torch.ones_like(z))
    u = K[0, 0] * points[..., 0] / safe_z + K[0, 2]
    v = K[1, 1] * points[..., 1] / safe_z + K[1, 2]
    return torch.stack([u, v], dim=-1), z


def splat_nearest(
    uv: torch.Tensor, z: torch.Tensor, height: int, width: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Z-buffer splat of points onto target images: the nearest point wins each pixel.

    Coordinates are rounded half to even; bounds are tested on the signed rounded values.
    Ties in depth go to the smallest source index, so the result never depends on the
    order of writes: depth (as float32 bits, which order like the values for z > 0) and
    source index are packed into one int64 key and reduced with ``amin``.

    Args:
        uv: ``(N, P, 2)`` continuous target pixel coordinates of P source points per image.
        z: ``(N, P)`` target depth; points with z <= 0 are dropped.
        height, width: target size.

    Returns:
        ``winner`` ``(N, H, W)`` int64: index into P of the point seen at each target pixel,
        or -1 where nothing lands (disoccluded); ``depth`` ``(N, H, W)`` float32 of the
        winner (0 where -1).
    """
    n, p = z.shape
    hw = height * width
    u = torch.round(uv[..., 0])
    v = torch.round(uv[..., 1])
    z32 = z.float()
    valid = (z32 > 0) & (u >= 0) & (u < width) & (v >= 0) & (v < height)
    image_offset = (torch.arange(n, device=z.device) * hw).unsqueeze(1)
    # Points that land nowhere go to one extra sink slot instead of being compacted out.
    flat_tgt = torch.where(valid, image_offset + v.long() * width + u.long(), torch.full_like(image_offset, n * hw))
    src_idx = torch.arange(p, device=z.device).unsqueeze(0)
    key = (z32.view(torch.int32).long() << 32) | src_idx
    empty = torch.iinfo(torch.int64).max
    buffer = torch.full((n * hw + 1,), empty, dtype=torch.int64, device=z.device)
    buffer.scatter_reduce_(0, flat_tgt.reshape(-1), key.reshape(-1), reduce="amin")
    buffer = buffer[:-1]
    known = buffer != empty
    winner = torch.where(known, buffer & 0xFFFFFFFF, torch.full_like(buffer, -1))
    depth = torch.where(known, (buffer >> 32).int().view(torch.float32), torch.zeros((), dtype=torch.float32))
    return winner.view(n, height, width), depth.view(n, height, width)


def _is_parallel_shift(tgt_from_src: torch.Tensor) -> bool:
    """True when the transform only translates within the image plane (every s2vg rig)."""
    eye = torch.eye(3, dtype=tgt_from_src.dtype, device=tgt_from_src.device)
    return bool(torch.equal(tgt_from_src[..., :3, :3], eye.expand_as(tgt_from_src[..., :3, :3]))) and bool(
        (tgt_from_src[..., 2, 3] == 0).all()
    )


def _target_pixels_by_shift(depth_m: torch.Tensor, K: torch.Tensor, tgt_from_src: torch.Tensor, K_tgt: torch.Tensor):
    """Target pixels for a pure x/y translation: u' = u + f*t_x/z (+ principal shift), z' = z."""
    n, h, w = depth_m.shape
    uv = pixel_grid(h, w, K.dtype, depth_m.device).reshape(1, h * w, 2)
    z = depth_m.reshape(n, h * w).to(K.dtype)
    trans = tgt_from_src[..., :2, 3].reshape(-1, 1, 2)
    focal = torch.stack([K[0, 0], K[1, 1]])
    uv_t = uv + (trans * focal) / z.unsqueeze(-1)
    if K_tgt is not K:
        uv_t = uv_t + (K_tgt[:2, 2] - K[:2, 2])
    return uv_t, z


def _target_pixels_by_projection(depth_m: torch.Tensor, K: torch.Tensor, tgt_from_src: torch.Tensor, K_tgt: torch.Tensor):
    """Target pixels for any rigid transform: unproject, transform, project."""
    n, h, w = depth_m.shape
    points = transform_points(unproject(depth_m, K).reshape(n, h * w, 3), tgt_from_src)
    return project(points, K_tgt)


def forward_warp(
    colors: torch.Tensor,
    depth_m: torch.Tensor,
    K: torch.Tensor,
    tgt_from_src: torch.Tensor,
    K_tgt: torch.Tensor | None = None,
    drop: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Warp images with their depth into target cameras (nearest pixel, z-buffer).

    Args:
        colors: ``(N, H, W, C)`` source images (any float dtype).
        depth_m: ``(N, H, W)`` source depth in metres.
        K: ``(3, 3)`` source intrinsics.
        tgt_from_src: ``(4, 4)`` or ``(N, 4, 4)`` source-to-target transforms.
        K_tgt: ``(3, 3)`` target intrinsics; defaults to ``K``.
        drop: optional ``(N, H, W)`` bool source pixels that land nowhere (for example the
            spoiled border lines of :mod:`s2vg.geometry.edges`).

    Returns:
        ``colors`` ``(N, H, W, C)`` (0 where unknown), ``known`` ``(N, H, W)`` bool, and
        ``depth`` ``(N, H, W)`` float32 depth in the target camera (0 where unknown).

    Example:
        >>> K = torch.tensor([[10.0, 0, 2], [0, 10.0, 2], [0, 0, 1]], dtype=torch.float64)
        >>> move_right = torch.eye(4, dtype=torch.float64); move_right[0, 3] = -0.2  # camera at +0.2 m
        >>> img = torch.arange(16.0).view(1, 4, 4, 1)
        >>> out, known, _ = forward_warp(img, torch.full((1, 4, 4), 1.0), K, move_right)
        >>> out[0, 0, :, 0], known[0, 0]  # everything shifts 2 px left
        (tensor([2., 3., 0., 0.]), tensor([ True,  True, False, False]))
    """
    n, h, w, c = colors.shape
    tgt_from_src = tgt_from_src.to(K.dtype)
    K_tgt = K if K_tgt is None else K_tgt.to(K.dtype)
    if _is_parallel_shift(tgt_from_src) and torch.equal(K_tgt[:, :2], K[:, :2]):
        uv, z = _target_pixels_by_shift(depth_m, K, tgt_from_src, K_tgt)
    else:
        uv, z = _target_pixels_by_projection(depth_m, K, tgt_from_src, K_tgt)
    if drop is not None:
        z = torch.where(drop.reshape(z.shape), torch.zeros((), dtype=z.dtype, device=z.device), z)
    winner, depth = splat_nearest(uv, z, h, w)
    known = winner >= 0
    flat = colors.reshape(n, h * w, c)
    gathered = torch.gather(flat, 1, winner.clamp(min=0).view(n, h * w, 1).expand(n, h * w, c)).view(n, h, w, c)
    warped = torch.where(known.unsqueeze(-1), gathered, torch.zeros_like(gathered))
    return warped, known, depth
