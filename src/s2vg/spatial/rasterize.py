"""Differentiable rasterisation of 3D Gaussians: a plain-PyTorch renderer and a gsplat backend.

One narrow entry point, :func:`rasterization`, shaped like gsplat's: the Gaussians and
the cameras are positional, everything else is keyword-only with a default, and it
returns the image, the expected depth and the accumulated alpha.

Convention: pixel centres at integer coordinates, origin top-left (pixel ``(v, u)`` is
the point ``(u, v)``, as in :mod:`s2vg.geometry.warp`); camera axes x right, y down,
z forward; ``viewmats`` are world-to-camera; ``Ks`` are ``[[fx, 0, cx], [0, fy, cy],
[0, 0, 1]]``; quaternions are ``(w, x, y, z)`` (normalised inside); ``scales`` are
standard deviations in metres (already activated); ``opacities`` are in [0, 1].

The algorithm is the 3DGS one (Kerbl et al. 2023), with gsplat's numbers:

1. Project: mean to pixels, 3D covariance ``R S S^T R^T`` to 2D with the EWA Jacobian
   (its x/z and y/z clamped to 1.3 times the field of view), plus a low-pass ``eps2d``
   (0.3 px^2) on the diagonal. Gaussians nearer than ``near_plane`` or farther than
   ``far_plane`` are dropped.
2. Sort by camera-space depth of the mean (ties by index) and bin into square tiles.
3. Per pixel, composite front to back: ``alpha = min(0.999, o * exp(-sigma))``, skipped
   where ``alpha < 1/255``; a pixel stops before the Gaussian that would bring its
   transmittance to 1e-4 or below (early termination).

How the CPU version is fast enough to fit with (all of it plain PyTorch):

- A Gaussian is binned only into the tiles where its alpha can reach 1/255 at some pixel
  centre: the box of that ellipse (which depends on the opacity), then an exact
  ellipse-rectangle test per candidate tile. The image therefore does not depend on the
  tile size. gsplat bins by a 3-sigma box instead; the two agree exactly whenever no
  Gaussian reaches 1/255 beyond 3 sigma, i.e. for opacities below ``e**4.5 / 255``
  (about 0.35), and otherwise differ only where gsplat cuts a faint fringe at a tile edge.
- Over a tile, ``log(o) - sigma`` is a quadratic in the pixel offset, so alpha for all
  of a tile's pixels is one small matrix product per (tile, Gaussian) pair.
- Tiles are batched by their number of pairs and padded, so transmittance is a cumsum of
  ``log(1 - alpha)`` along the pairs and colours are batched matrix products. Early
  termination is a mask: the pairs behind it are computed but contribute nothing.
- The backward pass of the compositing is written by hand: alpha is recomputed rather
  than stored, and the colour behind each pair comes from the final colour minus a
  running sum (3DGS's back-to-front recursion, run forwards).
"""

from __future__ import annotations

import importlib.util
import math
from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F

#: Smallest alpha that counts, and the transmittance at which a pixel stops (gsplat's).
ALPHA_MIN = 1.0 / 255.0
ALPHA_MAX = 0.999
T_MIN = 1e-4
#: Spherical-harmonics constants of degrees 0 and 1.
SH_C0 = 0.28209479177387814
SH_C1 = 0.4886025119029199


class Rendered(NamedTuple):
    """What :func:`rasterization` returns.

    Attributes:
        image: ``(C, H, W, D)`` composited colours (D = 3 for RGB), background added.
        depth: ``(C, H, W)`` expected depth in metres: ``sum(w * z) / alpha`` (0 where
            alpha is 0), z the camera-space depth of each Gaussian's mean.
        alpha: ``(C, H, W)`` accumulated opacity ``1 - T`` in [0, 1].
        meta: ``means2d`` ``(C, N, 2)`` projected means (in the autograd graph; call
            ``retain_grad()`` on it for densification; the gsplat backend gives gsplat's
            tensor, whose pixel centres are at +0.5), ``radii`` ``(C, N, 2)`` int32 pixel
            half-extents (0 = not drawn), ``depths`` ``(C, N)``, ``pairs`` (tile-Gaussian
            pairs rasterised, CPU backend), ``backend``.
    """

    image: torch.Tensor
    depth: torch.Tensor
    alpha: torch.Tensor
    meta: dict


def has_gsplat() -> bool:
    """True when the gsplat package is importable and a CUDA device is present (nothing is imported)."""
    return importlib.util.find_spec("gsplat") is not None and torch.cuda.is_available()


def _check_inputs(means, quats, scales, opacities, colors, viewmats, Ks, sh_degree) -> None:
    n = means.shape[0]
    problems = []
    if means.shape != (n, 3):
        problems.append(f"means {tuple(means.shape)} (expected (N, 3))")
    if quats.shape != (n, 4):
        problems.append(f"quats {tuple(quats.shape)} (expected ({n}, 4))")
    if scales.shape != (n, 3):
        problems.append(f"scales {tuple(scales.shape)} (expected ({n}, 3))")
    if opacities.shape != (n,):
        problems.append(f"opacities {tuple(opacities.shape)} (expected ({n},))")
    if sh_degree is None and (colors.dim() != 2 or colors.shape[0] != n):
        problems.append(f"colors {tuple(colors.shape)} (expected ({n}, D))")
    if sh_degree is not None and (colors.dim() != 3 or colors.shape[0] != n or colors.shape[1] < (sh_degree + 1) ** 2 or colors.shape[2] != 3):
        problems.append(f"colors {tuple(colors.shape)} (expected ({n}, K>={(sh_degree + 1) ** 2}, 3) SH coefficients)")
    c = viewmats.shape[0] if viewmats.dim() == 3 else -1
    if viewmats.shape != (c, 4, 4):
        problems.append(f"viewmats {tuple(viewmats.shape)} (expected (C, 4, 4))")
    if Ks.shape != (c, 3, 3):
        problems.append(f"Ks {tuple(Ks.shape)} (expected ({c}, 3, 3))")
    if problems:
        raise ValueError("rasterization got " + "; ".join(problems))


def quat_to_rotmat(quats: torch.Tensor) -> torch.Tensor:
    """``(N, 4)`` quaternions (w, x, y, z), any norm -> ``(N, 3, 3)`` rotation matrices."""
    w, x, y, z = F.normalize(quats, dim=-1).unbind(-1)
    rot = torch.stack(
        [
            1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
            2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
            2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
        ],
        dim=-1,
    )
    return rot.reshape(*quats.shape[:-1], 3, 3)


def covariance_3d(quats: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    """``(N, 3, 3)`` world covariances ``R S S^T R^T`` from ``(N, 4)`` quats and ``(N, 3)`` std devs."""
    m = quat_to_rotmat(quats) * scales[:, None, :]
    return m @ m.transpose(-1, -2)


def eval_sh(degree: int, dirs: torch.Tensor, coeffs: torch.Tensor) -> torch.Tensor:
    """Colour from real spherical harmonics of degree 0 or 1, as 3DGS stores them.

    Args:
        degree: 0 or 1.
        dirs: ``(N, 3)`` viewing directions (camera to Gaussian), any length.
        coeffs: ``(N, K, 3)`` coefficients, K >= (degree + 1)^2.

    Returns:
        ``(N, 3)`` colours ``max(sum_k basis_k * coeff_k + 0.5, 0)``.
    """
    if degree not in (0, 1):
        raise ValueError(f"sh_degree must be 0 or 1; got {degree}")
    out = SH_C0 * coeffs[:, 0]
    if degree == 1:
        x, y, z = F.normalize(dirs, dim=-1).unbind(-1)
        out = out - SH_C1 * y[:, None] * coeffs[:, 1] + SH_C1 * z[:, None] * coeffs[:, 2] - SH_C1 * x[:, None] * coeffs[:, 3]
    return torch.clamp_min(out + 0.5, 0.0)


class Projected(NamedTuple):
    """Gaussians seen by one camera (differentiable except ``radii`` and ``visible``).

    Attributes:
        means2d: ``(N, 2)`` pixel coordinates (u, v) of the means.
        conics: ``(N, 3)`` upper triangle (a, b, c) of the inverse 2D covariance;
            ``sigma = 0.5 * (a dx^2 + c dy^2) + b dx dy``.
        depths: ``(N,)`` camera-space z of the means.
        radii: ``(N, 2)`` float pixel half-extents (x, y) of the region where alpha can
            reach 1/255; 0 for Gaussians that draw nothing.
        visible: ``(N,)`` bool, in front of the camera, within the planes, on the image.
    """

    means2d: torch.Tensor
    conics: torch.Tensor
    depths: torch.Tensor
    radii: torch.Tensor
    visible: torch.Tensor


def project_gaussians(
    means: torch.Tensor,
    covars: torch.Tensor,
    opacities: torch.Tensor,
    viewmat: torch.Tensor,
    K: torch.Tensor,
    width: int,
    height: int,
    *,
    eps2d: float = 0.3,
    near_plane: float = 0.01,
    far_plane: float = 1e10,
) -> Projected:
    """EWA projection of ``(N, 3)`` means and ``(N, 3, 3)`` covariances into one camera.

    Args:
        means, covars: world-space Gaussians.
        opacities: ``(N,)`` in [0, 1]; only used for the extent (alpha >= 1/255).
        viewmat: ``(4, 4)`` world-to-camera; ``K``: ``(3, 3)`` intrinsics.
        width, height: image size in pixels.
    """
    rot, trans = viewmat[:3, :3], viewmat[:3, 3]
    means_c = means @ rot.T + trans
    covars_c = rot @ covars @ rot.T
    tx, ty, tz = means_c.unbind(-1)
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    in_depth = (tz > near_plane) & (tz < far_plane)
    z = torch.where(in_depth, tz, torch.ones_like(tz))
    # The Jacobian is evaluated at a point clamped to 1.3x the field of view, so that
    # Gaussians far outside the image do not blow up (gsplat, 3DGS).
    lim_x_pos = (width - cx) / fx + 0.3 * (0.5 * width / fx)
    lim_x_neg = cx / fx + 0.3 * (0.5 * width / fx)
    lim_y_pos = (height - cy) / fy + 0.3 * (0.5 * height / fy)
    lim_y_neg = cy / fy + 0.3 * (0.5 * height / fy)
    jx = z * torch.clamp(tx / z, min=-lim_x_neg, max=lim_x_pos)
    jy = z * torch.clamp(ty / z, min=-lim_y_neg, max=lim_y_pos)
    zero = torch.zeros_like(z)
    jac = torch.stack([fx / z, zero, -fx * jx / (z * z), zero, fy / z, -fy * jy / (z * z)], dim=-1).reshape(-1, 2, 3)
    cov2d = jac @ covars_c @ jac.transpose(-1, -2)
    a = cov2d[:, 0, 0] + eps2d
    b = 0.5 * (cov2d[:, 0, 1] + cov2d[:, 1, 0])
    c = cov2d[:, 1, 1] + eps2d
    det = a * c - b * b
    valid = in_depth & (det > 0)
    det = torch.where(valid, det, torch.ones_like(det))
    conics = torch.stack([c / det, -b / det, a / det], dim=-1)
    means2d = torch.stack([fx * tx / z + cx, fy * ty / z + cy], dim=-1)
    with torch.no_grad():
        # alpha = o exp(-sigma) >= 1/255  <=>  sigma <= ln(255 o); the ellipse sigma = s
        # has half-extents sqrt(2 s a) along x and sqrt(2 s c) along y.
        level = torch.log(torch.clamp_min(opacities.detach().to(a.dtype) / ALPHA_MIN, 1e-30))
        draws = valid & (level >= 0)
        level = torch.clamp_min(level, 0.0)
        radii = torch.stack([torch.sqrt(2 * level * a.detach()), torch.sqrt(2 * level * c.detach())], dim=-1)
        radii = radii * (1 + 1e-6) + 1e-6  # a conservative box: extra tiles never change the image
        m = means2d.detach()
        on_image = (
            (m[:, 0] + radii[:, 0] > -0.5) & (m[:, 0] - radii[:, 0] < width - 0.5)
            & (m[:, 1] + radii[:, 1] > -0.5) & (m[:, 1] - radii[:, 1] < height - 0.5)
        )
        visible = draws & on_image & torch.isfinite(radii).all(-1)
        radii = torch.where(visible[:, None], radii, torch.zeros_like(radii))
    return Projected(means2d=means2d, conics=conics, depths=tz, radii=radii, visible=visible)


class TileBins(NamedTuple):
    """Tile-Gaussian pairs sorted by tile, then by depth (front to back).

    Attributes:
        gauss: ``(P,)`` int64 Gaussian index of each pair.
        tile: ``(P,)`` int64 tile index ``ty * tiles_x + tx`` of each pair (non-decreasing).
        tiles_x, tiles_y, tile_size: the tile grid.
    """

    gauss: torch.Tensor
    tile: torch.Tensor
    tiles_x: int
    tiles_y: int
    tile_size: int


def _min_sigma_on_rects(delta_lo: torch.Tensor, delta_hi: torch.Tensor, conics: torch.Tensor) -> torch.Tensor:
    """Minimum of ``sigma(d) = 0.5 (a dx^2 + c dy^2) + b dx dy`` over rectangles of offsets.

    Args:
        delta_lo, delta_hi: ``(P, 2)`` corners (dx, dy) of each rectangle, lo <= hi.
        conics: ``(P, 3)`` (a, b, c) of a positive-definite form.

    Returns:
        ``(P,)``: 0 when the rectangle holds the origin, else the minimum over its four
        edges (each a 1-D quadratic minimised in closed form and clamped to the edge).
    """
    a, b, c = conics.unbind(-1)

    def sigma(dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
        return 0.5 * (a * dx * dx + c * dy * dy) + b * dx * dy

    best = torch.full_like(a, math.inf)
    for x_edge in (delta_lo[:, 0], delta_hi[:, 0]):
        dy = torch.clamp(-b * x_edge / c, delta_lo[:, 1], delta_hi[:, 1])
        best = torch.minimum(best, sigma(x_edge, dy))
    for y_edge in (delta_lo[:, 1], delta_hi[:, 1]):
        dx = torch.clamp(-b * y_edge / a, delta_lo[:, 0], delta_hi[:, 0])
        best = torch.minimum(best, sigma(dx, y_edge))
    inside = (delta_lo <= 0).all(-1) & (delta_hi >= 0).all(-1)
    return torch.where(inside, torch.zeros_like(best), best)


@torch.no_grad()
def bin_tiles(projected: Projected, opacities: torch.Tensor, width: int, height: int, tile_size: int) -> TileBins:
    """Every (tile, Gaussian) pair where the Gaussian's alpha can reach 1/255 at a pixel
    centre of the tile, sorted by tile and then front to back.

    Candidate tiles come from the Gaussian's bounding box; a candidate is kept when the
    minimum of sigma over the rectangle spanned by the tile's pixel centres is at most
    ``ln(255 * opacity)`` (exact for ``tile_size`` 1, conservative otherwise), so no
    evaluated pair can be one the compositor would skip for every pixel.
    """
    tiles_x = -(-width // tile_size)
    tiles_y = -(-height // tile_size)
    device = projected.means2d.device
    idx = torch.nonzero(projected.visible).squeeze(1)
    idx = idx[torch.sort(projected.depths.detach()[idx], stable=True).indices]
    m = projected.means2d.detach()[idx]
    r = projected.radii[idx]
    # Pixel centres p with |p - m| <= r, then the tiles that hold them.
    lo = torch.ceil(m - r).clamp_min(0)
    hi = torch.floor(m + r)
    hi = torch.stack([hi[:, 0].clamp_max(width - 1), hi[:, 1].clamp_max(height - 1)], dim=-1)
    t_lo = torch.div(lo, tile_size, rounding_mode="floor").long()
    t_hi = torch.div(hi, tile_size, rounding_mode="floor").long()
    span = (t_hi - t_lo + 1).clamp_min(0)
    counts = span[:, 0] * span[:, 1]
    empty = torch.zeros(0, dtype=torch.int64, device=device)
    if int(counts.sum()) == 0:
        return TileBins(empty, empty, tiles_x, tiles_y, tile_size)
    order = torch.repeat_interleave(torch.arange(len(idx), device=device), counts)
    first = torch.cumsum(counts, 0) - counts
    k = torch.arange(order.numel(), device=device) - first[order]
    w = span[order, 0]
    tx = t_lo[order, 0] + k % w
    ty = t_lo[order, 1] + torch.div(k, w, rounding_mode="floor")
    # Keep the pairs whose tile rectangle (pixel centres, clipped to the image) meets the ellipse.
    corner_lo = torch.stack([tx, ty], -1).to(m.dtype) * tile_size
    corner_hi = torch.stack([(corner_lo[:, 0] + tile_size - 1).clamp_max(width - 1), (corner_lo[:, 1] + tile_size - 1).clamp_max(height - 1)], -1)
    mo = m[order]
    level = torch.log(torch.clamp_min(opacities.detach()[idx][order].to(m.dtype) / ALPHA_MIN, 1e-30))
    min_sigma = _min_sigma_on_rects(corner_lo - mo, corner_hi - mo, projected.conics.detach()[idx][order])
    keep = min_sigma <= level + 1e-6 * (1 + level.abs())
    gauss = idx[order[keep]]
    tile = (ty * tiles_x + tx)[keep]
    # A stable sort by tile keeps the depth order inside each tile.
    tile, perm = torch.sort(tile, stable=True)
    return TileBins(gauss[perm], tile, tiles_x, tiles_y, tile_size)


#: Padded (tile, pair, pixel) elements composited at once (bounds memory: ~8 MB a tensor).
_GROUP_ELEMENTS = 1 << 21


def _pixel_basis(tile_size: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``(6, ts*ts)`` monomials ``[1, x, y, x^2, xy, y^2]`` of each tile pixel's offset from the tile centre."""
    half = 0.5 * (tile_size - 1)
    ly, lx = torch.meshgrid(
        torch.arange(tile_size, dtype=dtype, device=device) - half,
        torch.arange(tile_size, dtype=dtype, device=device) - half,
        indexing="ij",
    )
    lx, ly = lx.reshape(-1), ly.reshape(-1)
    return torch.stack([torch.ones_like(lx), lx, ly, lx * lx, lx * ly, ly * ly])


def pair_log_alpha_coefficients(means2d: torch.Tensor, conics: torch.Tensor, opacities: torch.Tensor, bins: TileBins) -> torch.Tensor:
    """``(P, 6)`` coefficients of ``log(o) - sigma`` over each pair's tile, in :func:`_pixel_basis`.

    With ``(ux, uy)`` the mean minus the tile centre and ``(x, y)`` a pixel's offset from
    that centre, ``sigma = 0.5 a (ux-x)^2 + b (ux-x)(uy-y) + 0.5 c (uy-y)^2``; expanding it
    turns the per-pixel work into one small matrix product. Differentiable.
    """
    g, t, ts = bins.gauss, bins.tile, bins.tile_size
    half = 0.5 * (ts - 1)
    cx = (t % bins.tiles_x).to(means2d.dtype) * ts + half
    cy = torch.div(t, bins.tiles_x, rounding_mode="floor").to(means2d.dtype) * ts + half
    ux = means2d[g, 0] - cx
    uy = means2d[g, 1] - cy
    a, b, c = conics[g].unbind(-1)
    sigma0 = 0.5 * a * ux * ux + b * ux * uy + 0.5 * c * uy * uy
    return torch.stack([torch.log(opacities[g]) - sigma0, a * ux + b * uy, b * ux + c * uy, -0.5 * a, -b, -0.5 * c], dim=-1)


def _tile_groups(tile: torch.Tensor, n_tiles: int, ppt: int) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Batches of tiles with similar pair counts: ``(tiles (G,), pair index (G, K), valid (G, K))``.

    Tiles are sorted by their number of pairs and cut into groups of at most
    ``_GROUP_ELEMENTS`` padded elements, so padding to the group's longest tile wastes little.
    """
    counts = torch.bincount(tile, minlength=n_tiles)
    offsets = torch.cumsum(counts, 0) - counts
    busy = torch.nonzero(counts).squeeze(1)
    if busy.numel() == 0:
        return []
    busy = busy[torch.sort(counts[busy], stable=True).indices]
    sorted_counts = counts[busy].tolist()
    groups, start = [], 0
    while start < len(busy):
        stop = start
        # Grow the group while its padded size (tiles x longest count x pixels) fits.
        while stop < len(busy) and (stop - start + 1) * sorted_counts[stop] * ppt <= _GROUP_ELEMENTS:
            stop += 1
        stop = max(stop, start + 1)
        tiles = busy[start:stop]
        k = sorted_counts[stop - 1]
        ar = torch.arange(k, device=tile.device)
        valid = ar[None, :] < counts[tiles][:, None]
        index = torch.where(valid, offsets[tiles][:, None] + ar[None, :], torch.zeros((), dtype=torch.long, device=tile.device))
        groups.append((tiles, index, valid))
        start = stop
    return groups


class _GroupState(NamedTuple):
    alpha: torch.Tensor  # (G, K, ppt)
    free: torch.Tensor  # included and not clamped at ALPHA_MAX: alpha = exp(log_alpha)
    incl: torch.Tensor
    trans: torch.Tensor  # transmittance before each pair
    log_one_minus: torch.Tensor  # log(1 - alpha) where included, else 0
    weight: torch.Tensor  # alpha * trans where included


def _group_alpha(coeffs: torch.Tensor, valid: torch.Tensor, basis: torch.Tensor) -> _GroupState:
    """Alpha, inclusion and transmittance of a padded group, front to back along dim 1."""
    raw = torch.exp(coeffs @ basis)  # (G, K, ppt)
    alpha = torch.clamp_max(raw, ALPHA_MAX)
    use = valid[:, :, None] & (alpha >= ALPHA_MIN)
    zero = torch.zeros((), dtype=alpha.dtype, device=alpha.device)
    log_one_minus = torch.where(use, torch.log1p(-alpha), zero)
    cum = torch.cumsum(log_one_minus, dim=1)
    incl = use & (cum > math.log(T_MIN))
    log_one_minus = torch.where(incl, log_one_minus, zero)
    trans = torch.exp(cum - log_one_minus)
    weight = torch.where(incl, alpha * trans, zero)
    return _GroupState(alpha, incl & (raw < ALPHA_MAX), incl, trans, log_one_minus, weight)


class _Composite(torch.autograd.Function):
    """Front-to-back alpha compositing of tile-Gaussian pairs, with a hand-written backward.

    forward(coeffs (P, 6), colors (P, D), tile (P,), n_tiles, tile_size)
        -> sums (n_tiles, ts*ts, D) = sum_i w_i c_i and trans (n_tiles, ts*ts) = T_final,
    where pair i has ``alpha_i = min(0.999, exp(coeffs_i . basis))`` and
    ``w_i = alpha_i * prod_{j<i} (1 - alpha_j)`` over the pairs of its tile, in order.
    Alpha is recomputed in the backward pass instead of being stored.
    """

    @staticmethod
    def forward(ctx, coeffs, colors, tile, n_tiles, tile_size):
        ppt, d = tile_size * tile_size, colors.shape[1]
        dtype, device = coeffs.dtype, coeffs.device
        basis = _pixel_basis(tile_size, dtype, device)
        sums = torch.zeros((n_tiles, ppt, d), dtype=dtype, device=device)
        log_t = torch.zeros((n_tiles, ppt), dtype=dtype, device=device)
        groups = _tile_groups(tile, n_tiles, ppt)
        for tiles, index, valid in groups:
            st = _group_alpha(coeffs[index], valid, basis)
            sums[tiles] = st.weight.transpose(1, 2) @ colors[index]
            log_t[tiles] = st.log_one_minus.sum(1)
        trans = torch.exp(log_t)
        ctx.save_for_backward(coeffs, colors, sums, trans)
        ctx.groups = groups
        ctx.tile_size = tile_size
        return sums, trans

    @staticmethod
    def backward(ctx, grad_sums, grad_trans):
        coeffs, colors, sums, trans = ctx.saved_tensors
        basis = _pixel_basis(ctx.tile_size, coeffs.dtype, coeffs.device)
        # dOut/dalpha_i = T_i c_i - S_i / (1 - alpha_i), S_i = sum of w_j c_j behind i;
        # dT_final/dalpha_i = -T_final / (1 - alpha_i).
        g_dot_out = (grad_sums * sums).sum(-1)
        g_coeffs = torch.zeros_like(coeffs)
        g_colors = torch.zeros_like(colors)
        for tiles, index, valid in ctx.groups:
            st = _group_alpha(coeffs[index], valid, basis)
            g_out = grad_sums[tiles]  # (G, ppt, D)
            col = colors[index]  # (G, K, D)
            g_colors[index[valid]] = (st.weight @ g_out)[valid]
            g_dot_c = col @ g_out.transpose(1, 2)  # (G, K, ppt)
            behind = g_dot_out[tiles][:, None, :] - torch.cumsum(st.weight * g_dot_c, dim=1)
            g_alpha = st.trans * g_dot_c - (behind + (grad_trans[tiles] * trans[tiles])[:, None, :]) / (1 - st.alpha)
            g_log_alpha = torch.where(st.free, g_alpha * st.alpha, torch.zeros((), dtype=coeffs.dtype, device=coeffs.device))
            g_coeffs[index[valid]] = (g_log_alpha @ basis.T)[valid]
        return g_coeffs, g_colors, None, None, None


def composite(projected: Projected, opacities: torch.Tensor, colors: torch.Tensor, bins: TileBins, width: int, height: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Composite per-Gaussian ``(N, D)`` features front to back.

    Returns:
        ``(H, W, D)`` sums ``sum_i w_i f_i`` and ``(H, W)`` alpha ``1 - T_final``.
    """
    coeffs = pair_log_alpha_coefficients(projected.means2d, projected.conics, opacities, bins)
    n_tiles, ts, d = bins.tiles_x * bins.tiles_y, bins.tile_size, colors.shape[1]
    sums, trans = _Composite.apply(coeffs, colors[bins.gauss], bins.tile, n_tiles, ts)
    image = sums.reshape(bins.tiles_y, bins.tiles_x, ts, ts, d).permute(0, 2, 1, 3, 4).reshape(bins.tiles_y * ts, bins.tiles_x * ts, d)
    alpha = 1 - trans.reshape(bins.tiles_y, bins.tiles_x, ts, ts).permute(0, 2, 1, 3).reshape(bins.tiles_y * ts, bins.tiles_x * ts)
    return image[:height, :width], alpha[:height, :width]


def _rasterize_torch(means, quats, scales, opacities, colors, viewmats, Ks, width, height, *, near_plane, far_plane, eps2d, sh_degree, tile_size):
    covars = covariance_3d(quats, scales)
    cameras = range(viewmats.shape[0])
    projections = [
        project_gaussians(means, covars, opacities, viewmats[c], Ks[c], width, height, eps2d=eps2d, near_plane=near_plane, far_plane=far_plane)
        for c in cameras
    ]
    # The stacked means are what the compositor reads, so meta["means2d"].grad is the
    # screen-space gradient that densification needs.
    means2d = torch.stack([p.means2d for p in projections])
    images, depths, alphas, pairs = [], [], [], 0
    for c, proj in zip(cameras, projections):
        proj = proj._replace(means2d=means2d[c])
        if sh_degree is not None:
            campos = -viewmats[c, :3, :3].T @ viewmats[c, :3, 3]
            feats = eval_sh(sh_degree, means - campos, colors)
        else:
            feats = colors
        feats = torch.cat([feats, proj.depths[:, None]], dim=1)
        bins = bin_tiles(proj, opacities, width, height, tile_size)
        sums, alpha = composite(proj, opacities, feats, bins, width, height)
        images.append(sums[..., :-1])
        depths.append(torch.where(alpha > 0, sums[..., -1] / alpha.clamp_min(1e-10), torch.zeros_like(alpha)))
        alphas.append(alpha)
        pairs += bins.gauss.numel()
    meta = {
        "means2d": means2d,
        "radii": torch.stack([torch.ceil(p.radii).int() for p in projections]),
        "depths": torch.stack([p.depths for p in projections]),
        "pairs": pairs,
        "backend": "torch",
    }
    return torch.stack(images), torch.stack(depths), torch.stack(alphas), meta


def _rasterize_gsplat(means, quats, scales, opacities, colors, viewmats, Ks, width, height, *, near_plane, far_plane, eps2d, sh_degree):
    import gsplat

    # gsplat puts pixel centres at +0.5; shifting the principal point gives s2vg's convention.
    Ks = Ks.clone()
    Ks[:, 0, 2] += 0.5
    Ks[:, 1, 2] += 0.5
    render, alpha, meta = gsplat.rasterization(
        means, quats, scales, opacities, colors, viewmats, Ks, width, height,
        near_plane=near_plane, far_plane=far_plane, eps2d=eps2d, sh_degree=sh_degree,
        packed=False, render_mode="RGB+ED", rasterize_mode="classic",
    )
    radii = meta.get("radii")
    if radii is not None and radii.dim() == 2:  # older gsplat: one radius per Gaussian
        radii = radii[..., None].expand(*radii.shape, 2)
    out_meta = {
        # gsplat's own tensor (pixel centres at +0.5), so that its .grad is the screen gradient.
        "means2d": meta.get("means2d"),
        "radii": radii,
        "depths": meta.get("depths"),
        "pairs": None,
        "backend": "gsplat",
        "gsplat": meta,
    }
    return render[..., :-1], render[..., -1], alpha[..., 0], out_meta


def rasterization(
    means: torch.Tensor,  # (N, 3)
    quats: torch.Tensor,  # (N, 4)
    scales: torch.Tensor,  # (N, 3)
    opacities: torch.Tensor,  # (N,)
    colors: torch.Tensor,  # (N, D) or (N, K, 3) with sh_degree
    viewmats: torch.Tensor,  # (C, 4, 4)
    Ks: torch.Tensor,  # (C, 3, 3)
    width: int,
    height: int,
    *,
    near_plane: float = 0.01,
    far_plane: float = 1e10,
    eps2d: float = 0.3,
    sh_degree: int | None = None,
    backgrounds: torch.Tensor | None = None,  # (C, D)
    tile_size: int = 4,
    backend: Literal["auto", "torch", "gsplat"] = "auto",
) -> Rendered:
    """Render 3D Gaussians into C pinhole cameras (see the module docstring for the convention).

    .. note:: ``tile_size`` trades per-pair bookkeeping against work on pixels a Gaussian
       does not reach; 4 measured fastest on the CPU for Gaussians of a pixel or two
       (1, 2 and 8 were 3x, 1.3x and 1.4x slower). It does not change the image.
    .. note:: ``backend="auto"`` uses gsplat when it is installed and the tensors are on
       CUDA (:func:`has_gsplat`), else the PyTorch implementation, which runs anywhere.
    .. warning:: ``Ks``, ``viewmats`` and the tile binning get no gradient.

    Args:
        means: ``(N, 3)`` centres in world space, metres.
        quats: ``(N, 4)`` rotations (w, x, y, z).
        scales: ``(N, 3)`` standard deviations along the rotated axes, metres (> 0).
        opacities: ``(N,)`` in [0, 1].
        colors: ``(N, D)`` features (RGB in [0, 1] for D = 3), or ``(N, K, 3)``
            spherical-harmonics coefficients when ``sh_degree`` is 0 or 1.
        viewmats: ``(C, 4, 4)`` world-to-camera transforms.
        Ks: ``(C, 3, 3)`` intrinsics.
        width, height: image size in pixels.
        near_plane, far_plane: camera-space depth range kept, metres; defaults 0.01 and 1e10.
        eps2d: low-pass added to the 2D covariance diagonal, px^2; defaults to 0.3.
        sh_degree: None (``colors`` are features) or the SH degree used.
        backgrounds: ``(C, D)`` colour behind the Gaussians; defaults to None (black).
        tile_size: tile edge in pixels for the PyTorch backend; defaults to 4.
        backend: ``"auto"``, ``"torch"`` or ``"gsplat"``.

    Returns:
        :class:`Rendered` with ``image (C, H, W, D)``, ``depth (C, H, W)``, ``alpha (C, H, W)``.

    Example:
        >>> g = dict(means=torch.tensor([[0.0, 0.0, 2.0]]), quats=torch.tensor([[1.0, 0, 0, 0]]),
        ...          scales=torch.full((1, 3), 0.05), opacities=torch.tensor([0.9]), colors=torch.ones(1, 3))
        >>> K = torch.tensor([[[40.0, 0, 8], [0, 40.0, 6], [0, 0, 1]]])
        >>> out = rasterization(**g, viewmats=torch.eye(4)[None], Ks=K, width=16, height=12)
        >>> out.image.shape, round(float(out.alpha[0, 6, 8]), 4), round(float(out.depth[0, 6, 8]), 4)
        (torch.Size([1, 12, 16, 3]), 0.9, 2.0)
    """
    _check_inputs(means, quats, scales, opacities, colors, viewmats, Ks, sh_degree)
    if backend == "auto":
        backend = "gsplat" if means.is_cuda and has_gsplat() else "torch"
    if backend == "gsplat":
        image, depth, alpha, meta = _rasterize_gsplat(
            means, quats, scales, opacities, colors, viewmats, Ks, width, height,
            near_plane=near_plane, far_plane=far_plane, eps2d=eps2d, sh_degree=sh_degree,
        )
    elif backend == "torch":
        image, depth, alpha, meta = _rasterize_torch(
            means, quats, scales, opacities, colors, viewmats, Ks, width, height,
            near_plane=near_plane, far_plane=far_plane, eps2d=eps2d, sh_degree=sh_degree, tile_size=tile_size,
        )
    else:
        raise ValueError(f"backend must be auto, torch or gsplat; got {backend!r}")
    if backgrounds is not None:
        image = image + (1 - alpha)[..., None] * backgrounds[:, None, None, :]
    return Rendered(image=image, depth=depth, alpha=alpha, meta=meta)
