"""Depth estimator registry, ``auto`` resolution, and the Depth Anything loader (tiny random model)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from s2vg.config import DepthStageConfig
from s2vg.depth import available_depth_estimators, get_depth_estimator, resolve_depth_estimator
from s2vg.errors import MissingWeightsError, OptionError

SMALL_ID = "depth-anything/Depth-Anything-V2-Small-hf"


def _save_tiny_depth_anything(folder: Path) -> Path:
    """A randomly initialised DepthAnything (tiny DINOv2 backbone) plus a DPT processor config, saved to ``folder``."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    backbone = transformers.Dinov2Config(
        hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64, image_size=56, patch_size=14,
        out_features=["stage1", "stage2", "stage3", "stage4"], reshape_hidden_states=False,
    )
    config = transformers.DepthAnythingConfig(
        backbone_config=backbone, reassemble_hidden_size=32, neck_hidden_sizes=[8, 16, 32, 32], fusion_hidden_size=16, head_hidden_size=8,
    )
    torch.manual_seed(0)
    transformers.DepthAnythingForDepthEstimation(config).save_pretrained(folder)
    transformers.DPTImageProcessorPil(
        do_resize=True, size={"height": 56, "width": 56}, keep_aspect_ratio=True, ensure_multiple_of=14, resample=3,
        do_rescale=True, do_normalize=True, image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225], do_pad=False,
    ).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _save_tiny_depth_anything(tmp_path_factory.mktemp("tiny_depth_anything"))


def _frames(t: int = 3, h: int = 37, w: int = 61, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:h, 0:w] / max(h, w)
    smooth = np.stack([0.5 + 0.4 * np.sin(6 * xs + c + k) * np.cos(4 * ys) for c in range(3) for k in [0]], -1)
    return np.clip(smooth[None] + 0.02 * rng.standard_normal((t, h, w, 3)), 0, 1).astype(np.float32)


def test_registry_names_and_unknown_name():
    names = available_depth_estimators()
    assert {"heuristic", "depth-anything-v2-small", "depth-anything-v2-base", "depth-anything-v2-large"} <= set(names)
    with pytest.raises(OptionError, match="unknown depth estimator 'midas'.*heuristic"):
        get_depth_estimator("midas")


def test_import_is_cheap():
    code = "import sys, s2vg.depth; print(sorted(m for m in ('transformers', 'cv2', 'torch', 'scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_tiny_model_from_folder_gives_inv_depth_of_frame_size(tiny_model: Path):
    estimator = get_depth_estimator("depth-anything-v2-small", model_path=str(tiny_model), batch_size=2)
    assert not estimator.temporally_consistent
    frames = _frames()
    inv_depth = estimator(frames)
    assert inv_depth.shape == frames.shape[:3] and inv_depth.dtype == np.float32
    assert np.isfinite(inv_depth).all() and (inv_depth >= 0).all()
    # Batching must not change the result.
    one_by_one = get_depth_estimator("depth-anything-v2-small", model_path=str(tiny_model), batch_size=1)(frames)
    np.testing.assert_allclose(one_by_one, inv_depth, rtol=1e-4, atol=1e-6 * float(np.abs(inv_depth).max() + 1e-12))


def test_torch_preprocessing_matches_the_image_processor(tiny_model: Path):
    transformers = pytest.importorskip("transformers")
    estimator = get_depth_estimator("depth-anything-v2-small", model_path=str(tiny_model))
    frames = np.round(_frames(t=2, h=90, w=160) * 255) / 255
    reference = transformers.DPTImageProcessorPil.from_pretrained(tiny_model)(
        images=list(np.round(frames * 255).astype(np.uint8)), return_tensors="pt"
    )["pixel_values"].numpy()
    ours = estimator.preprocess(frames).float().cpu().numpy()
    assert ours.shape == reference.shape == (2, 3, 56, 98)  # height fits 56, width keeps the aspect, multiples of 14
    # PIL and torch bicubic differ slightly; ImageNet normalisation scales [0, 1] by about 4.4.
    assert np.abs(ours - reference).mean() < 0.02 and np.abs(ours - reference).max() < 0.15


def test_auto_with_model_path_loads_depth_anything(tiny_model: Path):
    estimator = resolve_depth_estimator("auto", model_path=str(tiny_model))
    assert estimator.name.startswith("depth-anything") and estimator(_frames(t=1)).shape == (1, 37, 61)


def _fake_hub_cache(cache: Path, model_folder: Path, model_id: str = SMALL_ID) -> None:
    """Lay ``model_folder``'s files out as the Hugging Face hub cache stores a snapshot of ``model_id``."""
    repo = cache / ("models--" + model_id.replace("/", "--"))
    snapshot = repo / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    for file in model_folder.iterdir():
        (snapshot / file.name).write_bytes(file.read_bytes())


def test_auto_prefers_a_cached_model_and_reads_it_offline(tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from s2vg.depth import depth_anything

    _fake_hub_cache(tmp_path, tiny_model)
    monkeypatch.setattr(depth_anything, "hub_reachable", lambda timeout_s=2.0: pytest.fail("the network was checked although the weights are cached"))
    assert depth_anything.weights_cached("depth-anything-v2-small", tmp_path)
    assert not depth_anything.weights_cached("depth-anything-v2-large", tmp_path)
    estimator = resolve_depth_estimator("auto", cache_dir=str(tmp_path))
    assert estimator.name == "depth-anything-v2-small"
    assert estimator(_frames(t=2)).shape == (2, 37, 61)


def test_auto_falls_back_to_heuristic_with_a_warning_naming_the_better_option(tmp_path: Path):
    with pytest.warns(UserWarning, match="weight-free 'heuristic'.*--depth depth-anything-v2-small"):
        estimator = resolve_depth_estimator("auto", cache_dir=str(tmp_path), device="cpu", batch_size=4)
    assert estimator.name == "heuristic"


def test_missing_weights_offline_is_one_line_and_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(MissingWeightsError) as error:
        get_depth_estimator("depth-anything-v2-small", cache_dir=str(tmp_path))
    assert time.perf_counter() - start < 2.0
    message = str(error.value)
    assert "\n" not in message
    for part in (SMALL_ID, "not cached", "cannot be downloaded", "--depth-model", "--depth heuristic"):
        assert part in message


def test_missing_weights_when_the_hub_is_unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from s2vg.depth import depth_anything

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(depth_anything, "hub_reachable", lambda timeout_s=2.0: False)
    with pytest.raises(MissingWeightsError, match="Depth-Anything-V2-Large-hf.*not cached.*unreachable"):
        get_depth_estimator("depth-anything-v2-large", cache_dir=str(tmp_path))


def test_bad_model_folders_are_refused(tmp_path: Path):
    with pytest.raises(MissingWeightsError, match="does not exist"):
        get_depth_estimator("depth-anything-v2-small", model_path=str(tmp_path / "nowhere"))
    with pytest.raises(MissingWeightsError, match="no config.json"):
        get_depth_estimator("depth-anything-v2-small", model_path=str(tmp_path))
    with pytest.raises(OptionError, match="--depth-model"):
        resolve_depth_estimator("heuristic", model_path=str(tmp_path))


def test_depth_stage_config_rejects_impossible_values():
    assert DepthStageConfig().estimator == "auto"
    with pytest.raises(OptionError, match="percentiles"):
        DepthStageConfig(low_pct=90, high_pct=10)
    with pytest.raises(OptionError, match="window"):
        DepthStageConfig(window=-1)
    with pytest.raises(OptionError, match="range smoothing"):
        DepthStageConfig(range_smoothing=-2.0)
