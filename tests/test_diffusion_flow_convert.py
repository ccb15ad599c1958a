"""`s2vg convert --inpainter svg --model DIR` end to end with tiny random Wan, LTX-Video and
CogVideoX folders: the backend is detected from the folder's model_index.json."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("diffusers")
pytest.importorskip("transformers")

from s2vg.cli import main  # noqa: E402
from s2vg.io import read_frames  # noqa: E402


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    from s2vg.inpaint.diffusion.backends.random_init import RANDOM_MODELS

    root = tmp_path_factory.mktemp("models")
    return {name: RANDOM_MODELS[name](root / f"tiny-{name}") for name in ("wan", "ltx", "cogvideox")}


@pytest.fixture(scope="module")
def tiny_clip(astronaut_dir, tmp_path_factory):
    import cv2

    images = tmp_path_factory.mktemp("clip") / "images"
    images.mkdir()
    for i in range(3):  # a 3-frame, 64x96 crop of the sample keeps the CPU run short
        frame = cv2.imread(str(astronaut_dir / "images" / f"{i:05d}.jpg"))
        cv2.imwrite(str(images / f"{i:05d}.png"), cv2.resize(frame, (96, 64), interpolation=cv2.INTER_AREA))
    return images


@pytest.mark.parametrize("backend", ["wan", "ltx", "cogvideox"])
def test_svg_convert_with_each_backend_keeps_the_source_view(backend, tiny_models, tiny_clip, tmp_path, capsys):
    code = main([
        "convert", str(tiny_clip), "-o", str(tmp_path / "out"), "--png-sequence", "--json",
        "--inpainter", "svg", "--model", str(tiny_models[backend]), "--prompt", "an astronaut riding a horse",
        "--steps", "2", "--resample", "1", "--views", "3", "--depth", "heuristic", "--divergence", "8",
    ])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["inpainter"] == "svg" and summary["output_frames"] == 3
    sbs, _ = read_frames(tmp_path / "out" / "images_LRF_Full_SBS")
    source, _ = read_frames(tiny_clip)
    assert sbs.shape == (3, 64, 192, 3)
    np.testing.assert_array_equal(sbs[..., :96, :], source)  # left eye = the input, untouched
    assert np.isfinite(sbs).all()
