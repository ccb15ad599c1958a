"""What makes a generated result reproducible, written into the output files.

:func:`generation_metadata` turns the generation info (prompt, seed, model and every
resolved number) into container tags: ``title`` = the prompt and ``comment`` = one JSON
object (MP4/MOV store both as iTunes-style atoms, Matroska as tags; FFmpeg and PyAV read
them back as ``container.metadata``). :func:`tag_video` adds tags to a finished video by
stream copy (no re-encode), under a temporary name renamed when whole; Spherical Video
V2 boxes (VR180), which a remux would drop, are written again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from s2vg.errors import OutputError

#: Keys of the generation info that reproduce a result.
REPRODUCE_KEYS = ("prompt", "image", "model", "pipeline", "seed", "steps", "guidance", "negative_prompt",
                  "height", "width", "frames", "fps")


#: Tags a demuxer reports that the muxer writes itself.
_MUXER_KEYS = frozenset({"major_brand", "minor_version", "compatible_brands", "encoder"})


def generation_metadata(info: dict[str, Any]) -> dict[str, str]:
    """Container tags of a generation: ``title`` (the prompt) and ``comment`` (JSON with
    ``s2vg_generate`` holding :data:`REPRODUCE_KEYS`)."""
    record = {key: info.get(key) for key in REPRODUCE_KEYS}
    return {"title": str(info.get("prompt", "")), "comment": json.dumps({"s2vg_generate": record}, sort_keys=True)}


def read_generation(path: str | Path) -> dict[str, Any] | None:
    """The ``s2vg_generate`` record of a video written by ``s2vg generate``, else None."""
    import av

    with av.open(str(path)) as container:
        comment = container.metadata.get("comment")
    try:
        return json.loads(comment)["s2vg_generate"] if comment else None
    except (ValueError, KeyError, TypeError):
        return None


def tag_video(path: str | Path, metadata: dict[str, str]) -> None:
    """Add container ``metadata`` to the video at ``path`` in place (stream copy).

    Raises:
        OutputError: the file cannot be rewritten.
    """
    import av

    from s2vg.io.mp4boxes import add_spherical_metadata, read_spherical_metadata
    from s2vg.io.writer import _temporary_name

    path = Path(path)
    mp4 = path.suffix.lower() in (".mp4", ".mov", ".m4v")
    spherical = read_spherical_metadata(path) if mp4 else None
    tmp = _temporary_name(path)
    try:
        with av.open(str(path)) as source, av.open(str(tmp), mode="w", options={"movflags": "+faststart"} if mp4 else {}) as out:
            kept = {k: v for k, v in source.metadata.items() if k not in _MUXER_KEYS}
            out.metadata.update({**kept, **metadata})
            streams = {}
            for stream in source.streams:
                if stream.type in ("video", "audio", "subtitle"):
                    streams[stream.index] = out.add_stream_from_template(stream)
            for packet in source.demux():
                if packet.stream.index in streams and packet.dts is not None:
                    packet.stream = streams[packet.stream.index]
                    out.mux(packet)
        if spherical is not None:
            add_spherical_metadata(tmp, spherical)
        os.replace(tmp, path)
    except (av.error.FFmpegError, OSError) as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write the generation metadata into {str(path)!r} ({exc}); check the output folder") from None
