"""Wan, LTX-Video and CogVideoX backends with tiny random models built from configs (no download)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

pytest.importorskip("diffusers")
pytest.importorskip("transformers")

from s2vg.errors import MissingWeightsError, OptionError  # noqa: E402
from s2vg.geometry.frame_matrix import FrameMatrix  # noqa: E402
from s2vg.geometry.rig import CameraRig  # noqa: E402
from s2vg.inpaint import get_inpainter  # noqa: E402
from s2vg.inpaint.diffusion import backend_for_folder, load_denoiser  # noqa: E402
from s2vg.inpaint.diffusion.backends import backend_for_model  # noqa: E402
from s2vg.inpaint.diffusion.backends.random_init import RANDOM_MODELS  # noqa: E402

BACKENDS = ("wan", "ltx", "cogvideox")
#: (spatial factor, temporal factor, latent channels, size multiple) of the tiny models.
GEOMETRY = {"wan": (8, 4, 4, 16), "ltx": (32, 8, 8, 32), "cogvideox": (8, 4, 4, 16)}


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {name: RANDOM_MODELS[name](root / f"tiny-{name}") for name in BACKENDS}


def small_matrix(views=3, frames=4, height=64, width=96) -> FrameMatrix:
    g = torch.Generator().manual_seed(0)
    colors = torch.rand(views, frames, height, width, 3, generator=g)
    known = torch.ones(views, frames, height, width, dtype=torch.bool)
    for v in range(1, views):
        known[v, :, :, 30 + 6 * v:50 + 6 * v] = False  # a disocclusion strip that moves with the view
    colors = colors * known.unsqueeze(-1)
    positions = np.zeros((views, 3))
    positions[:, 0] = np.linspace(0, 0.08, views)
    rig = CameraRig(width=width, height=height, focal=96.0, positions=positions)
    return FrameMatrix(colors=colors, known=known, depth=torch.ones(views, frames, height, width), rig=rig)


@pytest.mark.parametrize("name", BACKENDS)
def test_loader_reads_geometry_and_normalisation_from_configs(name, folders):
    assert backend_for_folder(folders[name]) == name == backend_for_model(str(folders[name]))
    model = load_denoiser(name, model=str(folders[name]))
    f, k, c, multiple = GEOMETRY[name]
    assert (model.spatial_factor, model.temporal_factor, model.latent_channels, model.size_multiple) == (f, k, c, multiple)
    assert model.dtype == torch.float32 and model.device.type == "cpu"
    frames = torch.rand(2, 1 + 2 * k, 64, 96, 3)
    latents = model.encode(frames)
    assert latents.shape == (2, c, 3, 64 // f, 96 // f) and latents.dtype == torch.float32
    # The normalisation is the VAE's own: undo it and compare with the raw posterior mode.
    raw = model.vae.encode(frames.permute(0, 4, 1, 2, 3) * 2 - 1).latent_dist.mode()
    config = model.vae.config
    if name == "wan":
        mean, std, scale = torch.tensor(config.latents_mean), torch.tensor(config.latents_std), 1.0
    elif name == "ltx":
        mean, std, scale = model.vae.latents_mean, model.vae.latents_std, config.scaling_factor
    else:
        mean, std, scale = torch.zeros(c), torch.ones(c), config.scaling_factor
    expected = (raw - mean.view(1, -1, 1, 1, 1)) * scale / std.view(1, -1, 1, 1, 1)
    assert torch.allclose(latents, expected, atol=1e-5)
    assert model.decode(latents).shape == (2, 1 + 2 * k, 64, 96, 3)
    cond, uncond = model.encode_prompt("a horse", "low-quality, blurry")
    first = cond["embeds"] if isinstance(cond, dict) else cond
    second = uncond["embeds"] if isinstance(uncond, dict) else uncond
    assert first.shape[0] == second.shape[0] == 1 and not torch.equal(first, second)


@pytest.mark.parametrize("name", BACKENDS)
def test_svg_inpainter_runs_end_to_end_and_keeps_the_source(name, folders):
    matrix = small_matrix()
    inpainter = get_inpainter("svg", prompt="an astronaut riding a horse", model=str(folders[name]), steps=2,
                              resample=2, guidance_scale=2.0)
    out = inpainter(matrix)
    assert out.colors.shape == matrix.colors.shape
    assert torch.equal(out.colors[matrix.source_index], matrix.colors[matrix.source_index])
    assert torch.equal(out.known, matrix.known)
    unknown = ~matrix.known
    assert torch.isfinite(out.colors).all() and out.colors.min() >= 0 and out.colors.max() <= 1
    assert not torch.equal(out.colors[unknown], matrix.colors[unknown])  # something was painted
    stats = inpainter.last_stats
    assert stats.model_calls > 0 and stats.vae_frames_encoded > 0 and stats.vae_frames_decoded > 0


def test_frame_size_the_model_cannot_take_is_padded(folders):
    """LTX needs multiples of 32; a 40x72 matrix is padded inside the sampler and cropped back."""
    matrix = small_matrix(views=2, frames=3, height=40, width=72)
    out = get_inpainter("svg", model=str(folders["ltx"]), steps=2, resample=0)(matrix)
    assert out.colors.shape == matrix.colors.shape
    assert torch.equal(out.colors[0], matrix.colors[0])


def test_wan22_two_experts_switch_at_the_boundary(folders, tmp_path):
    from diffusers import WanTransformer3DModel

    folder = shutil.copytree(folders["wan"], tmp_path / "wan22")
    torch.manual_seed(7)
    config = dict(WanTransformer3DModel.load_config(folder / "transformer"))
    WanTransformer3DModel.from_config(config).save_pretrained(folder / "transformer_2")
    index = json.loads((folder / "model_index.json").read_text())
    index.update(boundary_ratio=0.5, transformer_2=["diffusers", "WanTransformer3DModel"])
    (folder / "model_index.json").write_text(json.dumps(index))
    model = load_denoiser("wan", model=str(folder))
    assert model.boundary_timestep == 500.0 and model.transformer_2 is not None
    latents = torch.randn(1, 4, 2, 4, 4)
    cond, _ = model.encode_prompt("x", "")
    for t, expert in ((900.0, model.transformer), (100.0, model.transformer_2)):
        timestep = torch.tensor(t)
        direct = expert(hidden_states=latents, timestep=timestep.reshape(1), encoder_hidden_states=cond,
                        return_dict=False)[0]
        assert torch.allclose(model.predict(latents, timestep, cond), direct, atol=1e-5)


@pytest.mark.parametrize("name", BACKENDS)
def test_missing_weights_and_bad_options(name, tmp_path, folders):
    with pytest.raises(MissingWeightsError, match="does not exist"):
        load_denoiser(name, model=str(tmp_path / "nowhere"))
    partial = tmp_path / "partial"
    (partial / "vae").mkdir(parents=True)
    with pytest.raises(MissingWeightsError, match="lacks transformer"):
        load_denoiser(name, model=str(partial))
    with pytest.raises(OptionError, match="CUDA"):
        load_denoiser(name, model=str(folders[name]), device="cpu", cpu_offload="model")


def test_availability_follows_the_folder_backend(folders, tmp_path):
    from s2vg.inpaint.diffusion import svg_available

    for name in BACKENDS:
        assert svg_available(str(folders[name]), require_cuda=False)
    assert not svg_available(str(tmp_path / "nowhere"), require_cuda=False)
