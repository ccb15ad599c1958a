"""Outpaint, then inpaint: margins, extensions, the warp of the extended clip, the kept hint."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from s2vg.config import RigConfig
from s2vg.errors import InputError, OptionError
from s2vg.geometry.build import build_frame_matrix
from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.geometry.rig import CameraRig
from s2vg.inpaint.outpaint import (
    OutpaintedFrameMatrix,
    border_strip,
    build_frame_matrix_outpainted,
    extend_frames,
    inpaint_outpainted,
    outpaint_margins,
    warp_extended,
)
from s2vg.metrics.scenes import make_scene, render_scene, scene_rig


def rig_for(mode: str, views=3, baseline=0.08, width=96, height=32, focal=100.0) -> CameraRig:
    return CameraRig.from_config(RigConfig(mode=mode, views=views, baseline=baseline, focal=focal), height, width)


@pytest.mark.parametrize("mode, expected", [
    ("left2right", (0, 4)),  # f B / z = 100 * 0.08 / 2 = 4 px on the right
    ("right2left", (4, 0)),
    ("middle2leftright", (2, 2)),
])
def test_margins_closed_form(mode, expected):
    depth = torch.full((2, 32, 96), 2.0)
    assert outpaint_margins(depth, rig_for(mode), min_margin=1) == expected


def test_margins_read_the_border_band_and_sensor_shift():
    depth = torch.full((1, 32, 96), 10.0)
    depth[0, 5, -2] = 1.0  # one near pixel touching the right border: 100 * 0.08 / 1 = 8 px
    rig = rig_for("left2right")
    assert outpaint_margins(depth, rig, min_margin=1) == (0, 8)
    assert outpaint_margins(depth, rig, band=1, min_margin=1) == (0, 1)  # 0.8 px at 10 m, rounded up
    assert outpaint_margins(depth, rig, band=1, min_margin=2) == (0, 0)
    # Convergence at 1 m (shift f / 1 m per metre): the far wall moves right by 8 - 0.8 px,
    # revealing the left border; the near pixel sits at the screen plane.
    shifted = rig.with_convergence(100.0 / 1.0)
    assert outpaint_margins(depth, shifted, min_margin=1) == (math.ceil(8 - 0.8), 0)


def test_extend_keeps_the_clip_and_repeats_border_depth():
    g = torch.Generator().manual_seed(0)
    frames, depth = torch.rand(3, 8, 20, 3, generator=g), torch.rand(3, 8, 20, generator=g) + 1
    for method in ("stretch", "mirror", "classical"):
        wide, wide_depth = extend_frames(frames, depth, 3, 5, method)
        assert wide.shape == (3, 8, 28, 3) and wide_depth.shape == (3, 8, 28)
        assert torch.equal(wide[:, :, 3:23], frames)
        assert torch.equal(wide_depth[:, :, :3], depth[:, :, :1].expand(-1, -1, 3))
        assert torch.equal(wide_depth[:, :, 23:], depth[:, :, -1:].expand(-1, -1, 5))
        assert wide.min() >= 0 and wide.max() <= 1
    wide, _ = extend_frames(frames, depth, 3, 5, "stretch")
    assert torch.equal(wide[:, :, 23:], frames[:, :, -1:].expand(-1, -1, 5, -1))
    wide, _ = extend_frames(frames, depth, 3, 5, "mirror")
    assert torch.equal(wide[:, :, 23], frames[:, :, -2]) and torch.equal(wide[:, :, 2], frames[:, :, 1])


def test_classical_extension_takes_real_pixels_from_other_frames():
    """A pan: what lies beyond the right border at frame 0 is inside the frame later on, and
    the classical fill copies it (flow of a smooth texture; DIS needs frames of 16 px or more)."""
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(1)
    world = cv2.GaussianBlur(rng.random((32, 80, 3)).astype(np.float32), (0, 0), 2.0)
    world = torch.from_numpy((world - world.min()) / (world.max() - world.min()))
    frames = torch.stack([world[:, 3 * t:3 * t + 48] for t in range(6)])  # the camera pans right 3 px a frame
    depth = torch.full((6, 32, 48), 5.0)
    wide, _ = extend_frames(frames, depth, 0, 6)  # "auto" without a video model: classical
    assert torch.allclose(wide[0, :, 48:54], world[:, 48:54], atol=1e-6)
    stretched, _ = extend_frames(frames, depth, 0, 6, "stretch")
    assert (stretched[0, :, 48:54] - world[:, 48:54]).abs().mean() > 0.05


def test_bad_inputs_rejected():
    frames, depth = torch.rand(2, 8, 16, 3), torch.ones(2, 8, 16)
    with pytest.raises(InputError, match="depth"):
        extend_frames(frames, torch.ones(2, 8, 15), 1, 1)
    with pytest.raises(OptionError, match="method"):
        extend_frames(frames, depth, 1, 1, "smear")
    with pytest.raises(OptionError, match=">= 0"):
        extend_frames(frames, depth, -1, 1)
    with pytest.raises(OptionError, match="denoiser"):
        extend_frames(frames, depth, 1, 1, "diffusion")
    with pytest.raises(InputError, match="rig"):
        build_frame_matrix_outpainted(frames, depth, rig_for("left2right"))


# -- the warp of the extended clip -----------------------------------------------------------------


@pytest.fixture(scope="module")
def border_scene():
    """The rendered "border" scene (near content cut by the right border), 16 px wider on each side."""
    scene = make_scene("border", height=48, width=96, seed=0)
    rig = scene_rig(scene, views=3, divergence_pct=5.0)
    margin = 16
    shot = render_scene(scene, rig, 3, margin=margin)
    rows = slice(margin, -margin)
    wide, wide_depth = torch.from_numpy(shot.colors[0][:, rows]), torch.from_numpy(shot.depth[0][:, rows])
    return rig, margin, wide, wide_depth, shot.colors[:, :, rows, margin:-margin], shot.depth[:, :, rows, margin:-margin]


def test_true_extension_gives_the_true_border_strip(border_scene):
    """Warping the render's own margin (the truth beyond the border) makes every pixel of the
    new views' border strips exactly the rendered view: the geometry of the warp is right."""
    rig, m, wide, wide_depth, truth, truth_depth = border_scene
    frames, depth = wide[:, :, m:-m], wide_depth[:, :, m:-m]
    left, right = outpaint_margins(depth, rig)
    assert left == 0 and right > 2
    matrix = warp_extended(wide[:, :, m - left:wide.shape[2] - m + right],
                           wide_depth[:, :, m - left:wide.shape[2] - m + right], rig, left, right, cleanup=False)
    assert isinstance(matrix, OutpaintedFrameMatrix) and matrix.margins == (0, right)
    plain = build_frame_matrix(frames, depth, rig, cleanup=False)
    for v in (1, 2):
        strip = torch.from_numpy(border_strip(truth_depth[v], rig.positions[v, 0], rig.focal))
        assert strip.any() and not plain.known[v][strip].any()
        assert matrix.filled[v][strip].all()
        assert torch.equal(matrix.colors[v][strip], torch.from_numpy(truth[v])[strip])
    # Real pixels: exactly the plain warp's, and marked known exactly where it marks them.
    assert torch.equal(matrix.known, plain.known)
    assert torch.equal(matrix.colors[matrix.known], plain.colors[plain.known])
    assert not (matrix.known & matrix.filled).any()


def test_outpainted_matrix_with_cleanup_and_the_kept_hint(border_scene):
    from s2vg.inpaint.classical import ClassicalInpainter

    rig, m, wide, wide_depth, truth, truth_depth = border_scene
    frames, depth = wide[:, :, m:-m], wide_depth[:, :, m:-m]
    matrix = build_frame_matrix_outpainted(frames, depth, rig, method="classical")
    plain = build_frame_matrix(frames, depth, rig)
    assert matrix.colors.shape == plain.colors.shape and torch.equal(matrix.colors[0], frames)
    # known = real pixels only; the cleanup sees the extension, so a few known pixels of the
    # plain matrix next to it lose that status, but none is gained.
    assert not (matrix.known & ~plain.known).any()
    assert float((plain.known & ~matrix.known).float().mean()) < 0.05
    assert matrix.filled.sum() > 0 and not (matrix.known & matrix.filled).any()
    out = inpaint_outpainted(ClassicalInpainter(), matrix)
    assert isinstance(out, OutpaintedFrameMatrix)
    assert torch.equal(out.known, matrix.known)  # invented stays invented
    assert torch.equal(out.colors[matrix.filled], matrix.colors[matrix.filled])  # the hint is kept
    assert torch.equal(out.colors[0], frames)
    # a plain matrix goes straight through
    assert torch.equal(inpaint_outpainted(ClassicalInpainter(), plain).colors,
                       ClassicalInpainter()(plain).colors)


def test_no_revealed_margin_gives_the_plain_matrix():
    frames, depth = torch.rand(2, 16, 32, 3), torch.full((2, 16, 32), 1000.0)  # far: < 1 px of disparity
    rig = rig_for("left2right", width=32, height=16)
    matrix = build_frame_matrix_outpainted(frames, depth, rig)
    assert type(matrix) is FrameMatrix
    assert torch.equal(matrix.known, build_frame_matrix(frames, depth, rig).known)
    forced = build_frame_matrix_outpainted(frames, depth, rig, margin=3, method="stretch")
    assert forced.margins == (0, 3)


def test_border_strip_closed_form():
    depth = np.full((1, 2, 10), 2.0)
    strip = border_strip(depth, 0.08, 100.0)  # shift 4 px: source x + 4 beyond 9 for x >= 6
    assert strip[0, 0].tolist() == [False] * 6 + [True] * 4


# -- diffusion outpainting with an oracle -------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 4])
def test_diffusion_outpainting_with_an_oracle_returns_the_true_extension(k):
    pytest.importorskip("diffusers")
    from diffusers import FlowMatchEulerDiscreteScheduler

    from s2vg.config import DiffusionConfig
    from test_diffusion_flow import GUIDANCE, TimePackingOracle, candidates_of

    g = torch.Generator().manual_seed(2)
    truth = (torch.rand(1, 5, 16, 32, 3, generator=g) > 0.5).float()  # the wide clip
    frames, depth = truth[0, :, :, 4:28], torch.full((5, 16, 24), 3.0)
    oracle = TimePackingOracle(FlowMatchEulerDiscreteScheduler(shift=3.0), 2, k, "native", 8)
    oracle.candidates = candidates_of(oracle, truth)
    config = DiffusionConfig(steps=8, scheduler="native", resample=2, guidance_scale=GUIDANCE, seed=0)
    wide, wide_depth = extend_frames(frames, depth, 4, 4, "diffusion", oracle, config=config)
    assert torch.equal(wide[:, :, 4:28], frames)
    assert torch.allclose(wide, truth[0], atol=1e-4), float((wide - truth[0]).abs().max())
    assert torch.equal(wide_depth[:, :, :4], depth[:, :, :1].expand(-1, -1, 4))


def test_diffusion_outpaint_then_svg_inpaint_with_a_tiny_wan(tmp_path, border_scene):
    """The whole path with a real (tiny, random) time-compressing backend: the extension's
    middle is the clip, the hint survives the diffusion inpainter, the source is untouched."""
    pytest.importorskip("diffusers")
    pytest.importorskip("transformers")
    from s2vg.inpaint.diffusion import build_svg_inpainter
    from s2vg.inpaint.diffusion.backends.random_init import save_random_wan

    rig, m, wide, wide_depth, _, _ = border_scene
    frames, depth = wide[:2, :, m:-m], wide_depth[:2, :, m:-m]
    inpainter = build_svg_inpainter(model=str(save_random_wan(tmp_path / "wan")), steps=2, resample=1)
    matrix = build_frame_matrix_outpainted(frames, depth, rig, denoiser=inpainter.denoiser, config=inpainter.config)
    assert isinstance(matrix, OutpaintedFrameMatrix) and matrix.margins[1] > 0 and matrix.filled.any()
    out = inpaint_outpainted(inpainter, matrix)
    assert torch.equal(out.colors[0], frames) and torch.equal(out.known, matrix.known)
    # The hint is kept as known pixels are: exactly, except the band that the diffusion
    # inpainter's mask erosion hands to the model (DiffusionConfig.mask_erode).
    kept = (out.colors == matrix.colors).all(dim=-1)[matrix.filled].float().mean()
    assert kept > 0.8, float(kept)
    assert torch.isfinite(out.colors).all() and out.colors.min() >= 0 and out.colors.max() <= 1
