"""Video and image input/output (PyAV, OpenCV) and stereo layouts.

Frames are ``(T, H, W, 3)`` float32 RGB in [0, 1] everywhere in this package.
"""

from s2vg.io.frames import Chunk, iter_chunks, iter_frames, read_frames, read_image
from s2vg.io.info import AudioStreamInfo, SubtitleStreamInfo, VideoInfo, probe

__all__ = [
    "AudioStreamInfo",
    "Chunk",
    "SubtitleStreamInfo",
    "VideoInfo",
    "iter_chunks",
    "iter_frames",
    "probe",
    "read_frames",
    "read_image",
]
