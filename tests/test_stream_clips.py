"""Synthetic clips for the streaming, resume, batch and Ray tests, and a check of what they hold."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def write_clip(path: Path, frames: int = 24, height: int = 64, width: int = 96, seed: int = 0,
               fps: Fraction = Fraction(24), audio: bool = False, chunk: int = 16) -> Path:
    """A textured background panning 1 px per frame with a nearer square moving 3 px per frame.

    Written chunk by chunk (bounded memory at any length), H.264 at crf 0 with an optional
    silent stereo AAC track. Parallax lets the weight-free depth estimator see two layers.
    """
    rng = np.random.default_rng(seed)
    texture = rng.random((height, width + frames + 8, 3), dtype=np.float32)
    square = rng.random((height // 3, width // 4, 3), dtype=np.float32) * 0.5 + 0.5
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"crf": "0", "preset": "ultrafast"}
        stream_audio = None
        if audio:
            stream_audio = out.add_stream("aac", rate=48000)
            stream_audio.layout = "stereo"
        for start in range(0, frames, chunk):
            for t in range(start, min(frames, start + chunk)):
                frame = texture[:, t : t + width].copy()
                x = (3 * t) % (width - square.shape[1])
                frame[height // 3 : height // 3 + square.shape[0], x : x + square.shape[1]] = square
                picture = av.VideoFrame.from_ndarray((frame * 255).astype(np.uint8), format="rgb24")
                for packet in video.encode(picture):
                    out.mux(packet)
        if stream_audio is not None:
            samples_needed = int(frames / fps * 48000)
            for k in range(0, samples_needed, 1024):
                af = av.AudioFrame.from_ndarray(np.zeros((2, 1024), np.float32), format="fltp", layout="stereo")
                af.sample_rate, af.pts = 48000, k
                for packet in stream_audio.encode(af):
                    out.mux(packet)
        for stream in (video, stream_audio):
            if stream is not None:
                for packet in stream.encode(None):
                    out.mux(packet)
    return path


def test_synthetic_clip_streams_back(tmp_path):
    from s2vg.io import iter_chunks, probe

    path = write_clip(tmp_path / "clip.mp4", frames=20, audio=True, chunk=7)
    info = probe(path)
    assert (info.frames, info.width, info.height, len(info.audio)) == (20, 96, 64, 1)
    chunks = list(iter_chunks(path, 8))
    assert [c.start for c in chunks] == [0, 8, 16] and sum(len(c.frames) for c in chunks) == 20
    # The square (rows 21..41, 24 px wide) moves 3 px per frame, the background 1 px
    # (compared two frames apart, so that shifts are even and 4:2:0 chroma lines up).
    frames = chunks[0].frames
    square_moved = np.abs(frames[2, 22:40, 6:30] - frames[0, 22:40, 0:24]).mean()
    background_moved = np.abs(frames[2, 2:18, 0:80] - frames[0, 2:18, 2:82]).mean()
    unmoved = np.abs(frames[2, 22:40, 6:30] - frames[0, 22:40, 6:30]).mean()
    assert square_moved < 0.02 and background_moved < 0.02 and unmoved > 0.1
