"""Learned metrics: the Fréchet distance's mathematics, and CLIP / video-encoder plumbing with tiny
randomly initialised models built from configs (no weights are downloaded)."""

from __future__ import annotations

import importlib.util
import json
import math

import numpy as np
import pytest
import torch

from s2vg.errors import InputError, MissingWeightsError
from s2vg.metrics.learned import ClipSimilarity, TransformersVideoFeatures, frechet_distance, frechet_video_distance, gaussian_fit

needs_transformers = pytest.mark.skipif(
    importlib.util.find_spec("transformers") is None, reason="transformers is not installed"
)


def test_frechet_distance_of_identical_sets_is_zero():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(50, 6))
    mu, sigma = gaussian_fit(feats)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-9)
    videos = rng.random((8, 2, 4, 4, 3))
    channel_means = lambda v: v.mean(axis=(1, 2, 3))  # noqa: E731 - a (N, 3) feature extractor
    assert frechet_video_distance(videos, videos.copy(), channel_means) == pytest.approx(0.0, abs=1e-9)
    assert frechet_video_distance(videos, videos + 0.5, channel_means) == pytest.approx(3 * 0.25, rel=1e-9)


def test_frechet_distance_closed_forms():
    # Diagonal covariances commute: d = |m1 - m2|^2 + sum (sqrt(a) - sqrt(b))^2.
    m1, m2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.0])
    a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = 1 + 4 + (1 - 3) ** 2 + (2 - 1) ** 2 + 0
    assert frechet_distance(m1, np.diag(a), m2, np.diag(b)) == pytest.approx(expected, rel=1e-12)
    # Isotropic in D dims: D (s1 - s2)^2 for standard deviations s1, s2.
    assert frechet_distance(np.zeros(4), 4 * np.eye(4), np.zeros(4), np.eye(4)) == pytest.approx(4.0)


def test_frechet_distance_matches_scipy_sqrtm_for_non_commuting_covariances():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    s1, s2 = x @ x.T + 0.1 * np.eye(5), y @ y.T + 0.1 * np.eye(5)
    m1, m2 = rng.normal(size=5), rng.normal(size=5)
    covmean = scipy_linalg.sqrtm(s1 @ s2).real
    reference = float(np.sum((m1 - m2) ** 2) + np.trace(s1 + s2 - 2 * covmean))
    assert frechet_distance(m1, s1, m2, s2) == pytest.approx(reference, rel=1e-8)


def test_gaussian_fit_and_bad_input():
    feats = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]])
    mu, sigma = gaussian_fit(feats)
    assert np.allclose(mu, [1, 1]) and np.allclose(sigma, np.eye(2) * 4 / 3)
    with pytest.raises(InputError):
        gaussian_fit(np.zeros((1, 3)))
    with pytest.raises(InputError):
        frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))


def _tiny_clip(tmp_path):
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in "abcdefghijklmnopqrstuvwxyz":
        vocab[c] = len(vocab)
        vocab[c + "</w>"] = len(vocab)
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    (tmp_path / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(vocab_file=str(tmp_path / "vocab.json"), merges_file=str(tmp_path / "merges.txt"))
    image_processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    processor = CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer)
    config = CLIPConfig(
        text_config=dict(vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                         max_position_embeddings=16, bos_token_id=0, eos_token_id=1, pad_token_id=1),
        vision_config=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, image_size=32, patch_size=8),
        projection_dim=8,
    )
    torch.manual_seed(0)
    return CLIPModel(config), processor


@needs_transformers
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_clip_similarity_with_a_tiny_random_model_from_a_folder(tmp_path):
    model, processor = _tiny_clip(tmp_path)
    folder = tmp_path / "tiny-clip"
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    clip = ClipSimilarity(str(folder), device="cpu")
    rng = np.random.default_rng(2)
    images = rng.random((3, 40, 52, 3)).astype(np.float32)
    feats = clip.image_features(images)
    assert feats.shape == (3, 8) and torch.allclose(feats.norm(dim=-1), torch.ones(3), atol=1e-5)
    assert clip.image_image(images, images) == pytest.approx(1.0, abs=1e-5)
    other = clip.image_image(images, images[::-1].copy())
    assert -1.0 <= other < 1.0
    direct = ClipSimilarity(clip_model=model, processor=processor, device="cpu")  # same weights, no folder
    assert torch.allclose(direct.image_features(images), feats, atol=1e-5)
    text = clip.image_text(images, "a horse")
    expected = float((feats @ clip.text_features(["a horse"])[0]).mean())
    assert text == pytest.approx(expected, abs=1e-6) and -1 <= text <= 1
    with pytest.raises(InputError):
        clip.image_image(images, images[:2])


@needs_transformers
def test_missing_clip_weights_raise(tmp_path, monkeypatch):
    import s2vg.depth.depth_anything as da

    monkeypatch.setattr(da, "hub_reachable", lambda timeout_s=2.0: False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(MissingWeightsError, match="not-a-real/clip-model"):
        ClipSimilarity("not-a-real/clip-model")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingWeightsError, match="cannot be loaded"):
        ClipSimilarity(str(tmp_path / "empty"))


@needs_transformers
def test_frechet_video_distance_with_a_tiny_video_encoder(tmp_path):
    from transformers import VideoMAEConfig, VideoMAEModel

    config = VideoMAEConfig(image_size=32, patch_size=8, num_frames=4, tubelet_size=2, hidden_size=16, num_hidden_layers=1,
                            num_attention_heads=2, intermediate_size=32)
    torch.manual_seed(0)
    VideoMAEModel(config).save_pretrained(tmp_path / "tiny-videomae")
    extractor = TransformersVideoFeatures(str(tmp_path / "tiny-videomae"), device="cpu")
    rng = np.random.default_rng(3)
    real = rng.random((6, 5, 24, 40, 3)).astype(np.float32)  # 5 frames are resampled to the model's 4
    feats = extractor(real)
    assert feats.shape == (6, 16) and np.isfinite(feats).all()
    assert frechet_video_distance(real, real, extractor) == pytest.approx(0.0, abs=1e-6)
    shifted = np.clip(real * 0.5 + 0.5, 0, 1)
    assert frechet_video_distance(real, shifted, extractor) > 1e-3
    assert not math.isnan(frechet_video_distance(real, shifted, extractor))
