"""Text/image-to-video generation with tiny random pipelines of each family, offline."""

from __future__ import annotations

import json

import numpy as np
import pytest

from s2vg.config import ConvertConfig, GenerateConfig
from s2vg.errors import MissingWeightsError, OptionError

pytest.importorskip("diffusers")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from s2vg.generate.random_init import save_random_generator

    root = tmp_path_factory.mktemp("generators")
    return {
        (family, i2v): save_random_generator(root / f"{family}-{'i2v' if i2v else 't2v'}", family, image_to_video=i2v)
        for family, i2v in [("zeroscope", False), ("wan", False), ("ltx", False), ("cogvideox", False),
                            ("cogvideox", True)]
    }


@pytest.mark.parametrize(
    "family, i2v, size, frames",
    [
        ("zeroscope", False, (32, 48), 5),
        ("wan", False, (24, 40), 6),  # neither a multiple of 16 nor 4k+1: generated larger, cut back
        ("ltx", False, (32, 40), 5),
        ("cogvideox", False, (16, 24), 6),
        ("cogvideox", True, (24, 24), 3),  # learned positional embeddings: native 32x32, resized
    ],
)
def test_generate_video_gives_the_requested_clip(models, family, i2v, size, frames):
    from s2vg.generate import FAMILIES, generate_video

    image = np.random.default_rng(0).random((40, 60, 3), dtype=np.float32) if i2v else None
    video, fps, info = generate_video("a red ball rolls", image, model=str(models[family, i2v]), steps=2,
                                      height=size[0], width=size[1], frames=frames)
    assert video.shape == (frames, *size, 3) and video.dtype == np.float32
    assert 0.0 <= video.min() and video.max() <= 1.0 and np.isfinite(video).all()
    assert fps == FAMILIES[family].fps and info["family"] == family and info["steps"] == 2
    assert info["generated_frames"] >= frames and info["seed"] == GenerateConfig.seed
    if family == "wan":
        assert info["generated_frames"] == 9 and info["generated_size"] == [32, 48]


def test_defaults_come_from_the_pipeline(models):
    from s2vg.generate import VideoGenerator

    generator = VideoGenerator.load(GenerateConfig(model=str(models["wan", False])))
    settings = generator.settings(None, GenerateConfig())
    assert (settings["steps"], settings["guidance"]) == (50, 5.0)  # WanPipeline.__call__ defaults
    assert (settings["height"], settings["width"], settings["frames"]) == (480, 832, 81)


def test_seed_reproduces_and_changes_the_video(models):
    from s2vg.generate import generate_video

    options = dict(model=str(models["zeroscope", False]), steps=2, height=16, width=16, frames=2)
    a, _, _ = generate_video("a cat", seed=1, **options)
    b, _, _ = generate_video("a cat", seed=1, **options)
    c, _, _ = generate_video("a cat", seed=2, **options)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3


def test_image_to_video_model_without_image_is_refused(models):
    from s2vg.generate import generate_video

    with pytest.raises(OptionError, match="image-to-video") as error:
        generate_video("a cat", model=str(models["cogvideox", True]), steps=1)
    assert error.value.exit_code == 2 and "\n" not in str(error.value)


def test_text_only_model_with_image_is_refused(models):
    from s2vg.generate import generate_video

    with pytest.raises(OptionError, match="text only"):
        generate_video("a cat", np.zeros((8, 8, 3), np.float32), model=str(models["zeroscope", False]))


def test_missing_weights_are_one_line(tmp_path, monkeypatch):
    from s2vg.generate import generate_video

    with pytest.raises(MissingWeightsError) as error:
        generate_video("a cat", model=str(tmp_path / "no-such-model"))
    assert "does not exist" in str(error.value) and "\n" not in str(error.value)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(MissingWeightsError) as error:
        generate_video("a cat", model="someone/not-cached-video-model")
    assert "HF_HUB_OFFLINE" in str(error.value) and "\n" not in str(error.value)
    (tmp_path / "partial").mkdir()
    (tmp_path / "partial" / "model_index.json").write_text(json.dumps(
        {"_class_name": "WanPipeline", "transformer": ["diffusers", "WanTransformer3DModel"], "vae": ["diffusers", "AutoencoderKLWan"]}))
    with pytest.raises(MissingWeightsError, match="lacks transformer, vae"):
        generate_video("a cat", model=str(tmp_path / "partial"))


def test_the_inpainter_gets_the_loaded_modules(models):
    from s2vg.generate import VideoGenerator

    generator = VideoGenerator.load(GenerateConfig(model=str(models["zeroscope", False])))
    denoiser = generator.denoiser()
    assert denoiser.unet is generator.pipe.unet and denoiser.vae is generator.pipe.vae
    assert denoiser.scheduler is not generator.pipe.scheduler  # a fresh one: the pipeline's is stepped
    i2v = VideoGenerator.load(GenerateConfig(model=str(models["cogvideox", True])), image=True)
    assert i2v.denoiser() is None  # its transformer takes image channels: not a text-to-video denoiser


def test_generate_converts_to_stereo_with_the_shared_model(models, tmp_path):
    from s2vg.convert import RigRequest
    from s2vg.generate import generate
    from s2vg.generate.metadata import read_generation
    from s2vg.io import probe, read_frames

    config = GenerateConfig(model=str(models["zeroscope", False]), steps=2, height=32, width=48, frames=5, seed=7)
    summary = generate("a red ball rolls", tmp_path / "ball.mp4", config=config,
                       convert_options=dict(config=ConvertConfig(depth="heuristic", inpainter="svg"),
                                            rig=RigRequest(views=3), inpainter_options=dict(steps=2, resample=1)))
    assert summary["shared_model"] and summary["convert"]["inpainter"] == "svg"
    sbs, info = read_frames(tmp_path / "ball.mp4")
    assert sbs.shape == (5, 32, 96, 3) and info.fps == 8 and summary["output_frames"] == 5
    record = read_generation(tmp_path / "ball.mp4")
    assert (record["prompt"], record["seed"], record["model"]) == ("a red ball rolls", 7, str(models["zeroscope", False]))
    assert summary["generation"]["prompt"] == "a red ball rolls" and summary["seed"] == 7
    mono = generate("a red ball rolls", tmp_path / "mono.mp4", config=config, mono_only=True)
    assert probe(tmp_path / "mono.mp4").frames == 5 and mono["outputs"] == [str(tmp_path / "mono.mp4")]
    left_eye = sbs[..., :48, :]
    assert np.abs(left_eye - read_frames(tmp_path / "mono.mp4")[0]).mean() < 0.03  # the source is the left eye
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_generate_with_upscale_into_a_folder(models, tmp_path):
    from s2vg.generate import generate
    from s2vg.io import read_frames

    config = GenerateConfig(model=str(models["wan", False]), steps=2, height=32, width=48, frames=5)
    summary = generate("a cat dancing", tmp_path / "out", config=config, upscale=2,
                       convert_options=dict(config=ConvertConfig(depth="heuristic", inpainter="classical")))
    (path,) = summary["outputs"]
    assert path.endswith("a-cat-dancing_x2_LRF_Full_SBS.mp4")
    frames, info = read_frames(path)
    assert frames.shape == (5, 64, 192, 3) and info.fps == 16


def test_bad_convert_option_is_refused(models, tmp_path):
    from s2vg.generate import generate

    with pytest.raises(OptionError, match="unknown convert option"):
        generate("a cat", tmp_path / "o.mp4", convert_options=dict(colour="red"))


def test_flow_matching_generator_is_shared_with_the_inpainter(models, tmp_path):
    from s2vg.convert import RigRequest
    from s2vg.generate import generate
    from s2vg.inpaint.diffusion.backends.wan import WanDenoiser
    from s2vg.generate import VideoGenerator

    generator = VideoGenerator.load(GenerateConfig(model=str(models["wan", False])))
    denoiser = generator.denoiser()
    assert isinstance(denoiser, WanDenoiser) and denoiser.transformer is generator.pipe.transformer
    config = GenerateConfig(model=str(models["wan", False]), steps=1, height=32, width=32, frames=5)
    summary = generate("a cat", tmp_path / "cat.mp4", config=config,
                       convert_options=dict(config=ConvertConfig(depth="heuristic", inpainter="svg"),
                                            rig=RigRequest(views=2), inpainter_options=dict(steps=1, resample=1)))
    assert summary["shared_model"] and summary["output_frames"] == 5 and summary["output_size"] == [64, 32]
