"""Video/image reading, probing, chunked streaming and writing (s2vg.io).

Every input is synthesised in tmp_path with PyAV or OpenCV: a few frames of 64x96, so the
whole file runs in seconds.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from s2vg.errors import InputError, OptionError
from s2vg.io import iter_chunks, probe, read_frames

FPS = Fraction(30000, 1001)
H, W, T = 64, 96, 12


def pattern(t: int, h: int = H, w: int = W) -> np.ndarray:
    """Frame ``t`` of a test clip: (h, w, 3) uint8 with a brightness that encodes t and a
    bright top-left quadrant (t < 14), so order, rotation and count are all visible after lossy coding."""
    frame = np.full((h, w, 3), 20 + 15 * (t % 14), np.uint8)
    frame[: h // 2, : w // 2] = 240
    return frame


def make_video(
    path: Path,
    frames: int = T,
    fps: Fraction = FPS,
    audio_layouts: tuple[str, ...] = (),
    rotation: int | None = None,
    codec: str = "libx264",
) -> Path:
    """Write a short test video with PyAV, optional AAC audio streams (one per layout name)
    lasting as long as the video, and an optional display rotation (counter-clockwise degrees)."""
    with av.open(str(path), "w") as out:
        video = out.add_stream(codec, rate=fps)
        video.width, video.height, video.pix_fmt = W, H, "yuv420p"
        if rotation is not None:
            video.set_display_rotation(rotation)
        audios = [out.add_stream("aac", rate=48000, layout=layout) for layout in audio_layouts]
        for t in range(frames):
            for packet in video.encode(av.VideoFrame.from_ndarray(pattern(t), format="rgb24")):
                out.mux(packet)
        for stream in audios:
            channels = stream.codec_context.channels
            samples = int(48000 * frames / fps)
            tone = np.sin(2 * np.pi * 440 * np.arange(samples) / 48000).astype(np.float32)
            data = np.tile(tone * 0.2, (channels, 1))
            for start in range(0, samples, 1024):
                chunk = np.ascontiguousarray(data[:, start : start + 1024])
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=stream.codec_context.layout.name)
                frame.sample_rate = 48000
                frame.pts = start
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
    return path


def brightness_index(frame: np.ndarray) -> int:
    """Recover t from a decoded pattern frame (bottom-right quadrant = 20 + 15 t)."""
    h, w = frame.shape[:2]
    value = float(frame[h // 2 + 4 :, w // 2 + 4 :].mean()) * 255
    return round((value - 20) / 15)


@pytest.fixture()
def clip(tmp_path: Path) -> Path:
    return make_video(tmp_path / "clip.mp4")


def test_read_video_frames_count_fps_and_order(clip: Path) -> None:
    frames, info = read_frames(clip)
    assert frames.shape == (T, H, W, 3) and frames.dtype == np.float32
    assert 0.0 <= frames.min() and frames.max() <= 1.0
    assert info.kind == "video" and info.fps == FPS and info.frames == T and not info.variable_rate
    assert [brightness_index(f) for f in frames] == list(range(T))
    assert info.duration == pytest.approx(T / float(FPS), abs=1e-3)


def test_read_frames_max_frames(clip: Path) -> None:
    frames, info = read_frames(clip, max_frames=5)
    assert frames.shape[0] == 5 and info.frames == T


def test_rotation_metadata_is_applied(tmp_path: Path) -> None:
    path = make_video(tmp_path / "rot.mp4", rotation=90)
    info = probe(path)
    assert info.rotation == 90 and (info.width, info.height) == (H, W)
    frames, _ = read_frames(path)
    assert frames.shape == (T, W, H, 3)
    # Turned 90 degrees counter-clockwise, the bright top-left quadrant lands bottom-left.
    first = frames[0]
    assert first[-W // 4 :, : H // 4].mean() > 0.85
    assert first[: W // 4, : H // 4].mean() < 0.3


def test_probe_reports_audio_streams(tmp_path: Path) -> None:
    info = probe(make_video(tmp_path / "a.mp4", audio_layouts=("stereo", "5.1")))
    assert [(a.codec, a.channels, a.sample_rate, a.layout) for a in info.audio] == [
        ("aac", 2, 48000, "stereo"),
        ("aac", 6, 48000, "5.1"),
    ]


def test_iter_chunks_overlap_covers_every_frame_once_new(clip: Path) -> None:
    chunks = list(iter_chunks(clip, chunk_frames=5, overlap=2))
    assert [(c.start, c.frames.shape[0]) for c in chunks] == [(0, 5), (3, 5), (6, 5), (9, 3)]
    whole, _ = read_frames(clip)
    for start, frames in chunks:
        np.testing.assert_array_equal(frames, whole[start : start + len(frames)])


def test_iter_chunks_rejects_bad_sizes(clip: Path) -> None:
    with pytest.raises(OptionError):
        next(iter_chunks(clip, chunk_frames=4, overlap=4))
    with pytest.raises(OptionError):
        next(iter_chunks(clip, chunk_frames=0))


def test_image_folder_natural_order_and_single_image(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for t in (0, 1, 2, 10):  # "frame10" must come after "frame2"
        cv2.imwrite(str(folder / f"frame{t}.png"), pattern(t)[..., ::-1])
    (folder / "notes.txt").write_text("not an image")
    frames, info = read_frames(folder)
    assert info.kind == "images" and frames.shape == (4, H, W, 3)
    assert [brightness_index(f) for f in frames] == [0, 1, 2, 10]
    # PNG is lossless: exact values, RGB order.
    np.testing.assert_array_equal(np.round(frames[1] * 255).astype(np.uint8), pattern(1))
    single, info1 = read_frames(folder / "frame2.png")
    assert info1.kind == "image" and single.shape == (1, H, W, 3)


def test_sixteen_bit_png_keeps_precision(tmp_path: Path) -> None:
    image = np.full((8, 8, 3), 1000, np.uint16)
    cv2.imwrite(str(tmp_path / "deep.png"), image)
    frames, _ = read_frames(tmp_path / "deep.png")
    assert frames[0, 0, 0, 0] == pytest.approx(1000 / 65535, rel=1e-6)


def test_bad_inputs_raise_input_error(tmp_path: Path, clip: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "text.mp4").write_text("this is not a video\n")
    sizes = tmp_path / "sizes"
    sizes.mkdir()
    cv2.imwrite(str(sizes / "a.png"), pattern(0))
    cv2.imwrite(str(sizes / "b.png"), pattern(0, h=32))
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    for bad in (tmp_path / "missing.mp4", tmp_path / "empty", tmp_path / "text.mp4", sizes, truncated):
        with pytest.raises(InputError) as err:
            read_frames(bad)
        assert "\n" not in str(err.value) and str(bad.name) in str(err.value)


def test_truncated_video_with_index_in_front_is_detected(tmp_path: Path) -> None:
    # moov atom first (faststart): the header survives truncation, the frames do not.
    src = make_video(tmp_path / "src.mp4", frames=30)
    fast = tmp_path / "fast.mp4"
    with av.open(str(src)) as inp, av.open(str(fast), "w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    data = fast.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    with pytest.raises(InputError, match="truncated"):
        read_frames(cut)
