"""Depth estimator registry, ``auto`` resolution, and the Depth Anything loader (tiny random model)."""

from __future__ import annotations

import json
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
    transformers = pytest.importorskip("transformers")
    backbone = transformers.Dinov2Config(
        hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64, image_size=56, patch_size=14,
        out_features=["stage1", "stage2", "stage3", "stage4"], reshape_hidden_states=False,
    )
    config = transformers.DepthAnythingConfig(
        backbone_config=backbone, reassemble_hidden_size=32, neck_hidden_sizes=[8, 16, 32, 32], fusion_hidden_size=16, head_hidden_size=8,
    )
    return _save_depth_anything(folder, config, side=56)


def _save_depth_anything(folder: Path, config, *, side: int) -> Path:
    """A DepthAnything of ``config`` with seeded random weights and the processor of the converted
    checkpoints (keep aspect, multiples of 14, bicubic, ImageNet mean/std), target ``side`` px."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    transformers.DepthAnythingForDepthEstimation(config).save_pretrained(folder)
    transformers.DPTImageProcessorPil(
        do_resize=True, size={"height": side, "width": side}, keep_aspect_ratio=True, ensure_multiple_of=14, resample=3,
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


# Published Depth Anything V2 architectures, from transformers'
# src/transformers/models/depth_anything/convert_depth_anything_to_hf.py (get_dpt_config): DINOv2 ViT-S/B/L
# with patch 14 and image size 518 (facebook/dinov2-{small,base,large} config.json), the out_indices of each size,
# reassemble factors (4, 2, 1, 0.5) and head size 32 (DepthAnythingConfig defaults), neck and fusion widths.
REAL_DA_V2 = {
    "small": dict(hidden=384, layers=12, heads=6, out_indices=[3, 6, 9, 12], neck=[48, 96, 192, 384], fusion=64),
    "base": dict(hidden=768, layers=12, heads=12, out_indices=[3, 6, 9, 12], neck=[96, 192, 384, 768], fusion=128),
    "large": dict(hidden=1024, layers=24, heads=16, out_indices=[5, 12, 18, 24], neck=[256, 512, 1024, 1024], fusion=256),
}


def _tiny_real_layout(size: str, folder: Path) -> Path:
    """The real layout of ``size`` (depth, out_indices, patch 14, neck ratios, head) with widths shrunk to hidden 32."""
    transformers = pytest.importorskip("transformers")
    real = REAL_DA_V2[size]
    scale = real["hidden"] // 32
    shrink = lambda c: max(4, c // scale // 4 * 4)  # noqa: E731
    backbone = transformers.Dinov2Config(
        hidden_size=32, num_hidden_layers=real["layers"], num_attention_heads=2, mlp_ratio=4, image_size=518, patch_size=14,
        out_indices=real["out_indices"], apply_layernorm=True, reshape_hidden_states=False,
    )
    config = transformers.DepthAnythingConfig(
        backbone_config=backbone, patch_size=14, reassemble_hidden_size=32, reassemble_factors=[4, 2, 1, 0.5],
        neck_hidden_sizes=[shrink(c) for c in real["neck"]], fusion_hidden_size=shrink(real["fusion"]), head_hidden_size=32,
    )
    # The processor of the converted checkpoints (same script), with a smaller target size to keep the test fast.
    return _save_depth_anything(folder, config, side=70)


@pytest.mark.parametrize("size", ["small", "base", "large"])
def test_real_layouts_batch_and_resize(size: str, tmp_path: Path):
    folder = _tiny_real_layout(size, tmp_path / size)
    estimator = get_depth_estimator(f"depth-anything-v2-{size}", model_path=str(folder), device="cpu", batch_size=3)
    layers = estimator._model.config.backbone_config.out_indices
    assert layers == REAL_DA_V2[size]["out_indices"]
    frames = _frames(t=3, h=45, w=80)
    pixels = estimator.preprocess(frames)
    assert pixels.shape[2] % 14 == 0 and pixels.shape[3] % 14 == 0  # multiples of the patch size
    inv_depth = estimator(frames)
    assert inv_depth.shape == (3, 45, 80) and np.isfinite(inv_depth).all() and (inv_depth >= 0).all()
    single = get_depth_estimator(f"depth-anything-v2-{size}", model_path=str(folder), device="cpu", batch_size=1)(frames)
    np.testing.assert_allclose(single, inv_depth, rtol=1e-4, atol=1e-5 * float(inv_depth.max() + 1e-12))


def test_dtype_is_half_only_on_cuda():
    from s2vg.depth.depth_anything import default_dtype

    assert default_dtype("cuda") == "float16"
    assert default_dtype("cpu") == "float32" and default_dtype("mps") == "float32"
    assert default_dtype("cpu", "bfloat16") == "bfloat16"
    with pytest.raises(OptionError, match="float16, bfloat16 or float32"):
        default_dtype("cuda", "int8")


class _OracleDepth:
    """Stands in for the network: predicted depth = the red channel of the (normalised) input, at the input size."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def __call__(self, pixel_values):
        from types import SimpleNamespace

        return SimpleNamespace(predicted_depth=pixel_values[:, 0].float() + self.offset)


def _bright_top_frames() -> np.ndarray:
    frames = np.zeros((2, 42, 56, 3), np.float32)
    frames[:, :21] = 0.9  # the top half is bright: the oracle calls it larger
    frames[:, 21:] = 0.1
    return frames


def test_orientation_larger_output_stays_nearer(tiny_model: Path):
    estimator = get_depth_estimator("depth-anything-v2-small", model_path=str(tiny_model), device="cpu")
    estimator._model = _OracleDepth(offset=3.0)  # > 0 everywhere, as the ReLU head gives
    inv_depth = estimator(_bright_top_frames())
    # Relative inverse depth goes through unchanged in sign: the larger head output is the nearer part.
    assert inv_depth[:, 5:15].mean() > inv_depth[:, 28:].mean() + 1.0
    # ... and geometry's one converter puts it nearer in metres.
    import torch

    from s2vg.geometry.depth import relative_to_depth

    depth_m = relative_to_depth(torch.from_numpy(inv_depth)).numpy()
    assert depth_m[:, 5:15].mean() < depth_m[:, 28:].mean()


def test_metric_checkpoint_is_inverted_to_inverse_depth(tiny_model: Path):
    estimator = get_depth_estimator("depth-anything-v2-small", model_path=str(tiny_model), device="cpu")
    estimator.metric = True  # what a Depth-Anything-V2-Metric-* config.json sets (depth_estimation_type "metric")
    estimator._model = _OracleDepth(offset=3.0)  # "metres": the bright top is farther
    inv_depth = estimator(_bright_top_frames())
    assert inv_depth[:, 5:15].mean() < inv_depth[:, 28:].mean()
    np.testing.assert_allclose(inv_depth[:, 28:].mean(), 1.0 / (3.0 + (0.1 - 0.485) / 0.229), rtol=0.05)


def test_local_folder_never_touches_the_network(tiny_model: Path, monkeypatch: pytest.MonkeyPatch):
    from s2vg.depth import depth_anything

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(depth_anything, "hub_reachable", lambda timeout_s=2.0: pytest.fail("network checked for a local folder"))
    monkeypatch.setattr(socket_module(), "create_connection", lambda *a, **k: pytest.fail("a connection was opened"))
    estimator = get_depth_estimator("depth-anything-v2-small", model_path=str(tiny_model), device="cpu")
    assert estimator(_frames(t=1)).shape == (1, 37, 61)


def socket_module():
    import socket

    return socket


def _cli(*args: str, env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"), **env_extra}
    return subprocess.run([sys.executable, "-m", "s2vg.cli", *args], capture_output=True, text=True, env=env, timeout=120)


def test_cli_missing_weights_is_one_line_naming_model_and_fix(tmp_path: Path):
    frames_dir = tmp_path / "frames"
    frames_dir.mkdir()
    import cv2

    for k in range(2):
        cv2.imwrite(str(frames_dir / f"{k:03d}.png"), np.full((32, 48, 3), 40 * k + 50, np.uint8))
    start = time.perf_counter()
    done = _cli("convert", str(frames_dir), "-o", str(tmp_path / "out.mp4"), "--depth", "depth-anything-v2-base",
                env_extra={"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "cache"), "HF_HOME": str(tmp_path / "home")})
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "Depth-Anything-V2-Base-hf" in lines[0] and "--depth-model" in lines[0] and "not cached" in lines[0]
    assert "hf download depth-anything/Depth-Anything-V2-Base-hf" in lines[0]
    assert time.perf_counter() - start < 60


# --- DPT and ZoeDepth: the same estimator, other families -----------------------------------------------------
# Published layouts, from transformers' convert_dpt_hybrid_to_pytorch.py / convert_zoedepth_to_hf.py and the
# DPTConfig / ZoeDepthConfig defaults: dpt-large = ViT-L/16 (24 layers, out 5/11/17/23, neck 256/512/1024/1024,
# fusion 256, readout "project", reassemble 4/2/1/0.5); dpt-hybrid = BiT-R50 stages (3, 4, 9) + ViT-B/16 (12 layers,
# out 2/5/8/11, neck 256/512/768/768, reassemble 1/1/1/0.5, BiT feature map 1024 channels); zoedepth-nyu-kitti =
# BEiT-L/16 with relative position bias (24 layers, stages 6/12/18/24), neck 256/512/1024/1024, fusion and bottleneck
# 256, two softplus bin sets (NYU 64 bins to 10 m, KITTI 64 bins to 80 m) and a 4-layer 128-wide patch transformer.
# Widths are divided by 32 (the patch transformer is fixed at 128 by the model code); depths and patch sizes kept.
def _tiny_dpt_large(folder: Path) -> Path:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    config = transformers.DPTConfig(
        hidden_size=32, num_hidden_layers=24, num_attention_heads=2, intermediate_size=128, image_size=384, patch_size=16,
        backbone_out_indices=[5, 11, 17, 23], readout_type="project", reassemble_factors=[4, 2, 1, 0.5],
        neck_hidden_sizes=[8, 16, 32, 32], fusion_hidden_size=8,
    )
    torch.manual_seed(0)
    transformers.DPTForDepthEstimation(config).save_pretrained(folder)
    # The Intel checkpoints carry the old feature-extractor format (a bare int size, mean/std 0.5, no aspect keeping).
    (folder / "preprocessor_config.json").write_text(json.dumps({
        "feature_extractor_type": "DPTFeatureExtractor", "image_processor_type": "DPTImageProcessor", "do_resize": True, "size": 64,
        "resample": 3, "do_normalize": True, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
    }))
    return folder


def _tiny_dpt_hybrid(folder: Path) -> Path:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    bit = transformers.BitConfig(
        global_padding="same", layer_type="bottleneck", depths=[3, 4, 9], hidden_sizes=[8, 16, 32], embedding_size=4, num_groups=2,
        out_features=["stage1", "stage2", "stage3"], embedding_dynamic_padding=True,
    )
    # The hybrid embedding checks the input size against image_size, so it shrinks with the processor size (384 -> 64).
    config = transformers.DPTConfig(
        is_hybrid=True, backbone_config=bit, hidden_size=24, num_hidden_layers=12, num_attention_heads=2, intermediate_size=96,
        image_size=64, patch_size=16, backbone_out_indices=[2, 5, 8, 11], readout_type="project", reassemble_factors=[1, 1, 1, 0.5],
        neck_hidden_sizes=[8, 16, 24, 24], fusion_hidden_size=8, backbone_featmap_shape=[1, 32, 4, 4], neck_ignore_stages=[0, 1],
    )
    torch.manual_seed(0)
    transformers.DPTForDepthEstimation(config).save_pretrained(folder)
    transformers.DPTImageProcessorPil(
        do_resize=True, size={"height": 64, "width": 64}, keep_aspect_ratio=False, ensure_multiple_of=1, resample=3,
        do_normalize=True, image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5],
    ).save_pretrained(folder)
    return folder


def _tiny_zoedepth(folder: Path) -> Path:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    beit = transformers.BeitConfig(
        image_size=384, num_hidden_layers=24, hidden_size=32, intermediate_size=128, num_attention_heads=2, use_relative_position_bias=True,
        reshape_hidden_states=False, out_features=["stage6", "stage12", "stage18", "stage24"],
    )
    config = transformers.ZoeDepthConfig(
        backbone_config=beit, neck_hidden_sizes=[8, 16, 32, 32], fusion_hidden_size=8, bottleneck_features=8, bin_centers_type="softplus",
        bin_configurations=[{"name": "nyu", "n_bins": 64, "min_depth": 1e-3, "max_depth": 10.0}, {"name": "kitti", "n_bins": 64, "min_depth": 1e-3, "max_depth": 80.0}],
        num_patch_transformer_layers=4, patch_transformer_hidden_size=128, patch_transformer_intermediate_size=1024, patch_transformer_num_attention_heads=4,
    )
    torch.manual_seed(0)
    transformers.ZoeDepthForDepthEstimation(config).save_pretrained(folder)
    # ZoeDepth's processor: reflection padding, keep aspect, multiples of 32, bilinear, mean/std 0.5 (size 384x512 shrunk).
    transformers.ZoeDepthImageProcessorPil(
        do_pad=True, do_resize=True, size={"height": 64, "width": 96}, keep_aspect_ratio=True, ensure_multiple_of=32, resample=2,
        do_normalize=True, image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5],
    ).save_pretrained(folder)
    return folder


FAMILIES = {
    "dpt-large": (_tiny_dpt_large, "dpt", 16, False),
    "dpt-hybrid": (_tiny_dpt_hybrid, "dpt", 16, False),
    "zoedepth-nyu-kitti": (_tiny_zoedepth, "zoedepth", 32, True),
}


@pytest.fixture(scope="module")
def family_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {name: build(tmp_path_factory.mktemp(name)) for name, (build, *_rest) in FAMILIES.items()}


@pytest.mark.parametrize("name", list(FAMILIES))
def test_other_families_load_by_folder_batch_and_resize(name: str, family_folders: dict[str, Path]):
    _, model_type, multiple, metric = FAMILIES[name]
    estimator = get_depth_estimator(name, model_path=str(family_folders[name]), device="cpu", batch_size=3)
    assert estimator.model_type == model_type and estimator.metric is metric and estimator.name.startswith(model_type)
    frames = _frames(t=3, h=45, w=80)
    pixels = estimator.preprocess(frames)
    assert pixels.shape[2] % multiple == 0 and pixels.shape[3] % multiple == 0
    inv_depth = estimator(frames)
    assert inv_depth.shape == (3, 45, 80) and inv_depth.dtype == np.float32
    assert np.isfinite(inv_depth).all() and (inv_depth >= 0).all() and inv_depth.std() > 0
    single = get_depth_estimator(name, model_path=str(family_folders[name]), device="cpu", batch_size=1)(frames)
    np.testing.assert_allclose(single, inv_depth, rtol=1e-4, atol=1e-5 * float(inv_depth.max() + 1e-12))


@pytest.mark.parametrize("name", list(FAMILIES))
def test_other_families_preprocessing_matches_their_image_processor(name: str, family_folders: dict[str, Path]):
    transformers = pytest.importorskip("transformers")
    estimator = get_depth_estimator(name, model_path=str(family_folders[name]), device="cpu")
    frames = np.round(_frames(t=2, h=90, w=160) * 255) / 255
    processor = transformers.AutoImageProcessor.from_pretrained(family_folders[name], backend="pil")
    reference = processor(images=list(np.round(frames * 255).astype(np.uint8)), return_tensors="pt")["pixel_values"].numpy()
    ours = estimator.preprocess(frames).float().cpu().numpy()
    assert ours.shape == reference.shape
    # PIL and torch resampling differ slightly; normalisation by std 0.5 doubles the [0, 1] range.
    assert np.abs(ours - reference).mean() < 0.02 and np.abs(ours - reference).max() < 0.2


def _left_bright_frames(h: int = 40, w: int = 64) -> np.ndarray:
    frames = np.full((2, h, w, 3), 0.1, np.float32)
    frames[:, :, : w // 2] = 0.9
    return frames


def test_dpt_output_is_inverse_depth_passed_through(family_folders: dict[str, Path]):
    estimator = get_depth_estimator("dpt-large", model_path=str(family_folders["dpt-large"]), device="cpu")
    estimator._model = _OracleDepth(offset=3.0)  # MiDaS-style relative inverse depth: the bright half is nearer
    inv_depth = estimator(_left_bright_frames())
    assert inv_depth[:, :, :24].mean() > inv_depth[:, :, 40:].mean() + 1.0


def test_zoedepth_metres_are_inverted_and_its_padding_cropped_in_place(family_folders: dict[str, Path]):
    estimator = get_depth_estimator("zoedepth-nyu-kitti", model_path=str(family_folders["zoedepth-nyu-kitti"]), device="cpu")
    estimator._model = _OracleDepth(offset=3.0)  # "metres": the bright left half is farther
    frames = _left_bright_frames()
    inv_depth = estimator(frames)
    assert inv_depth[:, :, :24].mean() < inv_depth[:, :, 40:].mean()
    # Away from the edge, 1 / (normalised red + offset) comes back: (0.1 - 0.5) / 0.5 + 3 = 2.2 m on the right.
    np.testing.assert_allclose(inv_depth[:, 5:-5, 44:-6].mean(), 1 / 2.2, rtol=0.03)
    np.testing.assert_allclose(inv_depth[:, 5:-5, 6:20].mean(), 1 / 3.8, rtol=0.03)
    # The reflection padding is cut off where it was added: the step stays at the frame's middle column.
    profile = inv_depth[0, 20]
    step = int(np.argmax(np.diff(profile))) + 1
    assert abs(step - 32) <= 2, step


def test_missing_weights_in_a_local_folder_is_one_line_without_network(family_folders: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import huggingface_hub

    folder = tmp_path / "zoe_without_weights"
    folder.mkdir()
    for file in family_folders["zoedepth-nyu-kitti"].iterdir():
        if not file.name.endswith((".safetensors", ".bin")):
            (folder / file.name).write_bytes(file.read_bytes())
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda *a, **k: pytest.fail("a hub download was tried for a local folder"))
    monkeypatch.setattr(socket_module(), "create_connection", lambda *a, **k: pytest.fail("a connection was opened"))
    with pytest.raises(MissingWeightsError) as error:
        get_depth_estimator("zoedepth-nyu-kitti", model_path=str(folder), device="cpu")
    message = str(error.value)
    assert "\n" not in message and str(folder) in message and "--depth heuristic" in message


def test_other_families_missing_weights_name_the_hub_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for name, model_id in (("dpt-large", "Intel/dpt-large"), ("dpt-hybrid", "Intel/dpt-hybrid-midas"), ("zoedepth-nyu-kitti", "Intel/zoedepth-nyu-kitti")):
        with pytest.raises(MissingWeightsError, match=f"{model_id}.*not cached.*hf download {model_id}"):
            get_depth_estimator(name, cache_dir=str(tmp_path))


def test_every_learned_name_has_a_hub_id_and_a_licence_in_the_help():
    from s2vg.depth.depth_anything import LICENCES, MODEL_IDS
    from s2vg.depth.registry import LEARNED_ESTIMATORS

    assert set(LEARNED_ESTIMATORS) == set(MODEL_IDS) == set(LICENCES)
    assert set(LEARNED_ESTIMATORS) <= set(available_depth_estimators())
    help_text = _convert_help()
    for licence in set(LICENCES.values()):
        assert licence in help_text
    for family in ("depth-anything-v2-small", "dpt-large", "dpt-hybrid", "zoedepth-nyu-kitti"):
        assert family in help_text


def _convert_help() -> str:
    done = _cli("convert", "--help", env_extra={"COLUMNS": "2000"})  # no wrapping at the hyphens of names
    return " ".join(done.stdout.split())


def test_weights_cached_accepts_either_weight_format(family_folders: dict[str, Path], tmp_path: Path):
    from s2vg.depth.depth_anything import weights_cached

    folder = tmp_path / "bin_only"
    folder.mkdir()
    for file in family_folders["dpt-large"].iterdir():
        (folder / ("pytorch_model.bin" if file.suffix == ".safetensors" else file.name)).write_bytes(file.read_bytes())
    _fake_hub_cache(tmp_path / "cache", folder, "Intel/dpt-large")
    assert weights_cached("dpt-large", tmp_path / "cache")
    assert not weights_cached("dpt-hybrid", tmp_path / "cache")
