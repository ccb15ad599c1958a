"""`s2vg convert --inpainter svg` end to end with a tiny random Zeroscope-format model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from s2vg.cli import main
from s2vg.io import read_frames


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from s2vg.inpaint.diffusion.backends.random_init import save_random_zeroscope

    return save_random_zeroscope(tmp_path_factory.mktemp("model") / "tiny-zeroscope", size="tiny")


def test_svg_convert_keeps_the_source_view(astronaut_dir, tiny_model, tmp_path, capsys):
    import cv2

    images = tmp_path / "images"
    images.mkdir()
    for i in range(4):  # a 4-frame, 64x96 crop of the sample keeps the CPU run short
        frame = cv2.imread(str(astronaut_dir / "images" / f"{i:05d}.jpg"))
        cv2.imwrite(str(images / f"{i:05d}.png"), cv2.resize(frame, (96, 64), interpolation=cv2.INTER_AREA))
    code = main([
        "convert", str(images), "-o", str(tmp_path / "out"), "--png-sequence", "--json",
        "--inpainter", "svg", "--model", str(tiny_model), "--prompt", "an astronaut riding a horse",
        "--steps", "3", "--resample", "1", "--views", "3", "--depth", "heuristic", "--divergence", "8",
    ])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["inpainter"] == "svg" and summary["output_frames"] == 4
    sbs, _ = read_frames(tmp_path / "out" / "images_LRF_Full_SBS")
    source, _ = read_frames(images)
    assert sbs.shape == (4, 64, 192, 3)
    np.testing.assert_array_equal(sbs[..., :96, :], source)  # left eye = the input, untouched
    assert np.isfinite(sbs).all()


def test_missing_model_is_one_line_exit_2(tmp_path, capsys):
    import cv2

    cv2.imwrite(str(tmp_path / "photo.png"), np.zeros((32, 48, 3), np.uint8))
    code = main(["convert", str(tmp_path / "photo.png"), "-o", str(tmp_path / "o.png"), "--inpainter", "svg",
                 "--model", str(tmp_path / "no-such-model"), "--depth", "heuristic"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "missing weights" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o.png").exists()
