"""Gaussians from a frame matrix, the .ply and scene folders, and fitting."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from s2vg.config import SpatialFitConfig
from s2vg.errors import InputError
from s2vg.geometry.build import build_frame_matrix
from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.geometry.rig import CameraRig
from s2vg.inpaint.base import get_inpainter
from s2vg.metrics.scenes import make_scene, render_scene, scene_rig
from s2vg.spatial.deformation import Deformation, frustum_bounds
from s2vg.spatial.fit import fit_scene, photometric_loss, psnr, ssim_map
from s2vg.spatial.gaussians import (
    Gaussians,
    gaussians_from_ply,
    init_gaussians,
    matrix_point_cloud,
    ply_property_names,
    read_ply,
    write_ply,
)
from s2vg.spatial.scene import SpatialScene, load_scene

# Fits in these tests run single-threaded: on a busy shared machine torch's threads
# mostly wait for each other.
FAST = dict(threads=1)


@pytest.fixture(autouse=True)
def _one_thread():
    from s2vg.spatial.fit import torch_threads

    with torch_threads(1):
        yield


def tiny_matrix(views: int = 3, frames: int = 4, height: int = 32, width: int = 56) -> tuple[FrameMatrix, np.ndarray]:
    """A rendered scene with a moving disc, warped into a frame matrix and filled; and the true renders."""
    scene = make_scene("cards", height=height, width=width, seed=0)
    rig = scene_rig(scene, views=views, mode="middle2leftright", divergence_pct=4.0)
    shot = render_scene(scene, rig, frames)
    source = rig.source_index
    matrix = build_frame_matrix(torch.from_numpy(shot.colors[source]), torch.from_numpy(shot.depth[source]), rig)
    return get_inpainter("classical")(matrix), shot.colors


def render_all(scene: SpatialScene, matrix: FrameMatrix) -> torch.Tensor:
    rig = matrix.rig
    viewmats = rig.tgt_from_src(torch.float32)
    out = torch.zeros_like(matrix.colors)
    for v in range(matrix.views):
        K = rig.intrinsics(torch.float32, view=v)[None]
        for t in range(matrix.frames):
            out[v, t] = scene.render(viewmats[v : v + 1], K, float(t)).image[0].clamp(0, 1)
    return out


def test_point_cloud_keeps_static_pixels_once_and_moving_pixels_per_frame():
    # One view of a static plane and one of a bright square moving right by 1 px a frame.
    t, h, w = 4, 8, 8
    colors = torch.full((2, t, h, w, 3), 0.2)
    for frame in range(t):
        colors[0, frame, 2:4, frame : frame + 2] = 1.0
    depth = torch.full((2, t, h, w), 4.0)
    depth[0][colors[0, ..., 0] > 0.5] = 2.0
    known = torch.zeros(2, t, h, w, dtype=torch.bool)
    known[0] = True
    rig = CameraRig(width=w, height=h, focal=10.0, positions=np.array([[0.0, 0, 0], [0.01, 0, 0]]))
    cloud = matrix_point_cloud(FrameMatrix(colors, known, depth, rig), stride=1)
    static = cloud.t_max - cloud.t_min == t - 1
    # Every pixel the square never touches is one point spanning the clip.
    untouched = h * w - 2 * (t + 1)
    assert int(static.sum()) >= untouched
    square = cloud.colors[:, 0] > 0.5
    assert int(square.sum()) == 2 * 2 * t - 2 * (t - 1)  # overlapping pixels stay bright for 2 frames
    assert (cloud.t_max[square] - cloud.t_min[square] <= 1).all()
    # The second view contributes only its filled (unknown) pixels: none here except all of it.
    assert cloud.points.shape[0] > untouched


def _two_layer_matrix(frames: int = 2) -> FrameMatrix:
    """Flat colours: a grey plane at 3 m and a red square at 2 m, seen by 2 views."""
    h, w = 24, 32
    colors = torch.zeros(2, frames, h, w, 3)
    colors[..., :] = torch.tensor([0.5, 0.5, 0.5])
    colors[:, :, 8:16, 10:20] = torch.tensor([0.9, 0.1, 0.1])
    depth = torch.full((2, frames, h, w), 3.0)
    depth[:, :, 8:16, 10:20] = 2.0
    rig = CameraRig(width=w, height=h, focal=30.0, positions=np.array([[0.0, 0, 0], [0.05, 0, 0]]))
    return FrameMatrix(colors, torch.ones(2, frames, h, w, dtype=torch.bool), depth, rig)


def test_init_puts_each_colour_at_its_pixel_and_respects_the_cap():
    matrix = _two_layer_matrix()
    gaussians = init_gaussians(matrix)
    scene = SpatialScene(gaussians, None, matrix.rig, matrix.frames)
    out = scene.render(torch.eye(4)[None], matrix.rig.intrinsics(torch.float32)[None], 0.0)
    assert out.alpha[0, 2:-2, 2:-2].min() > 0.99  # no holes inside the frame
    # Away from the square's edge the render is the flat colour of each layer, at its depth.
    assert torch.allclose(out.image[0, 11:13, 14:16], torch.tensor([0.9, 0.1, 0.1]), atol=0.01)
    assert torch.allclose(out.image[0, 2:5, 2:5], torch.tensor([0.5, 0.5, 0.5]), atol=0.01)
    assert out.depth[0, 12, 15].item() == pytest.approx(2.0, abs=1e-3)
    assert out.depth[0, 3, 3].item() == pytest.approx(3.0, abs=1e-3)
    # Static content spans the clip: one Gaussian per source pixel, not one per frame.
    assert gaussians.count == 24 * 32
    capped = init_gaussians(matrix, max_gaussians=300)
    assert capped.count <= 300
    one_view = FrameMatrix(matrix.colors[:1], matrix.known[:1], matrix.depth[:1],
                           CameraRig(matrix.width, matrix.height, matrix.rig.focal, np.zeros((1, 3))))
    with pytest.raises(InputError, match="at least 2 views"):
        init_gaussians(one_view)


def test_ssim_of_identical_images_is_one_and_the_loss_is_zero():
    g = torch.Generator().manual_seed(0)
    image = torch.rand(20, 24, 3, generator=g)
    assert torch.allclose(ssim_map(image, image), torch.ones(20, 24), atol=1e-5)
    assert photometric_loss(image, image, torch.ones(20, 24), 0.2).item() == pytest.approx(0.0, abs=1e-5)
    noisy = (image + 0.1 * torch.randn(20, 24, 3, generator=g)).clamp(0, 1)
    # Away from the border (zero padding here), the same numbers as OpenCV's SSIM.
    from s2vg.metrics.metrics import ssim_map as reference_ssim

    ours = ssim_map(noisy, image)[5:-5, 5:-5].double().numpy()
    assert np.allclose(ours, reference_ssim(noisy.numpy(), image.numpy())[5:-5, 5:-5], atol=1e-4)
    assert ours.mean() < 0.99
    # Pixels of weight zero do not count.
    weight = torch.ones(20, 24)
    weight[:, :12] = 0
    half = image.clone()
    half[:, :12] = 1 - half[:, :12]
    assert photometric_loss(half, image, weight, 0.0).item() == pytest.approx(0.0, abs=1e-7)


def _random_gaussians(n: int, sh_degree: int, seed: int = 0) -> Gaussians:
    g = torch.Generator().manual_seed(seed)
    k = (sh_degree + 1) ** 2
    return Gaussians(
        means=torch.randn(n, 3, generator=g), quats=torch.randn(n, 4, generator=g),
        log_scales=torch.randn(n, 3, generator=g) - 3, opacity_logits=torch.randn(n, generator=g),
        sh=torch.randn(n, k, 3, generator=g), time_center=torch.rand(n, generator=g) * 10,
        time_log_half=torch.randn(n, generator=g), time_log_scale=torch.randn(n, generator=g),
        velocity=torch.randn(n, 3, generator=g),
    )


@pytest.mark.parametrize("sh_degree", [0, 1])
def test_ply_round_trip_uses_the_3dgs_properties(tmp_path, sh_degree):
    gaussians = _random_gaussians(50, sh_degree)
    write_ply(tmp_path / "g.ply", gaussians)
    header = (tmp_path / "g.ply").read_bytes().split(b"end_header\n")[0].decode().splitlines()
    names = [line.split()[-1] for line in header if line.startswith("property")]
    assert names == ply_property_names(sh_degree)
    assert names[:9] == ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
    assert names[-8:] == ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    assert "element vertex 50" in header and "format binary_little_endian 1.0" in header
    props = read_ply(tmp_path / "g.ply")
    # f_rest is channel-major: all red coefficients first.
    if sh_degree == 1:
        assert np.allclose(props["f_rest_0"], gaussians.sh[:, 1, 0].numpy())
        assert np.allclose(props["f_rest_3"], gaussians.sh[:, 1, 1].numpy())
    back = gaussians_from_ply(props, {k: getattr(gaussians, k) for k in ("time_center", "time_log_half", "time_log_scale", "velocity")})
    for name, value in gaussians.tensors().items():
        assert torch.equal(getattr(back, name), value), name


def test_unreadable_ply_is_an_input_error(tmp_path):
    (tmp_path / "bad.ply").write_bytes(b"not a ply")
    with pytest.raises(InputError, match="not a .ply"):
        read_ply(tmp_path / "bad.ply")
    g = _random_gaussians(4, 0)
    write_ply(tmp_path / "cut.ply", g)
    data = (tmp_path / "cut.ply").read_bytes()
    (tmp_path / "cut.ply").write_bytes(data[:-10])
    with pytest.raises(InputError, match="truncated"):
        read_ply(tmp_path / "cut.ply")


def test_deformation_starts_as_the_identity_and_moves_after_a_step():
    means = torch.rand(100, 3) + torch.tensor([0.0, 0.0, 2.0])
    for encoding in ("hexplane", "frequency"):
        field = Deformation(frustum_bounds(means), (0, 7), encoding=encoding, generator=torch.Generator().manual_seed(0))
        d_means, d_quats, d_scales = field(means, 3.0)
        assert d_means.abs().max() == 0 and d_quats.abs().max() == 0 and d_scales.abs().max() == 0
        loss = (field(means, 3.0)[0] - 0.01).pow(2).sum()
        loss.backward()
        torch.optim.Adam(field.parameters(), lr=1e-2).step()
        assert field(means, 3.0)[0].abs().max() > 0


def test_scene_folder_round_trip_renders_the_same(tmp_path):
    matrix, _ = tiny_matrix(frames=3)
    result = fit_scene(matrix, SpatialFitConfig(iterations=12, warmup=0.5, **FAST))
    result.scene.save(tmp_path / "scene")
    loaded = load_scene(tmp_path / "scene")
    assert loaded.frames == 3 and loaded.gaussians.count == result.scene.gaussians.count
    viewmat, K = matrix.rig.tgt_from_src(torch.float32)[:1], matrix.rig.intrinsics(torch.float32)[None]
    a = result.scene.render(viewmat, K, 1.5).image
    b = loaded.render(viewmat, K, 1.5).image
    assert torch.allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("missing", ["deformation.pt", "scene.json"])
def test_unreadable_scene_folder_is_an_input_error(tmp_path, missing):
    with pytest.raises(InputError, match="does not exist"):
        load_scene(tmp_path / "nowhere")
    matrix, _ = tiny_matrix(frames=2)
    scene = fit_scene(matrix, SpatialFitConfig(iterations=1, **FAST)).scene
    scene.save(tmp_path / "scene")
    (tmp_path / "scene" / missing).unlink()
    with pytest.raises(InputError, match=missing.replace(".", r"\.")):
        load_scene(tmp_path / "scene")
    scene.save(tmp_path / "scene")
    (tmp_path / "scene" / "deformation.pt").write_bytes(b"garbage")
    with pytest.raises(InputError, match="unreadable"):
        load_scene(tmp_path / "scene")


def test_fit_improves_psnr_and_is_deterministic_with_a_seed():
    matrix, _ = tiny_matrix()
    config = SpatialFitConfig(iterations=60, warmup=0.25, densify_every=10, densify_start=0.2, densify_stop=0.8,
                              grad_threshold=0.3, **FAST)
    before = render_all(fit_scene(matrix, SpatialFitConfig(iterations=1, **FAST)).scene, matrix)
    first = fit_scene(matrix, config)
    after = render_all(first.scene, matrix)
    assert psnr(after, matrix.colors) > psnr(before, matrix.colors) + 1.0
    assert first.stats["cloned"] + first.stats["split"] > 0  # densification ran
    second = fit_scene(matrix, config)
    for name, value in first.scene.gaussians.tensors().items():
        assert torch.equal(value, second.scene.gaussians.tensors()[name]), name
    for a, b in zip(first.scene.deformation.state_dict().values(), second.scene.deformation.state_dict().values()):
        assert torch.equal(a, b)
    other = fit_scene(matrix, SpatialFitConfig(**{**config.__dict__, "seed": 1}))
    assert not torch.equal(other.scene.gaussians.means, first.scene.gaussians.means)


def test_fit_rejects_a_single_view_and_wrong_times():
    matrix, _ = tiny_matrix(frames=2)
    one = FrameMatrix(matrix.colors[:1], matrix.known[:1], matrix.depth[:1],
                      CameraRig(matrix.width, matrix.height, matrix.rig.focal, np.zeros((1, 3))))
    with pytest.raises(InputError, match="at least 2 views; got 1"):
        fit_scene(one, SpatialFitConfig(iterations=1))
    with pytest.raises(InputError, match="one time per matrix frame"):
        fit_scene(matrix, SpatialFitConfig(iterations=1), times=torch.zeros(3))


def test_threads_option_is_restored_after_the_fit():
    matrix, _ = tiny_matrix(frames=2)
    before = torch.get_num_threads()
    fit_scene(matrix, SpatialFitConfig(iterations=1, threads=1))
    assert torch.get_num_threads() == before


@pytest.mark.slow
def test_fit_on_a_rendered_scene_beats_its_initialisation_on_novel_views():
    """A longer fit: views half-way between the matrix cameras get closer to the truth."""
    scene = make_scene("cards", height=64, width=112, seed=0)
    rig = scene_rig(scene, views=4, mode="middle2leftright", divergence_pct=3.0)
    shot = render_scene(scene, rig, 4)
    s = rig.source_index
    matrix = build_frame_matrix(torch.from_numpy(shot.colors[s]), torch.from_numpy(shot.depth[s]), rig)

    matrix = get_inpainter("classical")(matrix)
    between = 0.5 * (rig.positions[:-1] + rig.positions[1:])
    truth = render_scene(scene, between, 4).colors

    def novel(fitted):
        scores = []
        for p, pos in enumerate(between):
            viewmat = torch.eye(4)[None]
            viewmat[0, :3, 3] = -torch.as_tensor(pos, dtype=torch.float32)
            for t in range(4):
                image = fitted.render(viewmat, rig.intrinsics(torch.float32)[None], float(t)).image[0].numpy()
                scores.append(psnr(torch.from_numpy(image), torch.from_numpy(truth[p, t])))
        return float(np.mean(scores))

    start = novel(fit_scene(matrix, SpatialFitConfig(iterations=1, **FAST)).scene)
    end = novel(fit_scene(matrix, SpatialFitConfig(iterations=300, **FAST)).scene)
    assert end > start + 1.0 and math.isfinite(end)


def test_scene_flow_of_a_translating_textured_plane():
    from s2vg.spatial.motion import source_velocity

    g = np.random.default_rng(0)
    texture = g.random((48, 120)).astype(np.float32)
    import cv2

    texture = cv2.GaussianBlur(texture, (0, 0), 1.5)
    texture = (texture - texture.min()) / (texture.max() - texture.min())
    frames = np.stack([np.repeat(texture[:, 2 * t : 2 * t + 64, None], 3, axis=2) for t in range(4)])  # moves 2 px left a frame
    depth = np.full((4, 48, 64), 3.0, np.float32)
    f = 40.0
    K = np.array([[f, 0, 32.0], [0, f, 24.0], [0, 0, 1]])
    velocity = source_velocity(frames, depth, K, np.arange(4.0))
    interior = velocity[:, 8:-8, 8:-8]
    # 2 px a frame at 3 m with f = 40: 0.15 m a frame, leftwards; no motion in y or z.
    assert np.median(interior[..., 0]) == pytest.approx(-0.15, abs=0.01)
    assert np.abs(np.median(interior[..., 1:], axis=(0, 1, 2))).max() < 0.01
