"""`s2vg.sr.upscale` on stereo video files: layouts detected, eyes split and packed back."""

from __future__ import annotations

import numpy as np
import pytest

from s2vg.config import SuperResolutionConfig
from s2vg.errors import OptionError
from s2vg.io import read_frames
from s2vg.io.layouts import compose_streams, output_paths
from s2vg.io.writer import open_writer
from s2vg.sr.api import upscale


def texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Smooth random colour texture ``(h, w, 3)`` in [0, 1]."""
    import cv2

    noise = np.random.default_rng(seed).random((h, w, 3), dtype=np.float32)
    return np.clip(cv2.GaussianBlur(noise, (0, 0), 1.5) * 3 - 1, 0, 1).astype(np.float32)


def shift_left(image: np.ndarray, d: int) -> np.ndarray:
    """A fronto-parallel plane seen by the right eye: x shows left pixel x + d."""
    return np.concatenate([image[:, d:], np.repeat(image[:, -1:], d, axis=1)], axis=1)


def write_pair(path, layout: str, frames: int = 3):
    left = np.stack([texture(32, 48, seed=s) for s in range(frames)])
    right = np.stack([shift_left(f, 2) for f in left])
    paths = output_paths(path, path, layout)
    for target, stream in zip(paths, compose_streams(left, right, layout)):
        with open_writer(target, fps=12, width=stream.shape[2], height=stream.shape[1], crf=10) as writer:
            writer.write(stream)
    return paths


@pytest.mark.parametrize("layout, name, size", [
    ("sbs", "clip.mp4", (192, 64)),  # no tag: recognised from the matching halves
    ("tb", "clip.mp4", (96, 128)),
    ("half-sbs", "clip_LRF_Half_SBS.mp4", (96, 64)),  # by its player tag; the eyes stay squeezed
    ("lr", "clip.mp4", (96, 64)),  # clip_L.mp4 + clip_R.mp4
])
def test_upscale_keeps_the_layout(tmp_path, layout, name, size):
    paths = write_pair(tmp_path / name, layout)
    summary = upscale(paths[0], tmp_path / "out", config=SuperResolutionConfig(scale=2))
    assert summary["layout"] == layout and summary["output_frames"] == 3 and summary["fps"] == "12"
    assert len(summary["outputs"]) == len(paths)
    for out in summary["outputs"]:
        frames, info = read_frames(out)
        assert frames.shape == (3, size[1], size[0], 3) and info.fps == 12
    assert summary["conditions"]["cross_view"] > 0.2


def test_mono_video_is_refused(tmp_path):
    with open_writer(tmp_path / "mono.mp4", fps=12, width=48, height=32) as writer:
        writer.write(np.stack([texture(32, 48, seed=s) for s in range(2)]))
    with pytest.raises(OptionError, match="not a stereo video") as error:
        upscale(tmp_path / "mono.mp4", tmp_path / "o.mp4")
    assert error.value.exit_code == 2 and "\n" not in str(error.value)
    assert not (tmp_path / "o.mp4").exists()


def test_anaglyph_and_scale_3_are_refused(tmp_path):
    from s2vg.config import SuperResolutionConfig

    paths = write_pair(tmp_path / "clip.mp4", "sbs")
    with pytest.raises(OptionError, match="anaglyph"):
        upscale(paths[0], tmp_path / "o.mp4", layout="anaglyph")
    with pytest.raises(OptionError, match="scale must be 2 or 4"):
        upscale(paths[0], tmp_path / "o.mp4", config=SuperResolutionConfig(scale=3))


def test_convert_then_upscale(tmp_path):
    from s2vg.config import ConvertConfig, OutputConfig
    from s2vg.sr.api import convert_upscaled

    with open_writer(tmp_path / "clip.mp4", fps=10, width=48, height=32) as writer:
        writer.write(np.stack([texture(32, 48, seed=s) for s in range(3)]))
    summary = convert_upscaled(tmp_path / "clip.mp4", tmp_path / "out.mp4", sr_config=SuperResolutionConfig(scale=2),
                               config=ConvertConfig(depth="heuristic", inpainter="classical"),
                               output_config=OutputConfig(layout="tb"))
    frames, info = read_frames(tmp_path / "out.mp4")
    assert frames.shape == (3, 128, 96, 3) and info.fps == 10 and summary["upscale"]["scale"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "out.mp4"]
