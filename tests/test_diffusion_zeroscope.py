"""The Zeroscope-format backend with a tiny random model built from configs (no download)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("diffusers")
pytest.importorskip("transformers")

from s2vg.errors import MissingWeightsError  # noqa: E402
from s2vg.geometry.frame_matrix import FrameMatrix  # noqa: E402
from s2vg.geometry.rig import CameraRig  # noqa: E402
from s2vg.inpaint import get_inpainter  # noqa: E402
from s2vg.inpaint.diffusion import backend_for_folder  # noqa: E402
from s2vg.inpaint.diffusion.backends import weights  # noqa: E402
from s2vg.inpaint.diffusion.backends.random_init import save_random_zeroscope  # noqa: E402
from s2vg.inpaint.diffusion.backends.zeroscope import load_zeroscope  # noqa: E402


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    return save_random_zeroscope(tmp_path_factory.mktemp("models") / "tiny-zeroscope")


def small_matrix(views=3, frames=4, height=32, width=48) -> FrameMatrix:
    g = torch.Generator().manual_seed(0)
    colors = torch.rand(views, frames, height, width, 3, generator=g)
    known = torch.ones(views, frames, height, width, dtype=torch.bool)
    for v in range(1, views):
        known[v, :, :, 10 + 4 * v:22 + 4 * v] = False  # a disocclusion strip that moves with the view
    colors = colors * known.unsqueeze(-1)
    positions = np.zeros((views, 3))
    positions[:, 0] = np.linspace(0, 0.08, views)
    rig = CameraRig(width=width, height=height, focal=64.0, positions=positions)
    return FrameMatrix(colors=colors, known=known, depth=torch.ones(views, frames, height, width), rig=rig)


def test_loader_reads_geometry_from_configs(tiny_folder):
    model = load_zeroscope(tiny_folder)
    assert (model.spatial_factor, model.latent_channels, model.temporal_factor) == (8, 4, 1)
    assert model.dtype == torch.float32 and model.device.type == "cpu"
    frames = torch.rand(2, 3, 32, 48, 3)
    latents = model.encode(frames)
    assert latents.shape == (2, 4, 3, 4, 6) and latents.dtype == torch.float32
    assert model.decode(latents).shape == (2, 3, 32, 48, 3)
    cond, uncond = model.encode_prompt("a horse", "low-quality, blurry")
    assert cond.shape[0] == uncond.shape[0] == 1 and not torch.equal(cond, uncond)
    out = model.predict(latents, model.scheduler.timesteps[0], torch.cat([cond, uncond]))
    assert out.shape == latents.shape and torch.isfinite(out).all()
    assert backend_for_folder(tiny_folder) == "zeroscope"


def test_svg_inpainter_runs_end_to_end_and_keeps_the_source(tiny_folder):
    matrix = small_matrix()
    inpainter = get_inpainter("svg", prompt="an astronaut riding a horse", model=str(tiny_folder), steps=3, resample=2,
                              window_overlap=1,
                              backend_options={"max_frames": 3})
    out = inpainter(matrix)
    assert out.colors.shape == matrix.colors.shape
    assert torch.equal(out.colors[matrix.source_index], matrix.colors[matrix.source_index])
    assert torch.equal(out.known, matrix.known)
    unknown = ~matrix.known
    assert torch.isfinite(out.colors).all() and out.colors.min() >= 0 and out.colors.max() <= 1
    assert not torch.equal(out.colors[unknown], matrix.colors[unknown])  # something was painted
    stats = inpainter.last_stats
    assert stats.model_calls > 0 and stats.vae_frames_decoded > 0 and stats.reinjected_frames > 0


def test_separate_vae_folder(tiny_folder):
    model = load_zeroscope(tiny_folder, vae=tiny_folder / "vae")
    assert model.spatial_factor == 8


def test_missing_weights_errors(tmp_path, monkeypatch, tiny_folder):
    with pytest.raises(MissingWeightsError, match="does not exist"):
        load_zeroscope(tmp_path / "nowhere")
    partial = tmp_path / "partial"
    (partial / "vae").mkdir(parents=True)
    with pytest.raises(MissingWeightsError, match="lacks unet"):
        load_zeroscope(partial)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(MissingWeightsError, match="--model PATH"):
        load_zeroscope("s2vg-tests/not-a-cached-model")
    assert time.perf_counter() - start < 10
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(weights, "_offline", lambda: False)
    monkeypatch.setattr(weights, "_hub_reachable", lambda timeout=0: False)
    with pytest.raises(MissingWeightsError, match="unreachable"):
        load_zeroscope("s2vg-tests/not-a-cached-model")


def test_availability_check_never_downloads(tiny_folder, tmp_path):
    from s2vg.inpaint.diffusion import svg_available

    assert svg_available(str(tiny_folder), require_cuda=False)
    assert not svg_available(str(tmp_path / "nowhere"), require_cuda=False)
    start = time.perf_counter()
    assert not svg_available("s2vg-tests/not-a-cached-model", require_cuda=False)
    assert time.perf_counter() - start < 5


SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "samples" / "astronaut"


@pytest.mark.skipif(not (SAMPLE / "depth.npz").is_file(), reason="shared sample clip absent")
def test_sample_clip_matrix_inpainted_with_tiny_model(tiny_folder):
    """The astronaut clip (8 frames at 80x144, 4 views) warped by the geometry stage and
    filled by the tiny random model: every hole filled, the source view untouched."""
    cv2 = pytest.importorskip("cv2")
    from s2vg.config import RigConfig
    from s2vg.geometry.build import build_frame_matrix
    from s2vg.geometry.depth import relative_to_depth

    names = sorted((SAMPLE / "images").glob("*.jpg"))[:8]
    frames = np.stack([cv2.resize(cv2.imread(str(p))[:, :, ::-1], (144, 80), interpolation=cv2.INTER_AREA)
                       for p in names]).astype(np.float32) / 255
    inv = np.load(SAMPLE / "depth.npz")["refined"][:8]
    inv = np.stack([cv2.resize(d, (144, 80), interpolation=cv2.INTER_AREA) for d in inv])
    rig = CameraRig.from_config(RigConfig(views=4), height=80, width=144)
    matrix = build_frame_matrix(torch.from_numpy(frames), relative_to_depth(torch.from_numpy(inv)), rig)
    assert (~matrix.known).any()
    inpainter = get_inpainter("svg", prompt="an astronaut riding a horse", model=str(tiny_folder), steps=2, resample=2)
    out = inpainter(matrix)
    assert torch.equal(out.colors[matrix.source_index], matrix.colors[matrix.source_index])
    assert torch.isfinite(out.colors).all() and out.colors.min() >= 0 and out.colors.max() <= 1
    assert inpainter.last_stats.model_calls > 0
