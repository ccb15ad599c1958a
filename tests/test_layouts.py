"""Stereo layouts (s2vg.io.layouts): sizes, pixel placement, anaglyph closed forms, names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from s2vg.errors import InputError, OptionError
from s2vg.io.layouts import (
    LAYOUTS,
    anaglyph,
    compose,
    compose_streams,
    frame_packing_for,
    linear_to_srgb,
    output_paths,
    output_size,
    srgb_to_linear,
)

T, H, W = 2, 6, 8


@pytest.fixture()
def eyes() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    left = rng.random((T, H, W, 3), dtype=np.float32)
    right = rng.random((T, H, W, 3), dtype=np.float32)
    return left, right


def test_every_layout_has_the_announced_size(eyes: tuple[np.ndarray, np.ndarray]) -> None:
    left, right = eyes
    for layout in LAYOUTS:
        streams = compose_streams(left, right, layout)
        assert len(streams) == (2 if layout == "lr" else 1)
        w, h = output_size(W, H, layout)
        for frames in streams:
            assert frames.shape == (T, h, w, 3) and frames.dtype == np.float32


def test_full_layouts_place_eyes_exactly(eyes: tuple[np.ndarray, np.ndarray]) -> None:
    left, right = eyes
    sbs = compose(left, right, "sbs")
    np.testing.assert_array_equal(sbs[:, :, :W], left)
    np.testing.assert_array_equal(sbs[:, :, W:], right)
    cross = compose(left, right, "cross")  # cross-eyed: right eye on the left
    np.testing.assert_array_equal(cross[:, :, :W], right)
    np.testing.assert_array_equal(cross[:, :, W:], left)
    tb = compose(left, right, "tb")
    np.testing.assert_array_equal(tb[:, :H], left)
    np.testing.assert_array_equal(tb[:, H:], right)
    l_out, r_out = compose_streams(left, right, "lr")
    np.testing.assert_array_equal(l_out, left)
    np.testing.assert_array_equal(r_out, right)


def test_half_layouts_average_pixel_pairs(eyes: tuple[np.ndarray, np.ndarray]) -> None:
    left, right = eyes
    half = compose(left, right, "half-sbs")
    # INTER_AREA at exactly half width is the mean of each horizontal pixel pair.
    np.testing.assert_allclose(half[:, :, : W // 2], (left[:, :, 0::2] + left[:, :, 1::2]) / 2, atol=1e-6)
    np.testing.assert_allclose(half[:, :, W // 2 :], (right[:, :, 0::2] + right[:, :, 1::2]) / 2, atol=1e-6)
    half_tb = compose(left, right, "half-tb")
    np.testing.assert_allclose(half_tb[:, : H // 2], (left[:, 0::2] + left[:, 1::2]) / 2, atol=1e-6)
    np.testing.assert_allclose(half_tb[:, H // 2 :], (right[:, 0::2] + right[:, 1::2]) / 2, atol=1e-6)


def test_torch_input_gives_the_same_result(eyes: tuple[np.ndarray, np.ndarray]) -> None:
    left, right = eyes
    for layout in LAYOUTS:
        ours = compose_streams(torch.from_numpy(left), torch.from_numpy(right), layout)
        for got, expected in zip(ours, compose_streams(left, right, layout), strict=True):
            assert isinstance(got, torch.Tensor)
            np.testing.assert_allclose(got.numpy(), expected, atol=1e-5)


def test_anaglyph_closed_forms() -> None:
    grey = np.full((1, 2, 2, 3), 0.5, np.float32)
    # Rows of Dubois' left + right matrices sum to 1 (+-0.001): identical grey eyes stay grey.
    np.testing.assert_allclose(anaglyph(grey, grey), grey, atol=2e-3)
    # Pure red left, black right: output red = sRGB(0.437 * 1), green and blue clip to 0.
    red = np.zeros((1, 1, 1, 3), np.float32)
    red[..., 0] = 1.0
    out = anaglyph(red, np.zeros_like(red))[0, 0, 0]
    np.testing.assert_allclose(out, [linear_to_srgb(np.float32(0.437)), 0.0, 0.0], atol=1e-5)
    # Blue right eye drives the blue channel (1.234 clips to 1) and nothing reaches red.
    blue = np.zeros((1, 1, 1, 3), np.float32)
    blue[..., 2] = 1.0
    out = anaglyph(np.zeros_like(blue), blue)[0, 0, 0]
    np.testing.assert_allclose(out, [0.0, linear_to_srgb(np.float32(0.009)), 1.0], atol=1e-5)


def test_srgb_round_trip() -> None:
    x = np.linspace(0, 1, 101, dtype=np.float32)
    np.testing.assert_allclose(linear_to_srgb(srgb_to_linear(x)), x, atol=1e-6)
    assert float(srgb_to_linear(np.float32(0.5))) == pytest.approx(0.21404, abs=1e-4)


def test_frame_packing_for_layouts() -> None:
    assert {layout: frame_packing_for(layout) for layout in LAYOUTS} == {
        "sbs": None, "half-sbs": "sbs", "tb": None, "half-tb": "tb", "anaglyph": None, "cross": None, "lr": None
    }


def test_output_paths_for_folders_and_files(tmp_path: Path) -> None:
    src = tmp_path / "in" / "clip.mov"
    out = tmp_path / "out"
    out.mkdir()
    assert output_paths(src, out, "sbs") == [out / "clip_LRF_Full_SBS.mp4"]
    assert output_paths(src, out, "half-sbs") == [out / "clip_LRF_Half_SBS.mp4"]
    assert output_paths(src, out, "tb") == [out / "clip_LRF_Full_TB.mp4"]
    assert output_paths(src, out, "anaglyph") == [out / "clip_anaglyph.mp4"]
    assert output_paths(src, out, "lr") == [out / "clip_L.mp4", out / "clip_R.mp4"]
    assert output_paths(src, tmp_path / "new_folder", "sbs") == [tmp_path / "new_folder" / "clip_LRF_Full_SBS.mp4"]
    assert output_paths(src, None, "half-tb") == [src.parent / "clip_LRF_Half_TB.mp4"]
    assert output_paths(tmp_path / "photo.jpg", out, "sbs") == [out / "photo_LRF_Full_SBS.png"]
    # An explicit file name is kept as given (lr splits it into two).
    assert output_paths(src, out / "mine.mkv", "half-sbs") == [out / "mine.mkv"]
    assert output_paths(src, out / "mine.mp4", "lr") == [out / "mine_L.mp4", out / "mine_R.mp4"]


def test_bad_layout_and_mismatched_eyes(eyes: tuple[np.ndarray, np.ndarray]) -> None:
    left, right = eyes
    with pytest.raises(OptionError, match="layout"):
        compose(left, right, "diagonal")
    with pytest.raises(OptionError):
        output_paths("a.mp4", None, "3d")
    with pytest.raises(OptionError):
        compose(left, right, "lr")
    with pytest.raises(InputError):
        compose(left, right[:, :, :-1], "sbs")


def test_output_config_matches_the_layouts() -> None:
    from s2vg.config import OutputConfig

    assert OutputConfig().layout == "sbs"
    for layout in LAYOUTS:
        assert OutputConfig(layout=layout).layout == layout
    for bad in ({"layout": "3d"}, {"codec": "vp9"}, {"crf": -1}, {"preset": "warp"}):
        with pytest.raises(OptionError):
            OutputConfig(**bad)
