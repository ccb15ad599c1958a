"""`s2vg spatial` and `s2vg render` through the CLI on a tiny clip."""

from __future__ import annotations

import cv2
import numpy as np

from s2vg.cli import main
from s2vg.io import probe


def test_spatial_then_render(tmp_path, capsys):
    images = tmp_path / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    base = (rng.random((40, 64, 3)) * 255).astype(np.uint8)
    for i in range(3):
        cv2.imwrite(str(images / f"{i:05d}.png"), np.roll(base, i, axis=1))
    assert main(["spatial", str(images), "-o", str(tmp_path / "orbit.mp4"), "--path", "orbit", "--iterations", "10",
                 "--views", "4", "--depth", "heuristic", "--save-scene", str(tmp_path / "scene"), "--quiet"]) == 0
    assert probe(tmp_path / "orbit.mp4").frames == 3
    assert (tmp_path / "scene" / "point_cloud.ply").exists()
    assert main(["render", str(tmp_path / "scene"), "-o", str(tmp_path / "pair.mp4"), "--path", "stereo", "--quiet"]) == 0
    info = probe(tmp_path / "pair.mp4")
    assert info.frames == 3 and info.width == 2 * 64
    assert main(["render", str(tmp_path / "missing"), "-o", str(tmp_path / "x.mp4")]) == 2
    assert "scene folder" in capsys.readouterr().err
