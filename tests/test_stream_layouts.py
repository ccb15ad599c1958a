"""Streamed jobs through every kind of output, and chunk reads that seek into the input."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from s2vg.cli import main
from s2vg.io import probe, read_frames
from s2vg.jobs.frames import iter_indexed_frames, read_span
from test_stream_clips import write_clip

FAST = ["--depth", "heuristic", "--chunk-frames", "5", "--context-frames", "2", "--preset", "ultrafast", "--quiet"]


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return write_clip(tmp_path_factory.mktemp("layouts") / "clip.mp4", frames=12)


def test_seeking_reads_the_frames_of_a_sequential_read(tmp_path):
    """B-frames and a keyframe every 8 frames: every span read by seeking equals the sequential read."""
    rng = np.random.default_rng(0)
    path = tmp_path / "gop.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.options = {"crf": "20", "preset": "medium", "x264-params": "keyint=8:min-keyint=8:bframes=3"}
        for _ in range(30):
            for packet in stream.encode(av.VideoFrame.from_ndarray(rng.integers(0, 255, (48, 64, 3), np.uint8), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    info = probe(path)
    sequential = list(iter_indexed_frames(info))
    frames, _ = read_frames(path)
    assert len(sequential) == 30 and all(np.array_equal(f, frames[i]) for i, _, f in sequential)
    stamps = [pts for _, pts, _ in sequential]
    for start in (1, 7, 8, 9, 17, 26):
        span, got = read_span(info, start, min(30, start + 4), stamps[start])
        np.testing.assert_array_equal(span, frames[start : start + 4])
        assert got == stamps[start : start + 4]


def test_vr180_segments_carry_spherical_metadata(clip, tmp_path, capsys):
    from s2vg.convert import convert
    from s2vg.config import ConvertConfig, OutputConfig
    from s2vg.io.mp4boxes import read_spherical_metadata

    summary = convert(clip, tmp_path / "vr.mp4", config=ConvertConfig(depth="heuristic", chunk_frames=5, context_frames=2),
                      output_config=OutputConfig(layout="vr180", preset="ultrafast"))
    info = probe(tmp_path / "vr.mp4")
    assert (info.width, info.height) == tuple(summary["output_size"]) and info.frames == 12
    assert summary["chunks"]["count"] == 3
    meta = read_spherical_metadata(tmp_path / "vr.mp4")
    assert meta is not None and meta.stereo_mode == "left-right"


def test_lr_files_and_png_sequence_from_several_chunks(clip, tmp_path):
    assert main(["convert", str(clip), "-o", str(tmp_path / "eyes.mp4"), "--layout", "lr", *FAST]) == 0
    assert [probe(tmp_path / f"eyes_{e}.mp4").frames for e in "LR"] == [12, 12]

    assert main(["convert", str(clip), "-o", str(tmp_path / "png"), "--png-sequence", *FAST]) == 0
    folder = tmp_path / "png" / "clip_LRF_Full_SBS"
    assert sorted(p.name for p in folder.iterdir()) == [f"{i:05d}.png" for i in range(12)]
    sbs, _ = read_frames(folder)
    source, _ = read_frames(clip)
    np.testing.assert_array_equal(sbs[..., :96, :], source)  # left2right: the left eye is the input, frame by frame
    assert not any(p.name.startswith(".") for p in (tmp_path / "png").iterdir())


def test_mv_hevc_without_a_multiview_encoder_fails_before_work(clip, tmp_path, capsys, monkeypatch):
    from s2vg.convert import convert
    from s2vg.config import ConvertConfig, OutputConfig
    from s2vg.errors import OptionError
    monkeypatch.setenv("S2VG_X265", str(tmp_path / "no-x265"))  # and none on PATH here
    with pytest.raises(OptionError, match="x265"):
        convert(clip, tmp_path / "spatial.mov", config=ConvertConfig(depth="heuristic"), output_config=OutputConfig(layout="mv-hevc"))
    assert list(tmp_path.iterdir()) == []  # no output, no state folder


def test_json_summary_states_the_memory_bound(clip, tmp_path, capsys):
    assert main(["convert", str(clip), "-o", str(tmp_path / "o.mp4"), *FAST, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    memory = summary["memory"]
    # V = 2, N = 5, C = 2 at 64 x 96: 17 * 2 * (5 + 4) + 80 * (5 + 2) bytes per pixel, and a
    # fixed 40 + 12 * 2 (SBS output) bytes per pixel plus 80 MiB.
    assert memory["render_pass_bytes"] == 64 * 96 * (17 * 2 * 9 + 80 * 7)
    assert memory["fixed_bytes"] == 64 * 96 * (40 + 12 * 2) + 80 * 2**20
    assert memory["bytes"] == max(memory["render_pass_bytes"], memory["depth_pass_bytes"]) + memory["fixed_bytes"]
    assert "N + 2C" in memory["formula"]


def test_segment_encoding_is_reproducible(tmp_path):
    """The same frames give the same segment bytes, encode after encode (x264 with cpu-independent)."""
    import hashlib

    from s2vg.jobs.render import segment_writer

    source = Path(__file__).resolve().parents[2] / "shared" / "samples" / "videos" / "davis_dolphins.mp4"
    if source.exists():  # real content: where x264 without the option was seen to vary
        frames, _ = read_frames(source, max_frames=12)
        frames = frames[:, ::4, ::4][:, :134]
    else:
        frames, _ = read_frames(write_clip(tmp_path / "clip.mp4", frames=12))
    digests = set()
    for attempt in range(6):
        path = tmp_path / f"segment{attempt}.mp4"
        with segment_writer(path, 24, frames.shape[2], frames.shape[1], {"crf": 18, "preset": "medium"}) as writer:
            writer.write(frames)
        digests.add(hashlib.sha256(path.read_bytes()).hexdigest())
    assert len(digests) == 1


def test_matroska_output_joins_segments_without_decoding_times(clip, tmp_path):
    """MKV stores no decoding times for reordered frames; the join rebuilds them (same frames as MP4)."""
    for name in ("o.mkv", "o.mp4"):
        assert main(["convert", str(clip), "-o", str(tmp_path / name), *FAST[:-3], "--quiet"]) == 0
    mkv, _ = read_frames(tmp_path / "o.mkv")
    mp4, _ = read_frames(tmp_path / "o.mp4")
    assert len(mkv) == 12
    np.testing.assert_array_equal(mkv, mp4)
