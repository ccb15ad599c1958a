"""`s2vg generate` and `s2vg upscale` through the CLI with a tiny random model."""

from __future__ import annotations

import json

import pytest

from s2vg.cli import main
from s2vg.io import probe


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from s2vg.inpaint.diffusion.backends.random_init import save_random_zeroscope

    return save_random_zeroscope(tmp_path_factory.mktemp("model") / "tiny-zeroscope", size="tiny")


def test_generate_then_upscale(tiny_model, tmp_path, capsys):
    code = main(["generate", "a red ball", "-o", str(tmp_path / "gen"), "--model", str(tiny_model), "--steps", "2",
                 "--height", "64", "--width", "96", "--frames", "4", "--inpainter", "svg", "--inpaint-steps", "2",
                 "--inpaint-resample", "1", "--views", "3", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["shared_model"] and summary["prompt"] == "a red ball"
    video = summary["outputs"][0]
    info = probe(video)
    assert (info.width, info.height, info.frames) == (192, 64, 4)

    assert main(["upscale", video, "-o", str(tmp_path / "big"), "--scale", "2", "--json"]) == 0
    up = json.loads(capsys.readouterr().out)
    big = probe(up["outputs"][0])
    assert (big.width, big.height, big.frames) == (384, 128, 4)


def test_generate_needs_a_prompt_or_image(tmp_path, capsys):
    assert main(["generate", "-o", str(tmp_path / "g")]) == 2
    assert "PROMPT" in capsys.readouterr().err
