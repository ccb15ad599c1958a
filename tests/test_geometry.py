"""Geometry against closed forms, a per-pixel reference z-buffer, and the authors' matrix."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from s2vg.config import CleanupConfig, DepthConfig, RigConfig
from s2vg.errors import InputError, OptionError
from s2vg.geometry.build import build_frame_matrix
from s2vg.geometry.cleanup import crack_kernel, multiplane_cleanup, plane_labels
from s2vg.geometry.depth import (
    check_metric_depth,
    disparity_to_depth,
    normalise_inv_depth,
    relative_to_depth,
)
from s2vg.geometry.rig import CameraRig, default_focal, view_positions
from s2vg.geometry.warp import (
    _target_pixels_by_projection,
    _target_pixels_by_shift,
    forward_warp,
    pixel_grid,
    project,
    unproject,
)


def _rig(mode="left2right", views=2, baseline=0.1, focal=100.0, h=8, w=16, **kw) -> CameraRig:
    return CameraRig.from_config(RigConfig(mode=mode, views=views, baseline=baseline, focal=focal, **kw), h, w)


def _texture(t, h, w, seed=0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand((t, h, w, 3), generator=g)


class TestRig:
    def test_left2right_positions(self):
        pos = view_positions(RigConfig(views=5, baseline=0.08))
        np.testing.assert_allclose(pos[:, 0], [0, 0.02, 0.04, 0.06, 0.08])
        assert (pos[:, 1:] == 0).all()

    def test_right2left_is_mirror(self):
        pos = view_positions(RigConfig(mode="right2left", views=4, baseline=0.06))
        np.testing.assert_allclose(pos[:, 0], [0, -0.02, -0.04, -0.06])

    @pytest.mark.parametrize("views", [4, 5, 8])
    def test_middle2leftright(self, views):
        rig = CameraRig.from_config(RigConfig(mode="middle2leftright", views=views, baseline=0.08), 10, 10)
        assert rig.source_index == views // 2
        assert rig.positions[0, 0] == pytest.approx(-0.04) and rig.positions[-1, 0] == pytest.approx(0.04)
        assert rig.target_indices == (0, views - 1)

    def test_circle(self):
        pos = view_positions(RigConfig(mode="circle", views=8, circle_diameter=0.08, circle_squash=0.5))
        assert pos.shape == (8, 3)
        np.testing.assert_allclose(pos[:5, 0], [0, 0.02, 0.04, 0.06, 0.08])
        np.testing.assert_allclose(pos[5:, 0], [0.06, 0.04, 0.02])
        # Points lie on the ellipse (x - r)^2 + (y / squash)^2 = r^2, top half then bottom half.
        r = 0.04
        np.testing.assert_allclose((pos[:, 0] - r) ** 2 + (pos[:, 1] / 0.5) ** 2, r * r, atol=1e-12)
        assert (pos[1:4, 1] > 0).all() and (pos[5:, 1] < 0).all()

    def test_default_focal_scales_with_width(self):
        assert default_focal(576) == 800.0
        assert default_focal(1152) == 1600.0
        assert CameraRig.from_config(RigConfig(), 320, 288).focal == 400.0

    @pytest.mark.parametrize(
        "kwargs",
        [dict(views=1), dict(baseline=0.0), dict(baseline=-0.1), dict(mode="sideways"), dict(mode="circle", views=5),
         dict(focal=-3.0)],
    )
    def test_rejects_impossible_options(self, kwargs):
        with pytest.raises(OptionError):
            RigConfig(**kwargs)

    def test_cleanup_and_depth_configs_validate(self):
        with pytest.raises(OptionError):
            CleanupConfig(planes=0)
        with pytest.raises(OptionError):
            DepthConfig(kind="inverse")
        with pytest.raises(OptionError):
            DepthConfig(far=-1.0)


class TestDepth:
    def test_clip_normalisation_uses_whole_clip(self):
        inv = torch.stack([torch.full((2, 2), 1.0), torch.full((2, 2), 3.0)])
        inv[0, 0, 0] = 5.0
        norm = normalise_inv_depth(inv)
        assert norm.max() == 1.0 and norm.min() == 0.0
        # Frame 1 is constant; per-frame normalisation would make it 0 or 1, the clip's gives 0.5.
        assert torch.allclose(norm[1], torch.full((2, 2), 0.5))

    def test_near_and_far(self):
        z = relative_to_depth(torch.tensor([[[0.0, 1.0]]]), far=10.0)
        assert z[0, 0, 1] == pytest.approx(1 / 1.1, rel=1e-5)
        assert z[0, 0, 0] == pytest.approx(10.0, rel=1e-4)
        z = relative_to_depth(torch.tensor([[[0.0, 1.0]]]), far=10.0, near=2.0)
        assert z[0, 0, 1] == pytest.approx(1 / (0.5 + 0.1), rel=1e-5)

    def test_relative_rejects_nan(self):
        with pytest.raises(InputError, match="NaN"):
            relative_to_depth(torch.tensor([[[0.0, float("nan")]]]))

    def test_metric_rejects_non_positive(self):
        with pytest.raises(InputError, match="<= 0"):
            check_metric_depth(torch.tensor([[[1.0, 0.0]]]))
        with pytest.raises(InputError, match="NaN"):
            check_metric_depth(torch.tensor([[[1.0, float("inf")]]]))

    def test_disparity(self):
        z = disparity_to_depth(torch.tensor([[[4.0, 0.0]]]), focal=100.0, baseline=0.1)
        assert z[0, 0, 0] == pytest.approx(2.5)
        assert math.isfinite(float(z[0, 0, 1]))
        with pytest.raises(InputError, match="negative"):
            disparity_to_depth(torch.tensor([[[-1.0]]]), 100.0, 0.1)


class TestProjection:
    def test_unproject_project_round_trip(self):
        K = torch.tensor([[50.0, 0, 8], [0, 55.0, 4], [0, 0, 1]], dtype=torch.float64)
        depth = torch.rand(3, 8, 16, dtype=torch.float64) + 0.5
        uv, z = project(unproject(depth, K), K)
        torch.testing.assert_close(uv, pixel_grid(8, 16).expand(3, 8, 16, 2))
        torch.testing.assert_close(z, depth)

    def test_gradcheck(self):
        K = torch.tensor([[50.0, 0, 3], [0, 50.0, 2], [0, 0, 1]], dtype=torch.float64)
        depth = (torch.rand(4, 6, dtype=torch.float64) + 0.5).requires_grad_()
        assert torch.autograd.gradcheck(lambda d: project(unproject(d, K), K)[0], (depth,))

    def test_shift_path_matches_projection_path(self):
        rig = _rig(mode="circle", views=8, h=12, w=20, circle_diameter=0.1)
        depth = torch.rand(2, 12, 20) * 3 + 0.5
        K = rig.intrinsics()
        for tf in rig.tgt_from_src():
            uv_a, z_a = _target_pixels_by_shift(depth, K, tf, K)
            uv_b, z_b = _target_pixels_by_projection(depth, K, tf, K)
            torch.testing.assert_close(uv_a, uv_b, atol=1e-9, rtol=0)
            torch.testing.assert_close(z_a, z_b)


def _loop_zbuffer(colors, depth, K, tf):
    """Per-pixel reference: every source pixel in order; nearer (or equal depth, lower index) wins."""
    h, w, c = colors.shape
    out = np.zeros((h, w, c))
    zbuf = np.full((h, w), np.inf)
    f, cx, cy = float(K[0, 0]), float(K[0, 2]), float(K[1, 2])
    rot, t = tf[:3, :3].numpy(), tf[:3, 3].numpy()
    for y in range(h):
        for x in range(w):
            z = float(depth[y, x])
            p = np.array([(x - cx) * z / f, (y - cy) * z / f, z])
            q = rot @ p + t
            if q[2] <= 0:
                continue
            u, v = np.round(f * q[0] / q[2] + cx), np.round(f * q[1] / q[2] + cy)
            if 0 <= u < w and 0 <= v < h and np.float32(q[2]) < zbuf[int(v), int(u)]:
                zbuf[int(v), int(u)] = np.float32(q[2])
                out[int(v), int(u)] = colors[y, x].numpy()
    return out, np.isfinite(zbuf)


class TestForwardWarp:
    @pytest.mark.parametrize("z", [1.0, 2.0, 4.0])
    def test_fronto_parallel_plane_shifts_by_f_b_over_z(self, z):
        rig = _rig(views=2, baseline=0.08, focal=100.0)  # shift = 8 / z px
        shift = round(100.0 * 0.08 / z)
        frames = _texture(1, 8, 16)
        fm = build_frame_matrix(frames, torch.full((1, 8, 16), z), rig, cleanup=False)
        right = fm.colors[1, 0]
        torch.testing.assert_close(right[:, : 16 - shift], frames[0, :, shift:])
        assert fm.known[1, 0, :, : 16 - shift].all() and not fm.known[1, 0, :, 16 - shift :].any()
        torch.testing.assert_close(fm.depth[1, 0, :, : 16 - shift], torch.full((8, 16 - shift), z))

    @pytest.mark.parametrize("d", [1, 3, 6])
    def test_disparity_map_shifts_view_at_baseline_by_d(self, d):
        rig = _rig(views=4, baseline=0.05, focal=300.0)
        frames = _texture(2, 8, 16, seed=1)
        z = disparity_to_depth(torch.full((2, 8, 16), float(d)), rig.focal, 0.05)
        fm = build_frame_matrix(frames, z, rig, cleanup=False)
        torch.testing.assert_close(fm.colors[-1, :, :, : 16 - d], frames[:, :, d:])
        assert not fm.known[-1, :, :, 16 - d :].any()

    def test_two_layer_scene_leaves_predicted_hole_on_the_right(self):
        # Near square (z=1) over a far background (z=4); f*b = 8: near moves 8 px, far 2 px.
        h, w = 16, 32
        depth = torch.full((1, h, w), 4.0)
        depth[0, 4:12, 10:18] = 1.0
        frames = _texture(1, h, w, seed=2)
        rig = _rig(views=2, baseline=0.08, focal=100.0, h=h, w=w)
        fm = build_frame_matrix(frames, depth, rig, cleanup=False)
        expected = torch.zeros((h, w), dtype=torch.bool)
        # The near square now covers columns 2..9; the background behind old columns
        # 10..17 lands at 8..15, so columns 10..15 of the square's rows are revealed: a
        # hole of f*b*(1/1 - 1/4) = 6 px at the square's right side.
        expected[4:12, 10:16] = True
        expected[:, w - 2 :] = True  # the far background's border strip
        assert torch.equal(~fm.known[1, 0], expected)
        torch.testing.assert_close(fm.colors[1, 0, 4:12, 2:10], frames[0, 4:12, 10:18])
        # The cleanup closes at most one pixel at each edge of a hole: it never opens new
        # holes and leaves the inside of a 6-px hole unknown.
        cleaned = build_frame_matrix(frames, depth, rig, cleanup=True)
        assert not (~cleaned.known[1, 0] & ~expected).any()
        assert not cleaned.known[1, 0, 5:11, 11:15].any()

    def test_source_view_is_exact_and_known(self):
        rig = _rig(mode="middle2leftright", views=5, h=8, w=16)
        frames = _texture(3, 8, 16)
        fm = build_frame_matrix(frames, torch.rand(3, 8, 16) + 1, rig)
        assert torch.equal(fm.colors[2], frames) and fm.known[2].all()

    def test_vectorised_zbuffer_matches_pixel_loop(self):
        # Random depth with many collisions and a rotation (the general projection path).
        g = torch.Generator().manual_seed(3)
        h, w = 9, 13
        colors = torch.rand((h, w, 3), generator=g)
        depth = torch.randint(1, 4, (h, w), generator=g).double() * 0.5
        rig = _rig(views=2, baseline=0.1, focal=20.0, h=h, w=w)
        K = rig.intrinsics()
        angle = 0.05
        tf = torch.eye(4, dtype=torch.float64)
        tf[0, 0], tf[0, 2], tf[2, 0], tf[2, 2] = math.cos(angle), math.sin(angle), -math.sin(angle), math.cos(angle)
        tf[0, 3] = -0.1
        for transform in (rig.tgt_from_src()[1], tf):
            ref, ref_known = _loop_zbuffer(colors, depth, K, transform)
            out, known, _ = forward_warp(colors[None], depth[None].float(), K, transform)
            assert np.array_equal(known[0].numpy(), ref_known)
            np.testing.assert_allclose(out[0].numpy(), ref, atol=1e-7)


class TestCleanup:
    def _plane(self, h=10, w=12):
        colors = _texture(1, h, w, seed=4)
        return colors, torch.ones((1, h, w), dtype=torch.bool), torch.full((1, h, w), 2.0)

    def test_one_pixel_crack_is_filled_with_weighted_mean(self):
        colors, known, depth = self._plane()
        known[0, :, 5] = False  # a vertical crack
        out, out_known, out_depth = multiplane_cleanup(colors * known[..., None], known, depth)
        assert out_known.all()
        g = crack_kernel(torch.float64)
        y = 4
        neigh = colors[0, y - 1 : y + 2, 4:7].double()
        weight = g.clone()
        weight[:, 1] = 0
        expected = (weight[..., None] * neigh).sum((0, 1)) / (weight.sum() + 1e-6)
        torch.testing.assert_close(out[0, y, 5].double(), expected, atol=1e-6, rtol=0)
        torch.testing.assert_close(out_depth[0, y, 5], torch.tensor(2.0), atol=1e-5, rtol=0)
        # Known pixels keep their colour.
        torch.testing.assert_close(out[0, :, :5], colors[0, :, :5])

    def test_isolated_point_is_removed(self):
        colors, known, depth = self._plane()
        known[:] = False
        known[0, 5, 6] = True
        out, out_known, _ = multiplane_cleanup(colors * known[..., None], known, depth)
        assert not out_known.any() and (out == 0).all()

    def test_crack_in_near_plane_takes_near_colours(self):
        # A near surface (z=1) with a crack, in front of far content (z=9) seen through it.
        h, w = 10, 12
        colors = torch.zeros((1, h, w, 3))
        colors[..., 0] = 1.0  # near = red
        depth = torch.full((1, h, w), 1.0)
        known = torch.ones((1, h, w), dtype=torch.bool)
        depth[0, :, 6] = 9.0  # a column of far content through the crack
        colors[0, :, 6] = torch.tensor([0.0, 0.0, 1.0])
        known[0, :, 0:2] = True
        out, out_known, out_depth = multiplane_cleanup(colors, known, depth)
        # The far column is too thin to survive in its own plane; the near plane closes it.
        assert out_known.all()
        torch.testing.assert_close(out[0, 3, 6], torch.tensor([1.0, 0.0, 0.0]), atol=1e-5, rtol=0)
        assert out_depth[0, 3, 6] == pytest.approx(1.0, abs=1e-5)

    def _edge(self):
        # A near red card (z = 1, columns 0..5) beside a hole (6..8) and a far blue wall (z = 6).
        h, w = 10, 14
        colors = torch.zeros((1, h, w, 3))
        depth = torch.zeros((1, h, w))
        known = torch.ones((1, h, w), dtype=torch.bool)
        colors[0, :, :6, 0], depth[0, :, :6] = 1.0, 1.0
        colors[0, :, 9:, 2], depth[0, :, 9:] = 1.0, 6.0
        known[0, :, 6:9] = False
        return colors, known, depth

    def test_two_sided_rule_grows_no_edge_into_a_disocclusion(self):
        colors, known, depth = self._edge()
        out, out_known, out_depth = multiplane_cleanup(colors, known, depth)
        assert torch.equal(out_known, known)  # the 3-px hole stays 3 px wide
        assert torch.equal(out, colors * known[..., None]) and torch.equal(out_depth, depth * known)

    def test_reference_rule_grows_both_edges_by_one_pixel(self):
        colors, known, depth = self._edge()
        out, out_known, _ = multiplane_cleanup(colors, known, depth, crack_rule="reference")
        assert out_known[0, 1:-1, 6].all() and out_known[0, 1:-1, 8].all() and not out_known[0, :, 7].any()
        torch.testing.assert_close(out[0, 4, 6], torch.tensor([1.0, 0.0, 0.0]), atol=1e-5, rtol=0)  # red smeared
        torch.testing.assert_close(out[0, 4, 8], torch.tensor([0.0, 0.0, 1.0]), atol=1e-5, rtol=0)

    def test_two_sided_rule_still_closes_cracks_and_rejects_unknown_rules(self):
        colors, known, depth = self._plane()
        known[0, :, 5] = False
        known[0, 7, 7:] = False  # a horizontal crack beside the vertical one
        known[0, 2, 0] = False  # a notch at the border
        _, out_known, _ = multiplane_cleanup(colors * known[..., None], known, depth)
        assert out_known.all()
        with pytest.raises(ValueError, match="crack rule"):
            multiplane_cleanup(colors, known, depth, crack_rule="wide")
        with pytest.raises(OptionError, match="crack rule"):
            CleanupConfig(crack_rule="wide")

    def test_planes_split_min_median_max(self):
        depth = torch.tensor([[[1.0, 2.0, 3.0, 4.0, 5.0]]])
        labels = plane_labels(depth, torch.ones_like(depth, dtype=torch.bool), 4)
        # median 3: splits (2, 3] / (4, 5]
        assert labels.flatten().tolist() == [0, 0, 1, 2, 3]


class TestRigModes:
    def test_right2left_mirrors_left2right(self):
        frames = _texture(2, 10, 20, seed=5)
        depth = _texture(2, 10, 20, seed=8)[..., 0] * 3 + 0.7
        a = build_frame_matrix(frames, depth, _rig(views=3, h=10, w=20))
        b = build_frame_matrix(frames.flip(2), depth.flip(2), _rig(mode="right2left", views=3, h=10, w=20))
        # A parallel shift does not depend on the principal point, so mirroring the input
        # mirrors the output exactly (random depth has no half-pixel ties).
        assert torch.equal(a.known, b.known.flip(3))
        # Crack fills sum their neighbours in mirrored order: equal up to float rounding.
        torch.testing.assert_close(a.colors, b.colors.flip(3), atol=1e-6, rtol=0)

    def test_middle_outer_view_equals_left2right_at_half_baseline(self):
        frames = _texture(2, 10, 20, seed=6)
        depth = _texture(2, 10, 20, seed=9)[..., 0] * 3 + 0.7
        mid = build_frame_matrix(frames, depth, _rig(mode="middle2leftright", views=5, baseline=0.2, h=10, w=20))
        l2r = build_frame_matrix(frames, depth, _rig(views=2, baseline=0.1, h=10, w=20))
        assert torch.equal(mid.colors[-1], l2r.colors[-1]) and torch.equal(mid.known[-1], l2r.known[-1])

    def test_circle_vertical_views_shift_rows(self):
        rig = _rig(mode="circle", views=4, circle_diameter=0.1, circle_squash=1.0, focal=100.0, h=16, w=16)
        # views: (0,0), (0.05, 0.05), (0.1, 0), (0.05, -0.05); z = 1.25 -> 4 px per 0.05 m.
        frames = _texture(1, 16, 16, seed=7)
        fm = build_frame_matrix(frames, torch.full((1, 16, 16), 1.25), rig, cleanup=False)
        torch.testing.assert_close(fm.colors[1, 0, : 16 - 4, : 16 - 4], frames[0, 4:, 4:])
        torch.testing.assert_close(fm.colors[3, 0, 4:, : 16 - 4], frames[0, :-4, 4:])


def _read_rgb(path) -> np.ndarray:
    import cv2

    return cv2.imread(str(path), cv2.IMREAD_COLOR)[:, :, ::-1]


def test_parity_with_reference_frame_matrix(astronaut_dir):
    """The authors' matrix: masks agree on >= 99.5 % of pixels everywhere, colours >= 40 dB mean."""
    import cv2

    frames = torch.from_numpy(np.stack([_read_rgb(astronaut_dir / "images" / f"{i:05d}.jpg") for i in range(16)]))
    frames = frames.float() / 255
    inv_depth = torch.from_numpy(np.load(astronaut_dir / "depth.npz")["refined"])
    rig = CameraRig.from_config(RigConfig(views=8, baseline=0.08, focal=800.0), 320, 576)
    fm = build_frame_matrix(frames, relative_to_depth(inv_depth, far=10.0), rig, planes=4, crack_rule="reference")
    ref_dir = astronaut_dir / "reference_frame_matrix_left2right"
    agreement, psnr = [], []
    for v in range(8):
        for t in range(16):
            ref = _read_rgb(ref_dir / f"{t:05d}_baseline_0.08_{v:03d}.jpg").astype(np.float64)
            ref_known = cv2.imread(str(ref_dir / f"{t:05d}_baseline_0.08_{v:03d}_mask.png"), cv2.IMREAD_GRAYSCALE) > 127
            known = fm.known[v, t].numpy()
            agreement.append((known == ref_known).mean())
            both = known & ref_known
            ours = np.floor(fm.colors[v, t].double().numpy() * 255)  # the reference truncates to uint8
            mse = ((ours - ref)[both] ** 2).mean()
            psnr.append(10 * np.log10(255**2 / mse))
    assert min(agreement) >= 0.995, f"worst mask agreement {min(agreement):.5f}"
    assert np.mean(psnr) >= 40.0, f"mean PSNR {np.mean(psnr):.2f} dB"


class TestConvergence:
    def test_sensor_shift_puts_chosen_depth_at_zero_disparity(self):
        rig = _rig(views=2, baseline=0.1, focal=100.0, h=8, w=16).with_convergence(100.0 / 2.0)  # z0 = 2 m
        frames = _texture(1, 8, 16, seed=10)
        at_screen = build_frame_matrix(frames, torch.full((1, 8, 16), 2.0), rig, cleanup=False)
        torch.testing.assert_close(at_screen.colors[1], frames)  # no shift at z0
        # Farther content (z = 10: 1 px left without the shift) now moves 5 - 1 = 4 px right.
        far = build_frame_matrix(frames, torch.full((1, 8, 16), 10.0), rig, cleanup=False)
        torch.testing.assert_close(far.colors[1, 0, :, 4:], frames[0, :, :-4])
        assert not far.known[1, 0, :, :4].any()
