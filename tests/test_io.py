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

from s2vg.errors import InputError, OptionError, OutputError
from s2vg.io import describe, iter_chunks, probe, read_frames
from s2vg.io.writer import ImageSequenceWriter, VideoWriter, encoder_available, open_writer, to_uint8

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


# --------------------------------------------------------------------------- writing


def audio_packets(path: Path) -> list[list[tuple[bytes, int | None, int | None]]]:
    """Per audio stream: (payload, pts, dts) of every packet, in order."""
    with av.open(str(path)) as container:
        found: dict[int, list[tuple[bytes, int | None, int | None]]] = {s.index: [] for s in container.streams.audio}
        for packet in container.demux(*container.streams.audio):
            if packet.size:
                found[packet.stream.index].append((bytes(packet), packet.pts, packet.dts))
    return list(found.values())


def sei_payload_types(path: Path) -> set[int]:
    """SEI payload types in the H.264 packets of an MP4 (length-prefixed NAL units)."""
    types: set[int] = set()
    with av.open(str(path)) as container:
        for packet in container.demux(container.streams.video[0]):
            data, pos = bytes(packet), 0
            while pos + 4 <= len(data):
                size = int.from_bytes(data[pos : pos + 4], "big")
                nal = data[pos + 4 : pos + 4 + size]
                pos += 4 + size
                if nal and nal[0] & 0x1F == 6:  # SEI: walk its messages
                    i = 1
                    while i < len(nal) and nal[i] != 0x80:  # 0x80: rbsp trailing bits
                        ptype = 0
                        while nal[i] == 0xFF:
                            ptype, i = ptype + 255, i + 1
                        ptype, i = ptype + nal[i], i + 1
                        psize = 0
                        while nal[i] == 0xFF:
                            psize, i = psize + 255, i + 1
                        psize, i = psize + nal[i], i + 1
                        types.add(ptype)
                        i += psize
    return types


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".part" in p.name)


def test_writer_round_trip_keeps_frames_fps_and_audio_bits(tmp_path: Path) -> None:
    src = make_video(tmp_path / "src.mp4", audio_layouts=("stereo", "5.1"))
    frames, info = read_frames(src)
    out = tmp_path / "out.mp4"
    with VideoWriter(out, fps=info.fps, width=W, height=H, audio_source=src) as writer:
        for _, chunk in iter_chunks(src, chunk_frames=5):
            writer.write(chunk)
    assert writer.frames_written == T and writer.audio_report["copied"] == [1, 2]
    again, info2 = read_frames(out)
    assert info2.frames == T and info2.fps == FPS and again.shape == frames.shape
    assert np.abs(again - frames).mean() < 2 / 255  # crf 18: near-lossless
    assert [(a.codec, a.channels, a.layout) for a in info2.audio] == [("aac", 2, "stereo"), ("aac", 6, "5.1")]
    assert audio_packets(out) == audio_packets(src)  # payloads and timestamps bit-identical
    assert leftovers(tmp_path) == []


def test_writer_accepts_uint8_and_pads_odd_sizes(tmp_path: Path) -> None:
    frames = np.stack([pattern(t, h=33, w=47) for t in range(3)])
    with VideoWriter(tmp_path / "odd.mp4", fps=24, width=47, height=33) as writer:
        writer.write(frames)
    assert writer.coded_size == (48, 34)
    back, info = read_frames(tmp_path / "odd.mp4")
    assert (info.width, info.height, info.frames, info.fps) == (48, 34, 3, Fraction(24))
    # The padding repeats the last column and row.
    np.testing.assert_allclose(back[:, :, 47], back[:, :, 46], atol=0.05)


def test_writer_reencodes_audio_the_container_cannot_hold_without_downmix(tmp_path: Path) -> None:
    src = tmp_path / "pcm.mkv"
    samples = np.zeros((1, 6 * 4800), np.uint8) + 128  # packed u8, 6 channels, 0.1 s
    with av.open(str(src), "w") as out:
        video = out.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = W, H, "yuv420p"
        audio = out.add_stream("pcm_u8", rate=48000, layout="5.1")
        frame = av.AudioFrame.from_ndarray(samples, format="u8", layout="5.1")
        frame.sample_rate, frame.pts = 48000, 0
        out.mux(audio.encode(frame))
        out.mux(audio.encode())
        out.mux(video.encode(av.VideoFrame.from_ndarray(pattern(0), format="rgb24")))
        out.mux(video.encode())
    with VideoWriter(tmp_path / "o.mp4", fps=10, width=W, height=H, audio_source=src) as writer:
        writer.write(pattern(0)[None])
    assert writer.audio_report["reencoded"] == [(1, "aac")]
    assert [(a.codec, a.channels, a.sample_rate) for a in probe(tmp_path / "o.mp4").audio] == [("aac", 6, 48000)]


def test_writer_copies_mov_text_subtitles(tmp_path: Path) -> None:
    src = tmp_path / "sub.mp4"
    with av.open(str(src), "w") as out:
        video = out.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = W, H, "yuv420p"
        subs = out.add_mux_stream("mov_text")
        subs.time_base = Fraction(1, 1000)
        subs.metadata["language"] = "fra"
        for t in range(4):
            out.mux(video.encode(av.VideoFrame.from_ndarray(pattern(t), format="rgb24")))
        text = b"bonjour"
        packet = av.Packet(len(text).to_bytes(2, "big") + text)
        packet.pts, packet.dts, packet.duration, packet.stream = 0, 0, 200, subs
        packet.time_base = Fraction(1, 1000)
        out.mux(packet)
        out.mux(video.encode())
    with VideoWriter(tmp_path / "o.mp4", fps=10, width=W, height=H, audio_source=src) as writer:
        writer.write(np.stack([pattern(t) for t in range(4)]))
    info = probe(tmp_path / "o.mp4")
    assert [(s.codec, s.language) for s in info.subtitles] == [("mov_text", "fra")]
    with av.open(str(tmp_path / "o.mp4")) as container:
        payloads = [bytes(p) for p in container.demux(container.streams.subtitles[0]) if p.size]
    assert payloads == [b"\x00\x07bonjour"]


def test_writer_removes_temp_file_on_exception_and_keeps_old_output(tmp_path: Path) -> None:
    out = tmp_path / "o.mp4"
    out.write_bytes(b"previous result")
    with pytest.raises(RuntimeError, match="boom"):
        with VideoWriter(out, fps=FPS, width=W, height=H) as writer:
            writer.write(np.stack([pattern(t) for t in range(3)]))
            raise RuntimeError("boom")
    assert out.read_bytes() == b"previous result" and leftovers(tmp_path) == []
    with pytest.raises(OutputError):  # nothing written: an error, and no file
        with VideoWriter(tmp_path / "empty.mp4", fps=FPS, width=W, height=H):
            pass
    assert not (tmp_path / "empty.mp4").exists() and leftovers(tmp_path) == []
    with pytest.raises(InputError):  # wrong frame size
        with VideoWriter(tmp_path / "size.mp4", fps=FPS, width=W, height=H) as writer:
            writer.write(np.zeros((1, H, W + 2, 3), np.float32))
    assert not (tmp_path / "size.mp4").exists() and leftovers(tmp_path) == []


def test_writer_frame_packing_sei_and_hevc(tmp_path: Path) -> None:
    frames = np.stack([pattern(t) for t in range(2)])
    for packing, expected in ((None, False), ("sbs", True)):
        with VideoWriter(tmp_path / f"{packing}.mp4", fps=FPS, width=W, height=H, frame_packing=packing) as w:
            w.write(frames)
        assert (45 in sei_payload_types(tmp_path / f"{packing}.mp4")) is expected  # 45: frame packing
    if not encoder_available("libx265"):
        with pytest.raises(OptionError, match="libx265"):
            VideoWriter(tmp_path / "h.mp4", fps=FPS, width=W, height=H, codec="hevc")
        return
    with VideoWriter(tmp_path / "h.mp4", fps=FPS, width=W, height=H, codec="hevc") as w:
        w.write(frames)
    info = probe(tmp_path / "h.mp4")
    assert (info.codec, info.frames, info.fps) == ("hevc", 2, FPS)


def test_writer_rejects_bad_options(tmp_path: Path) -> None:
    for kwargs in ({"codec": "vp9"}, {"crf": 60}, {"frame_packing": "diagonal"}, {"fps": 0}):
        with pytest.raises(OptionError):
            VideoWriter(tmp_path / "o.mp4", **{"fps": FPS, "width": W, "height": H, **kwargs})
    with pytest.raises(OptionError):
        open_writer(tmp_path / "o.xyz", fps=FPS, width=W, height=H)
    assert leftovers(tmp_path) == []


def test_unwritable_output_raises_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    with pytest.raises(OutputError):
        VideoWriter(blocker / "o.mp4", fps=FPS, width=W, height=H)


def test_png_sequence_and_single_image_outputs(tmp_path: Path) -> None:
    frames = np.stack([pattern(t) for t in range(3)])
    with open_writer(tmp_path / "seq", fps=FPS, width=W, height=H) as writer:
        writer.write(frames[:2])
        writer.write(frames[2:])
    assert isinstance(writer, ImageSequenceWriter)
    assert sorted(p.name for p in (tmp_path / "seq").iterdir()) == ["00000.png", "00001.png", "00002.png"]
    back, _ = read_frames(tmp_path / "seq")
    np.testing.assert_array_equal(np.round(back * 255).astype(np.uint8), frames)
    for name in ("one.png", "one.jpg"):
        with open_writer(tmp_path / name, fps=FPS, width=W, height=H) as writer:
            writer.write(frames[:1])
        single, info = read_frames(tmp_path / name)
        assert info.kind == "image" and np.abs(single[0] * 255 - frames[0]).max() <= (0.5 if name.endswith("png") else 12)
    with pytest.raises(InputError):
        with open_writer(tmp_path / "two.png", fps=FPS, width=W, height=H) as writer:
            writer.write(frames[:2])
    assert not (tmp_path / "two.png").exists() and leftovers(tmp_path) == []


# --------------------------------------------------------------------------- formats and info


def test_variable_rate_and_other_containers(tmp_path: Path) -> None:
    vfr = tmp_path / "vfr.mp4"
    times = [0, 33, 66, 150, 183, 300, 333, 366]  # milliseconds, irregular
    with av.open(str(vfr), "w") as out:
        video = out.add_stream("libx264", rate=30)
        video.width, video.height, video.pix_fmt = W, H, "yuv420p"
        video.codec_context.time_base = Fraction(1, 1000)
        for t, ms in enumerate(times):
            frame = av.VideoFrame.from_ndarray(pattern(t), format="rgb24")
            frame.pts, frame.time_base = ms, Fraction(1, 1000)
            out.mux(video.encode(frame))
        out.mux(video.encode())
    info = probe(vfr)
    assert info.variable_rate and info.frames == len(times)
    assert float(info.fps) == pytest.approx(len(times) / info.duration, rel=0.05)
    frames, _ = read_frames(vfr)
    assert [brightness_index(f) for f in frames] == list(range(len(times)))  # none dropped or repeated
    for suffix, codec in ((".mkv", "libx264"), (".gif", "gif"), (".mov", "mpeg4")):
        path = tmp_path / f"clip{suffix}"
        with av.open(str(path), "w") as out:
            video = out.add_stream(codec, rate=10)
            video.width, video.height, video.pix_fmt = W, H, "rgb8" if codec == "gif" else "yuv420p"
            for t in range(5):
                out.mux(video.encode(av.VideoFrame.from_ndarray(pattern(t), format="rgb24")))
            out.mux(video.encode())
        info = probe(path)
        assert (info.frames, info.fps, info.variable_rate) == (5, Fraction(10), False), suffix
        frames, _ = read_frames(path)
        assert frames.shape == (5, H, W, 3), suffix


@pytest.mark.parametrize("degrees", [180, 270])
def test_other_rotations(tmp_path: Path, degrees: int) -> None:
    frames, info = read_frames(make_video(tmp_path / "r.mp4", frames=2, rotation=degrees))
    assert info.rotation == degrees
    upright = np.rot90(pattern(0), k=degrees // 90)
    assert frames.shape[1:3] == upright.shape[:2]
    assert np.abs(frames[0] * 255 - upright).mean() < 3


def test_describe_lists_streams(tmp_path: Path) -> None:
    text = describe(probe(make_video(tmp_path / "a.mp4", audio_layouts=("stereo", "5.1"), rotation=90)))
    lines = text.splitlines()
    assert lines[0] == "a.mp4: video h264 (yuv420p), 64x96, 30000/1001 fps (29.970), 12 frames, 0.400 s"
    assert "rotation: 90 degrees" in lines[1]
    assert lines[2:] == [
        "  audio #1: aac, 2 channels (stereo), 48000 Hz",
        "  audio #2: aac, 6 channels (5.1), 48000 Hz",
    ]


def test_fewer_frames_than_the_source_trims_audio_to_the_video(tmp_path: Path) -> None:
    src = make_video(tmp_path / "src.mp4", audio_layouts=("stereo",))
    frames, info = read_frames(src, max_frames=4)
    with VideoWriter(tmp_path / "o.mp4", fps=info.fps, width=W, height=H, audio_source=src) as writer:
        writer.write(frames)
    end = 4 / float(FPS)
    source_packets = audio_packets(src)[0]
    kept = [p for p in source_packets if p[1] * Fraction(1, 48000) < end]
    assert 0 < len(kept) < len(source_packets)
    assert audio_packets(tmp_path / "o.mp4") == [kept]
    # An image input as audio source is accepted and adds nothing.
    cv2.imwrite(str(tmp_path / "still.png"), pattern(0))
    with VideoWriter(tmp_path / "p.mp4", fps=info.fps, width=W, height=H, audio_source=tmp_path / "still.png") as w:
        w.write(frames[:1])
    assert probe(tmp_path / "p.mp4").audio == ()


def test_to_uint8_rounds_clips_and_zeroes_nan() -> None:
    x = np.array([[[[np.nan, 1.7, -0.3], [0.2, 1.0, 0.0]]]], np.float32)
    np.testing.assert_array_equal(to_uint8(x), [[[[0, 255, 0], [51, 255, 0]]]])
    ints = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1).repeat(3, axis=-1)
    np.testing.assert_array_equal(to_uint8(ints.astype(np.float32) / 255), ints)  # exact round trip
    assert to_uint8(ints) is ints
    with pytest.raises(InputError):
        to_uint8(np.zeros((4, 4, 3), np.float32))  # a single frame must be (1, H, W, 3)


def colour_bars(h: int, w: int) -> np.ndarray:
    """(h, w, 3) uint8: four flat vertical bars, red, green, blue and a skin tone."""
    bars = np.array([[230, 30, 30], [30, 200, 40], [40, 40, 220], [225, 170, 140]], np.uint8)
    return np.repeat(bars, w // 4, axis=0)[None].repeat(h, axis=0)


def bar_error(frame: np.ndarray, expected: np.ndarray) -> float:
    """Largest error (0-255 levels) over the bar centres, away from chroma-subsampled edges."""
    w = expected.shape[1] // 4
    centres = [slice(i * w + w // 4, (i + 1) * w - w // 4) for i in range(4)]
    return max(float(np.abs(frame[8:-8, c] * 255 - expected[8:-8, c]).max()) for c in centres)


def test_colours_survive_a_round_trip(tmp_path: Path) -> None:
    bars = colour_bars(H, W)
    with VideoWriter(tmp_path / "bars.mp4", fps=FPS, width=W, height=H, crf=0) as writer:
        writer.write(bars[None])
    frames, _ = read_frames(tmp_path / "bars.mp4")
    assert bar_error(frames[0], bars) <= 3  # BT.709 tagged on writing, honoured on reading


def test_untagged_hd_video_is_read_as_bt709(tmp_path: Path) -> None:
    bars = colour_bars(720, 1280)
    path = tmp_path / "hd.mp4"
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=24, options={"crf": "0", "preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = 1280, 720, "yuv420p"  # no colour tags
        frame = av.VideoFrame.from_ndarray(bars, format="rgb24").reformat(
            format="yuv420p", dst_colorspace="itu709"
        )
        frame.colorspace = 2  # AVCOL_SPC_UNSPECIFIED: as most camera and web files come
        out.mux(video.encode(frame))
        out.mux(video.encode())
    frames, _ = read_frames(path)
    assert bar_error(frames[0], bars) <= 3


def test_exif_orientation_is_applied_to_jpeg(tmp_path: Path) -> None:
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6  # stored image must be turned 90 degrees clockwise to display
    Image.fromarray(pattern(0)).save(tmp_path / "phone.jpg", exif=exif, quality=95)
    info = probe(tmp_path / "phone.jpg")
    frames, _ = read_frames(tmp_path / "phone.jpg")
    assert (info.width, info.height) == (H, W) and frames.shape == (1, W, H, 3)
    # Turned clockwise, the bright top-left quadrant lands top-right.
    assert frames[0, : W // 4, -H // 4 :].mean() > 0.85 and frames[0, : W // 4, : H // 4].mean() < 0.3
