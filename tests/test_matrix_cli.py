"""`s2vg matrix`: the files it writes, and one-line errors with exit code 2 for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from s2vg.cli import main
from s2vg.io.matrix_files import load_matrix

T, H, W = 3, 24, 40


@pytest.fixture()
def clip(tmp_path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    images = tmp_path / "images"
    images.mkdir()
    for i in range(T):
        cv2.imwrite(str(images / f"{i:05d}.png"), (rng.random((H, W, 3)) * 255).astype(np.uint8))
    inv = np.tile(np.linspace(0.1, 1.0, W, dtype=np.float32), (T, H, 1))
    np.savez(tmp_path / "depth.npz", inv=inv)
    return images, tmp_path / "depth.npz"


def test_writes_named_pngs_masks_and_rig(clip, tmp_path, capsys):
    images, depth = clip
    out = tmp_path / "matrix"
    assert main(["matrix", str(images), "--depth", str(depth), "--views", "4", "--out", str(out), "--save-depth", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["views"] == 4 and summary["frames"] == T and summary["focal"] == pytest.approx(800 * W / 576)
    names = {p.name for p in out.iterdir()}
    assert {f"{t:05d}_view{v:03d}.png" for t in range(T) for v in range(4)} <= names
    assert {f"{t:05d}_view{v:03d}_mask.png" for t in range(T) for v in range(4)} <= names
    source = cv2.imread(str(out / "00001_view000.png"))
    np.testing.assert_array_equal(source, cv2.imread(str(images / "00001.png")))
    assert (cv2.imread(str(out / "00001_view000_mask.png"), cv2.IMREAD_GRAYSCALE) == 255).all()
    matrix = load_matrix(out)
    assert matrix.colors.shape == (4, T, H, W, 3) and matrix.rig.views == 4
    assert matrix.depth[0].min() > 0
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_disparity_kind_is_literal(tmp_path):
    image = (np.random.default_rng(1).random((H, W, 3)) * 255).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "left.png"), image)
    np.save(tmp_path / "disp.npy", np.full((H, W), 5.0, np.float32))
    out = tmp_path / "pair"
    assert main(["matrix", str(tmp_path / "left.png"), "--depth", str(tmp_path / "disp.npy"), "--depth-kind", "disparity",
                 "--views", "2", "--out", str(out), "--quiet"]) == 0
    right = cv2.imread(str(out / "00000_view001.png"))
    np.testing.assert_array_equal(right[:, : W - 5], image[:, 5:])


def _bad(tmp_path: Path, clip, name: str) -> list[str]:
    images, depth = clip
    if name == "shape":
        np.save(tmp_path / "d.npy", np.ones((T, H, W + 2), np.float32))
        return [str(images), "--depth", str(tmp_path / "d.npy")]
    if name == "nan":
        d = np.ones((T, H, W), np.float32)
        d[0, 0, 0] = np.nan
        np.save(tmp_path / "d.npy", d)
        return [str(images), "--depth", str(tmp_path / "d.npy")]
    if name == "metric-nonpositive":
        np.save(tmp_path / "d.npy", np.zeros((T, H, W), np.float32))
        return [str(images), "--depth", str(tmp_path / "d.npy"), "--depth-kind", "metric"]
    if name == "views":
        return [str(images), "--depth", str(depth), "--views", "1"]
    if name == "baseline":
        return [str(images), "--depth", str(depth), "--baseline", "0"]
    if name == "unreadable-depth":
        (tmp_path / "d.npy").write_text("garbage")
        return [str(images), "--depth", str(tmp_path / "d.npy")]
    if name == "unreadable-input":
        (tmp_path / "v.mp4").write_text("garbage")
        return [str(tmp_path / "v.mp4"), "--depth", str(depth)]
    raise AssertionError(name)


@pytest.mark.parametrize(
    "name,expected",
    [
        ("shape", "(3, 24, 42)"),
        ("nan", "NaN"),
        ("metric-nonpositive", "<= 0"),
        ("views", "views"),
        ("baseline", "baseline"),
        ("unreadable-depth", "cannot be read"),
        ("unreadable-input", "bad input"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(clip, tmp_path, capsys, name, expected):
    out = tmp_path / "matrix"
    assert main(["matrix", *_bad(tmp_path, clip, name), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and len(err.splitlines()) == 1
    assert not out.exists()
    assert not any(p.name.startswith(".matrix") for p in tmp_path.iterdir())


def test_api_reexports_every_job():
    import s2vg.api as api

    for name in ("convert", "run_batch", "run_eval", "run_demo", "score_pair", "run_pair_eval", "generate", "upscale",
                 "spatial", "render", "serve", "export_frame_matrix", "frame_matrix_from_files"):
        assert callable(getattr(api, name)), name
