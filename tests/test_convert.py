"""End-to-end conversion: layouts, geometry of the result, frame rate and audio, bad input."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from s2vg.cli import main
from s2vg.io import probe, read_frames

H, W, T = 48, 64, 6
FPS = Fraction(30000, 1001)


def _scene() -> tuple[np.ndarray, np.ndarray]:
    """A textured far wall (4 m) with a near square (1 m); per-column stripes make shifts visible."""
    rng = np.random.default_rng(0)
    frames = np.repeat(rng.random((1, H, W, 3), dtype=np.float32), T, axis=0)
    depth = np.full((T, H, W), 4.0, np.float32)
    depth[:, 16:32, 24:40] = 1.0
    return frames, depth


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> tuple[Path, Path, np.ndarray]:
    folder = tmp_path_factory.mktemp("clip")
    frames, depth = _scene()
    path = folder / "clip.mp4"
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = W, H, "yuv420p"
        video.options = {"crf": "0"}
        audio = out.add_stream("aac", rate=48000)
        audio.layout = "stereo"
        for i, frame in enumerate(frames):
            for packet in video.encode(av.VideoFrame.from_ndarray((frame * 255).astype(np.uint8), format="rgb24")):
                out.mux(packet)
        samples = np.zeros((2, 1024), np.float32)
        for k in range(8):
            af = av.AudioFrame.from_ndarray(samples, format="fltp", layout="stereo")
            af.sample_rate, af.pts = 48000, k * 1024
            for packet in audio.encode(af):
                out.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                out.mux(packet)
    np.save(folder / "depth.npy", depth)
    decoded, _ = read_frames(path)
    return path, folder / "depth.npy", decoded


def _convert(args: list[str]) -> int:
    return main(["convert", *args, "--quiet"])


@pytest.mark.parametrize(
    "layout,size",
    [("sbs", (2 * W, H)), ("half-sbs", (W, H)), ("tb", (W, 2 * H)), ("half-tb", (W, H)), ("anaglyph", (W, H)), ("cross", (2 * W, H))],
)
def test_layouts_keep_frames_fps_audio_and_size(clip, tmp_path, layout, size):
    path, depth, _ = clip
    out = tmp_path / f"out_{layout}.mp4"
    assert _convert([str(path), "-o", str(out), "--layout", layout, "--depth", str(depth), "--depth-kind", "metric"]) == 0
    info = probe(out)
    assert (info.width, info.height) == size
    assert info.frames == T and info.fps == FPS
    assert len(info.audio) == 1 and info.audio[0].channels == 2


def test_lr_layout_writes_two_files(clip, tmp_path):
    path, depth, _ = clip
    assert _convert([str(path), "-o", str(tmp_path / "eyes.mp4"), "--layout", "lr", "--depth", str(depth), "--depth-kind", "metric"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eyes_L.mp4", "eyes_R.mp4"]


def test_side_by_side_geometry(clip, tmp_path):
    """Left half is the input; in the right half nearer content moved left by f*B/z px."""
    path, depth, decoded = clip
    out = tmp_path / "frames"
    # focal 100 px, baseline 0.08 m: the near square (1 m) moves 8 px, the wall (4 m) 2 px.
    assert _convert([str(path), "-o", str(out), "--depth", str(depth), "--depth-kind", "metric",
                     "--focal", "100", "--baseline", "0.08", "--png-sequence"]) == 0
    sbs, _ = read_frames(out / "clip_LRF_Full_SBS")  # lossless PNG frames
    assert sbs.shape == (T, H, 2 * W, 3)
    left, right = sbs[..., :W, :], sbs[..., W:, :]
    np.testing.assert_allclose(left, decoded, atol=1 / 255 + 1e-6)
    np.testing.assert_allclose(right[:, 18:30, 18:30], decoded[:, 18:30, 26:38], atol=1 / 255 + 1e-6)  # near: 8 px
    np.testing.assert_allclose(right[:, 2:12, 5:50], decoded[:, 2:12, 7:52], atol=1 / 255 + 1e-6)  # wall: 2 px


def test_divergence_sets_the_largest_disparity(clip, tmp_path):
    import json
    import subprocess
    import sys

    path, _, _ = clip
    result = subprocess.run(
        [sys.executable, "-m", "s2vg.cli", "convert", str(path), "-o", str(tmp_path / "o.mp4"), "--depth", "heuristic",
         "--divergence", "3", "--json"],
        capture_output=True, text=True, check=True,
    )
    summary = json.loads(result.stdout)
    rig = summary["rig"]
    # nearest content: inverse depth 1 + 1/far = 1.1 per metre; disparity = f * B * 1.1 = 3 % of W.
    assert rig["focal_px"] * rig["baseline_m"] * 1.1 == pytest.approx(0.03 * W)
    assert summary["output_frames"] == T and summary["depth"]["estimator"] == "heuristic"
    assert 0.0 <= summary["depth"]["confidence"] <= 1.0  # the weight-free estimator's confidence


def test_single_image_gives_single_image(tmp_path):
    import cv2

    image = (np.random.default_rng(1).random((H, W, 3)) * 255).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "photo.png"), image)
    out = tmp_path / "photo_sbs.png"
    assert _convert([str(tmp_path / "photo.png"), "-o", str(out), "--depth", "heuristic"]) == 0
    result = cv2.imread(str(out))
    assert result.shape == (H, 2 * W, 3)
    np.testing.assert_array_equal(result[:, :W], image)


def _no_outputs(folder: Path) -> bool:
    return not any(p.suffix in (".mp4", ".png") or p.name.startswith(".") for p in folder.iterdir())


@pytest.mark.parametrize(
    "make_input,extra,message",
    [
        (lambda d: (d / "notes.mp4").write_text("not a video") and d / "notes.mp4", [], "bad input"),
        (lambda d: d / "missing.mp4", [], "does not exist"),
        (lambda d: (d / "empty").mkdir() or d / "empty", [], "bad input"),
        (None, ["--baseline", "-0.1"], "baseline"),
        (None, ["--views", "1"], "views"),
        (None, ["--divergence", "0"], "divergence"),
        (None, ["--mode", "circle"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_without_output(clip, tmp_path, capsys, make_input, extra, message):
    path, depth, _ = clip
    source = make_input(tmp_path) if make_input else path
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(SystemExit) if "invalid choice" in message else _nullcontext() as caught:
        code = _convert([str(source), "-o", str(out_dir / "o.mp4"), "--depth", "heuristic", *extra])
    code = caught.value.code if caught else code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) <= 2
    assert _no_outputs(out_dir)


def test_truncated_video_is_rejected(clip, tmp_path, capsys):
    path, _, _ = clip
    data = path.read_bytes()
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(data[: len(data) // 2])
    assert _convert([str(broken), "-o", str(tmp_path / "o.mp4"), "--depth", "heuristic"]) == 2
    assert "bad input" in capsys.readouterr().err
    assert not (tmp_path / "o.mp4").exists()


def test_unwritable_output(clip, tmp_path, capsys):
    path, _, _ = clip
    assert _convert([str(path), "-o", str(tmp_path / "no" / "such" / "o.mp4"), "--depth", "heuristic"]) == 2
    assert "output" in capsys.readouterr().err


class _nullcontext:
    value = None

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def test_missing_optional_dependency_names_the_extra(clip, tmp_path, capsys, monkeypatch):
    def no_diffusers(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'diffusers'", name="diffusers")

    monkeypatch.setattr("s2vg.convert.choose_inpainter", no_diffusers)
    path, _, _ = clip
    code = _convert([str(path), "-o", str(tmp_path / "o.mp4"), "--inpainter", "svg", "--depth", "heuristic"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "pip install 's2vg[models]'" in err and len(err.splitlines()) == 1
