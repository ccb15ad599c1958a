"""The learned stereo upscaler with a tiny random StableDiffusionUpscalePipeline, offline."""

from __future__ import annotations

import numpy as np
import pytest

from s2vg.config import SuperResolutionConfig
from s2vg.errors import MissingWeightsError
from s2vg.sr.conditions import Condition

pytest.importorskip("diffusers")


@pytest.fixture(scope="module")
def upscaler(tmp_path_factory):
    from s2vg.sr.learned import LearnedUpscaler, save_random_upscaler

    folder = save_random_upscaler(tmp_path_factory.mktemp("upscaler") / "tiny-x4")
    return LearnedUpscaler.load(SuperResolutionConfig(scale=4, method="learned", model=str(folder), steps=2))


def test_learned_stereo_upscale_end_to_end(upscaler):
    from s2vg.sr import upscale_stereo

    rng = np.random.default_rng(0)
    left = rng.random((1, 8, 12, 3), dtype=np.float32)
    right = np.roll(left, -1, axis=2)
    up_left, up_right, stats = upscale_stereo(left, right, config=upscaler.config, upscaler=upscaler)
    assert up_left.shape == up_right.shape == (1, 32, 48, 3)
    assert np.isfinite(up_left).all() and 0 <= up_right.min() and up_right.max() <= 1
    assert stats["frames"] == 1


def test_known_region_is_kept_and_unknown_is_sampled(upscaler):
    rng = np.random.default_rng(1)
    low = rng.random((8, 12, 3), dtype=np.float32)
    known = rng.random((32, 48, 3), dtype=np.float32)
    weight = np.zeros((32, 48), np.float32)
    weight[:, :24] = 1.0  # the left half is known exactly
    out = upscaler(low, [Condition(known, weight)], 4)
    np.testing.assert_array_equal(out[:, :24], known[:, :24])
    assert np.abs(out[:, 24:] - known[:, 24:]).mean() > 0.05  # the rest comes from the model


def test_scale_two_with_a_x4_model(upscaler):
    import dataclasses

    from s2vg.sr.learned import LearnedUpscaler

    half = LearnedUpscaler(upscaler.pipe, dataclasses.replace(upscaler.config, scale=2))
    out = half(np.full((8, 12, 3), 0.5, np.float32), [], 2)
    assert out.shape == (16, 24, 3)


def test_missing_upscaler_weights_are_one_line(tmp_path, monkeypatch):
    from s2vg.sr.learned import LearnedUpscaler

    with pytest.raises(MissingWeightsError, match="does not exist") as error:
        LearnedUpscaler.load(SuperResolutionConfig(method="learned", model=str(tmp_path / "none")))
    assert "\n" not in str(error.value) and "--sr-method classical" in str(error.value)
    import huggingface_hub.constants as constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(MissingWeightsError, match="HF_HUB_OFFLINE"):
        LearnedUpscaler.load(SuperResolutionConfig(method="learned"))
