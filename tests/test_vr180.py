"""VR180 layout: half-equirectangular projection (closed forms) and Spherical Video V2 boxes
read back by our parser and by FFmpeg's own demuxer (side data of decoded frames)."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from s2vg.errors import InputError, OptionError
from s2vg.io import probe
from s2vg.io.layouts import ALL_LAYOUTS, LAYOUTS, compose_streams, output_paths, output_size, spherical_metadata_for
from s2vg.io.mp4boxes import VR180, SphericalMetadata, add_spherical_metadata, read_spherical_metadata
from s2vg.io.vr180 import VR180_MAX_EYE_PX, field_of_view, to_half_equirect, vr180_eye_size
from s2vg.io.writer import VideoWriter

# FFmpeg's enums (libavutil/spherical.h, stereo3d.h) as found in frame side data.
AV_SPHERICAL_EQUIRECTANGULAR_TILE = 2
AV_STEREO3D_SIDEBYSIDE = 1


def _frames(t: int = 3, h: int = 48, w: int = 64) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.random((t, h, w, 3), dtype=np.float32)


def test_eye_size_keeps_the_centre_resolution_and_is_capped() -> None:
    assert vr180_eye_size(64, focal=100.0) == 314  # round(pi * 100), even
    assert vr180_eye_size(576) == VR180_MAX_EYE_PX  # pi * 800 = 2513 > cap
    assert output_size(64, 48, "vr180", focal=100.0) == (628, 314)
    assert vr180_eye_size(63, focal=10.3) % 2 == 0
    with pytest.raises(OptionError):
        vr180_eye_size(64, focal=-1.0)


def test_a_column_lands_at_its_viewing_angle() -> None:
    h, w, f = 40, 64, 50.0
    image = np.zeros((1, h, w, 3), np.float32)
    column = 50  # right of centre: x = 50.5 - 32 = 18.5 px -> atan(18.5 / 50) = 20.3 deg
    image[:, :, column] = 1.0
    eq = to_half_equirect(image, focal=f)[0]
    n = eq.shape[0]
    equator = eq[n // 2, :, 0]
    j = float(np.sum(np.arange(n) * equator) / np.sum(equator))  # centroid of the line
    lon = ((j + 0.5) / n - 0.5) * 180.0
    assert lon == pytest.approx(math.degrees(math.atan((column + 0.5 - w / 2) / f)), abs=180.0 / n)


def test_picture_covers_its_field_of_view_and_the_rest_is_black() -> None:
    h, w, f = 40, 64, 50.0
    eq = to_half_equirect(np.ones((1, h, w, 3), np.float32), focal=f)[0]
    n = eq.shape[0]
    lit = np.flatnonzero(eq[n // 2, :, 0] > 0.5)
    hfov, vfov = field_of_view(w, h, f)
    assert (lit[-1] - lit[0] + 1) * 180.0 / n == pytest.approx(hfov, abs=2 * 180.0 / n)
    lit_v = np.flatnonzero(eq[:, n // 2, 0] > 0.5)
    assert (lit_v[-1] - lit_v[0] + 1) * 180.0 / n == pytest.approx(vfov, abs=2 * 180.0 / n)
    # Corners of the hemisphere see nothing of a pinhole picture.
    assert eq[0, 0].max() == 0.0 and eq[-1, -1].max() == 0.0 and eq[n // 2, 0].max() == 0.0
    # The centre of the picture is the centre of the eye, unchanged.
    assert eq[n // 2, n // 2, 0] == pytest.approx(1.0, abs=1e-6)


def test_side_by_side_eyes_and_torch_match_numpy() -> None:
    left, right = _frames(), _frames()[:, :, ::-1].copy()
    (sbs,) = compose_streams(left, right, "vr180")
    n = vr180_eye_size(64)
    assert sbs.shape == (3, n, 2 * n, 3)
    np.testing.assert_array_equal(sbs[:, :, :n], to_half_equirect(left))
    np.testing.assert_array_equal(sbs[:, :, n:], to_half_equirect(right))
    (ours,) = compose_streams(torch.from_numpy(left), torch.from_numpy(right), "vr180")
    assert isinstance(ours, torch.Tensor)
    np.testing.assert_allclose(ours.numpy(), sbs, atol=1e-6)


def test_layout_names_and_metadata_choice(tmp_path: Path) -> None:
    assert "vr180" in ALL_LAYOUTS and "vr180" not in LAYOUTS
    assert output_paths(tmp_path / "clip.mov", tmp_path, "vr180") == [tmp_path / "clip_180_LR.mp4"]
    assert spherical_metadata_for("vr180") == VR180
    assert spherical_metadata_for("sbs") is None


def _sbs(tmp_path: Path, name: str, spherical: SphericalMetadata | None) -> tuple[Path, np.ndarray]:
    left, right = _frames(4, 32, 48), _frames(4, 32, 48)[:, ::-1].copy()
    (sbs,) = compose_streams(left, right, "vr180")
    path = tmp_path / name
    with VideoWriter(path, fps=24, width=sbs.shape[2], height=sbs.shape[1], preset="ultrafast", spherical=spherical) as out:
        out.write(sbs)
    return path, sbs


def _decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def test_writer_tags_vr180_and_ffmpeg_reads_it(tmp_path: Path) -> None:
    tagged, sbs = _sbs(tmp_path, "vr.mp4", VR180)
    plain, _ = _sbs(tmp_path, "plain.mp4", None)
    assert read_spherical_metadata(tagged) == VR180
    assert read_spherical_metadata(plain) is None
    info = probe(tagged)
    assert (info.width, info.height, info.frames) == (sbs.shape[2], sbs.shape[1], 4)
    # The index precedes the media (+faststart): chunk offsets were moved with the
    # insertion, so every frame decodes to exactly what the untagged file holds.
    for a, b in zip(_decoded(tagged), _decoded(plain), strict=True):
        np.testing.assert_array_equal(a, b)
    with av.open(str(tagged)) as container:
        frame = next(container.decode(video=0))
        side = {sd.type.name: bytes(sd) for sd in frame.side_data}
    # AVSphericalMapping: projection, yaw, pitch, roll, bound_left, bound_top, bound_right, bound_bottom, padding.
    projection, yaw, pitch, roll, left, top, right, bottom = struct.unpack_from("<8I", side["SPHERICAL"])
    assert projection == AV_SPHERICAL_EQUIRECTANGULAR_TILE
    assert (left, top, right, bottom) == (0x40000000, 0, 0x40000000, 0)
    assert (yaw, pitch, roll) == (0, 0, 0)
    assert struct.unpack_from("<i", side["STEREO3D"])[0] == AV_STEREO3D_SIDEBYSIDE


def test_tagging_twice_replaces_and_media_after_index_is_untouched(tmp_path: Path) -> None:
    # A file with its moov at the end (no +faststart): no offset changes are needed.
    path = tmp_path / "late_moov.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        for i in range(3):
            frame = av.VideoFrame.from_ndarray(np.full((32, 64, 3), 40 * i, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    before = _decoded(path)
    top_down = SphericalMetadata(stereo_mode="top-bottom", bounds=(0.0, 0.0, 0.0, 0.0), yaw=10.5)
    add_spherical_metadata(path, top_down)
    size = path.stat().st_size
    assert read_spherical_metadata(path) == SphericalMetadata(
        stereo_mode="top-bottom", bounds=(0.0, 0.0, 0.0, 0.0), yaw=10.5, source="s2vg"
    )
    add_spherical_metadata(path, VR180)
    add_spherical_metadata(path, VR180)
    assert read_spherical_metadata(path) == VR180
    assert path.stat().st_size == size  # same box sizes: replaced, not appended
    for a, b in zip(_decoded(path), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_bad_inputs_are_rejected(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all")
    with pytest.raises(InputError):
        add_spherical_metadata(text)
    with pytest.raises(OptionError, match="MP4/MOV"):
        VideoWriter(tmp_path / "x.mkv", fps=24, width=64, height=32, spherical=VR180)
    with pytest.raises(InputError):
        SphericalMetadata(stereo_mode="diagonal")
    with pytest.raises(InputError):
        SphericalMetadata(bounds=(0.0, 0.0, 0.5, 0.5))


def test_convert_writes_tagged_vr180(tmp_path: Path) -> None:
    from s2vg.config import ConvertConfig, DepthStageConfig, OutputConfig
    from s2vg.convert import convert

    clip = tmp_path / "clip.mp4"
    frames = _frames(4, 32, 48)
    with VideoWriter(clip, fps=12, width=48, height=32, preset="ultrafast") as out:
        out.write(frames)
    summary = convert(
        clip, tmp_path, config=ConvertConfig(depth="heuristic", inpainter="classical"),
        depth_stage=DepthStageConfig(estimator="heuristic"), output_config=OutputConfig(layout="vr180", preset="ultrafast"),
    )
    (path,) = map(Path, summary["outputs"])
    n = vr180_eye_size(48)
    assert path.name == "clip_180_LR.mp4"
    info = probe(path)
    assert (info.width, info.height, info.frames) == (2 * n, n, 4)
    assert read_spherical_metadata(path) == VR180
