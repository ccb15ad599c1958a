"""Video and image input/output (PyAV, OpenCV) and stereo layouts.

Frames are ``(T, H, W, 3)`` float32 RGB in [0, 1] everywhere in this package.
"""

from s2vg.io.frames import Chunk, iter_chunks, iter_frames, read_frames, read_image
from s2vg.io.info import AudioStreamInfo, SubtitleStreamInfo, VideoInfo, describe, probe
from s2vg.io.layouts import (
    LAYOUTS,
    compose,
    compose_streams,
    frame_packing_for,
    output_paths,
    output_size,
)
from s2vg.io.writer import ImageSequenceWriter, ImageWriter, VideoWriter, open_writer

__all__ = [
    "LAYOUTS",
    "AudioStreamInfo",
    "Chunk",
    "ImageSequenceWriter",
    "ImageWriter",
    "SubtitleStreamInfo",
    "VideoInfo",
    "VideoWriter",
    "compose",
    "compose_streams",
    "describe",
    "frame_packing_for",
    "iter_chunks",
    "iter_frames",
    "open_writer",
    "output_paths",
    "output_size",
    "probe",
    "read_frames",
    "read_image",
]
