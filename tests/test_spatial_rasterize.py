"""The Gaussian rasteriser: closed forms, a per-pixel reference loop, gradients, gsplat parity."""

from __future__ import annotations

import math

import pytest
import torch

from s2vg.spatial.rasterize import (
    ALPHA_MAX,
    ALPHA_MIN,
    T_MIN,
    covariance_3d,
    has_gsplat,
    project_gaussians,
    quat_to_rotmat,
    rasterization,
)

F64 = torch.float64


def _camera(f: float, cx: float, cy: float, dtype=F64) -> tuple[torch.Tensor, torch.Tensor]:
    K = torch.tensor([[[f, 0.0, cx], [0.0, f, cy], [0.0, 0.0, 1.0]]], dtype=dtype)
    return torch.eye(4, dtype=dtype)[None], K


def _closed_form_alpha(mean, cov3d, opacity, f, cx, cy, width, height):
    """Alpha of one Gaussian by the EWA formula written out (camera at the origin, no Jacobian clamp)."""
    x, y, z = (float(v) for v in mean)
    J = torch.tensor([[f / z, 0, -f * x / z**2], [0, f / z, -f * y / z**2]], dtype=F64)
    cov = J @ cov3d @ J.T + 0.3 * torch.eye(2, dtype=F64)
    mu = torch.tensor([f * x / z + cx, f * y / z + cy], dtype=F64)
    v, u = torch.meshgrid(torch.arange(height, dtype=F64), torch.arange(width, dtype=F64), indexing="ij")
    d = torch.stack([u - mu[0], v - mu[1]], -1)
    sigma = 0.5 * torch.einsum("hwi,ij,hwj->hw", d, torch.linalg.inv(cov), d)
    alpha = (opacity * torch.exp(-sigma)).clamp(max=ALPHA_MAX)
    return torch.where(alpha >= ALPHA_MIN, alpha, torch.zeros_like(alpha))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    "quat, scale",
    [((1.0, 0.0, 0.0, 0.0), (0.04, 0.04, 0.04)), ((0.9, 0.2, -0.3, 0.4), (0.08, 0.02, 0.05))],
    ids=["isotropic", "rotated-anisotropic"],
)
def test_single_gaussian_matches_closed_form(dtype, quat, scale):
    f, cx, cy, width, height = 40.0, 9.3, 7.1, 20, 16
    mean = torch.tensor([[0.1, -0.05, 2.0]], dtype=dtype)
    quats = torch.tensor([quat], dtype=dtype)
    scales = torch.tensor([scale], dtype=dtype)
    colour = torch.tensor([[0.2, 0.5, 0.9]], dtype=dtype)
    viewmat, K = _camera(f, cx, cy, dtype)
    out = rasterization(mean, quats, scales, torch.tensor([0.8], dtype=dtype), colour, viewmat, K, width, height)
    cov3d = covariance_3d(quats.double(), scales.double())[0]
    alpha = _closed_form_alpha(mean[0], cov3d, 0.8, f, cx, cy, width, height)
    assert out.image.shape == (1, height, width, 3)
    assert torch.allclose(out.alpha[0].double(), alpha, atol=1e-4, rtol=0)
    assert torch.allclose(out.image[0].double(), alpha[..., None] * colour[0].double(), atol=1e-4, rtol=0)
    drawn = alpha > 0
    assert torch.allclose(out.depth[0][drawn].double(), torch.full_like(alpha[drawn], 2.0), atol=1e-4)
    assert (out.depth[0][~drawn] == 0).all()


def test_rotation_matrix_is_orthonormal_and_matches_quaternion_convention():
    rot = quat_to_rotmat(torch.tensor([[math.cos(math.pi / 8), 0.0, 0.0, math.sin(math.pi / 8)]], dtype=F64))[0]
    # 45 degrees about z: x goes to (1, 1)/sqrt(2).
    assert torch.allclose(rot @ rot.T, torch.eye(3, dtype=F64), atol=1e-12)
    assert torch.allclose(rot[:, 0], torch.tensor([1.0, 1.0, 0.0], dtype=F64) / math.sqrt(2), atol=1e-12)


def _two_gaussians(order):
    means = torch.tensor([[0.0, 0.0, 2.0], [0.01, 0.0, 3.0]], dtype=F64)[list(order)]
    colors = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=F64)[list(order)]
    quats = torch.tensor([[1.0, 0, 0, 0]] * 2, dtype=F64)
    scales = torch.tensor([[0.05] * 3, [0.08] * 3], dtype=F64)[list(order)]
    opac = torch.tensor([0.6, 0.7], dtype=F64)[list(order)]
    viewmat, K = _camera(40.0, 8.0, 8.0)
    return rasterization(means, quats, scales, opac, colors, viewmat, K, 17, 17)


def test_two_overlapping_gaussians_composite_near_over_far_whatever_their_order():
    a, b = _two_gaussians((0, 1)), _two_gaussians((1, 0))
    assert torch.allclose(a.image, b.image, atol=1e-12) and torch.allclose(a.alpha, b.alpha, atol=1e-12)
    # At the centre pixel (8, 8): the near red Gaussian sits exactly there.
    f, z_near, z_far = 40.0, 2.0, 3.0
    alpha_near = 0.6  # sigma = 0 at its mean
    x_far = 0.01  # the far one is 0.133 px to the right; its EWA Jacobian has an x/z^2 term
    var_far = 0.08**2 * ((f / z_far) ** 2 + (f * x_far / z_far**2) ** 2) + 0.3
    du = f * x_far / z_far
    alpha_far = 0.7 * math.exp(-0.5 * du * du / var_far)
    px = a.image[0, 8, 8]
    assert px[0].item() == pytest.approx(alpha_near, abs=1e-9)
    assert px[2].item() == pytest.approx((1 - alpha_near) * alpha_far, abs=1e-9)
    assert a.alpha[0, 8, 8].item() == pytest.approx(1 - (1 - alpha_near) * (1 - alpha_far), abs=1e-9)
    expected_depth = (alpha_near * z_near + (1 - alpha_near) * alpha_far * z_far) / a.alpha[0, 8, 8].item()
    assert a.depth[0, 8, 8].item() == pytest.approx(expected_depth, abs=1e-9)


def _random_scene(n: int, seed: int, dtype=F64, opacity=(0.3, 0.99), scale=(0.02, 0.08)):
    g = torch.Generator().manual_seed(seed)
    xy = (torch.rand(n, 2, generator=g, dtype=dtype) - 0.5) * 0.8
    z = 1.5 + torch.rand(n, 1, generator=g, dtype=dtype) * 2
    means = torch.cat([xy * z, z], 1)
    quats = torch.randn(n, 4, generator=g, dtype=dtype)
    scales = scale[0] + (scale[1] - scale[0]) * torch.rand(n, 3, generator=g, dtype=dtype)
    opac = opacity[0] + (opacity[1] - opacity[0]) * torch.rand(n, generator=g, dtype=dtype)
    colors = torch.rand(n, 3, generator=g, dtype=dtype)
    return means, quats, scales, opac, colors


def _reference_render(means, quats, scales, opac, colors, viewmat, K, width, height):
    """The obvious loop: every pixel, every Gaussian by depth, 3DGS's rules."""
    proj = project_gaussians(means, covariance_3d(quats, scales), opac, viewmat, K, width, height)
    order = sorted(range(len(means)), key=lambda i: (float(proj.depths[i]), i))
    image = torch.zeros(height, width, 3, dtype=means.dtype)
    alpha_out = torch.zeros(height, width, dtype=means.dtype)
    for v in range(height):
        for u in range(width):
            T = 1.0
            for i in order:
                if not proj.visible[i]:
                    continue
                dx, dy = float(proj.means2d[i, 0]) - u, float(proj.means2d[i, 1]) - v
                a, b, c = (float(x) for x in proj.conics[i])
                sigma = 0.5 * (a * dx * dx + c * dy * dy) + b * dx * dy
                alpha = min(ALPHA_MAX, float(opac[i]) * math.exp(-sigma))
                if sigma < 0 or alpha < ALPHA_MIN:
                    continue
                if T * (1 - alpha) <= T_MIN:
                    break
                image[v, u] += alpha * T * colors[i]
                T *= 1 - alpha
            alpha_out[v, u] = 1 - T
    return image, alpha_out


@pytest.mark.parametrize("tile_size", [1, 3, 4, 8])
def test_vectorised_rasteriser_equals_per_pixel_loop(tile_size):
    # Many opaque layers, so early termination happens at most pixels.
    scene = _random_scene(60, seed=1, opacity=(0.8, 0.99), scale=(0.15, 0.3))
    viewmat, K = _camera(30.0, 7.5, 6.0)
    out = rasterization(*scene, viewmat, K, 15, 12, tile_size=tile_size)
    ref_image, ref_alpha = _reference_render(*scene, viewmat[0], K[0], 15, 12)
    assert torch.allclose(out.image[0], ref_image, atol=1e-10)
    assert torch.allclose(out.alpha[0], ref_alpha, atol=1e-10)
    assert (ref_alpha > 1 - 2 * T_MIN).any(), "the scene should saturate some pixels (early termination)"


def test_gradients_match_finite_differences_for_every_parameter():
    means, quats, scales, opac, colors = _random_scene(6, seed=2, opacity=(0.3, 0.8))
    params = [p.clone().requires_grad_() for p in (means, quats, scales, opac, colors)]
    viewmat, K = _camera(30.0, 7.0, 5.0)
    viewmat = viewmat.clone()
    viewmat[0, 0, 3] = 0.02

    def render(m, q, s, o, c):
        out = rasterization(m, q, s, o, c, viewmat, K, 14, 11, tile_size=4)
        return out.image, out.depth, out.alpha

    assert torch.autograd.gradcheck(render, params, eps=1e-6, atol=1e-5, rtol=1e-4)


def test_gradients_of_sh_degree_one_colours_and_backgrounds():
    means, quats, scales, opac, _ = _random_scene(5, seed=3, opacity=(0.3, 0.8))
    sh = (0.3 * torch.randn(5, 4, 3, generator=torch.Generator().manual_seed(4), dtype=F64)).requires_grad_()
    means = means.clone().requires_grad_()
    background = torch.tensor([[0.2, 0.4, 0.6]], dtype=F64, requires_grad=True)
    viewmat, K = _camera(30.0, 7.0, 5.0)

    def render(m, coeffs, bg):
        return rasterization(m, quats, scales, opac, coeffs, viewmat, K, 14, 11, sh_degree=1, backgrounds=bg).image

    # fast_mode compares random directional derivatives instead of whole Jacobians.
    assert torch.autograd.gradcheck(render, (means, sh, background), eps=1e-6, atol=1e-5, rtol=1e-4, fast_mode=True)


def test_sh_degree_zero_is_the_dc_colour_and_background_fills_the_rest():
    means, quats, scales, opac, colors = _random_scene(5, seed=5)
    sh = ((colors - 0.5) / 0.28209479177387814)[:, None, :]
    viewmat, K = _camera(30.0, 7.0, 5.0)
    plain = rasterization(means, quats, scales, opac, colors, viewmat, K, 14, 11)
    via_sh = rasterization(means, quats, scales, opac, sh, viewmat, K, 14, 11, sh_degree=0)
    assert torch.allclose(plain.image, via_sh.image, atol=1e-12)
    bg = torch.tensor([[0.1, 0.2, 0.3]], dtype=F64)
    with_bg = rasterization(means, quats, scales, opac, colors, viewmat, K, 14, 11, backgrounds=bg)
    assert torch.allclose(with_bg.image, plain.image + (1 - plain.alpha)[..., None] * bg, atol=1e-12)


def test_gaussians_behind_the_camera_or_off_image_draw_nothing():
    means = torch.tensor([[0.0, 0.0, -2.0], [50.0, 0.0, 2.0]], dtype=F64)
    quats = torch.tensor([[1.0, 0, 0, 0]] * 2, dtype=F64)
    out = rasterization(means, quats, torch.full((2, 3), 0.05, dtype=F64), torch.full((2,), 0.9, dtype=F64),
                        torch.ones(2, 3, dtype=F64), *_camera(30.0, 7.0, 5.0), 14, 11)
    assert out.alpha.abs().max() == 0 and (out.meta["radii"] == 0).all()


def test_bad_shapes_are_rejected_with_both_shapes():
    viewmat, K = _camera(30.0, 7.0, 5.0)
    with pytest.raises(ValueError, match=r"quats \(2, 3\)"):
        rasterization(torch.zeros(2, 3), torch.zeros(2, 3), torch.ones(2, 3), torch.ones(2), torch.ones(2, 3), viewmat, K, 8, 8)


@pytest.mark.skipif(not has_gsplat(), reason="gsplat and a CUDA device are needed to compare against gsplat")
def test_gsplat_backend_agrees_with_the_torch_rasteriser():
    # Opacity < 0.35: no Gaussian reaches alpha 1/255 beyond gsplat's 3-sigma tile box,
    # so the two cut the same fringes (see the module docstring).
    means, quats, scales, opac, colors = (t.float() for t in _random_scene(200, seed=6, dtype=torch.float32, opacity=(0.05, 0.34)))
    viewmat, K = _camera(60.0, 32.0, 24.0, torch.float32)
    cpu = rasterization(means, quats, scales, opac, colors, viewmat, K, 64, 48, backend="torch")
    cuda = [t.cuda().requires_grad_() for t in (means, quats, scales, opac, colors)]
    gpu = rasterization(*cuda, viewmat.cuda(), K.cuda(), 64, 48, backend="gsplat")
    assert torch.allclose(gpu.image.cpu(), cpu.image, atol=1e-4)
    assert torch.allclose(gpu.alpha.cpu(), cpu.alpha, atol=1e-4)
    drawn = cpu.alpha > 0.05
    assert torch.allclose(gpu.depth.cpu()[drawn], cpu.depth[drawn], atol=1e-3)
    # Same cotangent through both: gradients agree.
    cot = torch.rand(cpu.image.shape, generator=torch.Generator().manual_seed(0))
    cpu_params = [t.clone().requires_grad_() for t in (means, quats, scales, opac, colors)]
    (rasterization(*cpu_params, viewmat, K, 64, 48, backend="torch").image * cot).sum().backward()
    (gpu.image * cot.cuda()).sum().backward()
    for a, b in zip(cpu_params, cuda):
        assert torch.allclose(a.grad, b.grad.cpu(), atol=1e-3, rtol=1e-2)
