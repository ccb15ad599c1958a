"""MV-HEVC (Apple spatial video): encoder detection and the one-line error when it is missing.

The detection is tested against small stand-in ``x265`` scripts that print what real
builds print; the real encoder is looked for too, and the layout is refused with a
message that names what was found and how to get a multiview build.
"""

from __future__ import annotations

import stat
from pathlib import Path

import av
import numpy as np
import pytest

from s2vg.config import OutputConfig
from s2vg.errors import OptionError
from s2vg.io.layouts import compose, compose_streams, output_paths
from s2vg.io.mp4boxes import sample_entry_children
from s2vg.io.mvhevc import (
    X265_ENV,
    AppleStereo,
    find_multiview_x265,
    parse_x265_version,
    read_apple_stereo,
    require_multiview_encoder,
)


def _fake_x265(folder: Path, version: str, multiview: bool) -> Path:
    """A script that answers --version and --help like an x265 build (banner on stderr)."""
    options = "--num-views <integer>  Number of views for multiview encoding\n" if multiview else ""
    script = folder / f"x265-{version}{'-mv' if multiview else ''}"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "x265 [info]: HEVC encoder version {version}+1-1d117be" >&2\n'
        'if [ "$1" != "--version" ]; then\n'
        f"  printf '%s' '--preset <string>  Trade off performance for compression\n{options}'\n"
        "fi\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_version_banner_is_parsed() -> None:
    assert parse_x265_version("x265 [info]: HEVC encoder version 4.1+1-1d117be") == (4, 1)
    assert parse_x265_version("x265 [info]: HEVC encoder version 3.5+1-f0c1022b6") == (3, 5)
    assert parse_x265_version("nothing here") is None


def test_detection_needs_version_4_and_multiview(tmp_path: Path) -> None:
    good = find_multiview_x265(_fake_x265(tmp_path, "4.1", multiview=True))
    assert good.usable and good.version == (4, 1) and good.multiview
    debian = find_multiview_x265(_fake_x265(tmp_path, "3.5", multiview=False))
    assert not debian.usable and debian.version == (3, 5)
    assert "x265 3.5" in debian.describe() and "without multiview" in debian.describe()
    plain_4 = find_multiview_x265(_fake_x265(tmp_path, "4.1", multiview=False))
    assert not plain_4.usable
    missing = find_multiview_x265(tmp_path / "no-such-x265")
    assert missing.path is None and not missing.usable and X265_ENV in missing.describe()


def test_missing_encoder_gives_one_line_with_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(X265_ENV, str(_fake_x265(tmp_path, "3.5", multiview=False)))
    with pytest.raises(OptionError) as caught:
        require_multiview_encoder()
    message = str(caught.value)
    assert "\n" not in message
    for part in ("mv-hevc", "x265 3.5", "without multiview", "ENABLE_MULTIVIEW=ON", "--layout sbs"):
        assert part in message
    # The layout refuses early, where outputs are planned (before any decoding).
    with pytest.raises(OptionError, match="ENABLE_MULTIVIEW"):
        output_paths(tmp_path / "clip.mp4", tmp_path, "mv-hevc")


def test_layout_is_a_valid_choice_that_packs_no_frames() -> None:
    assert OutputConfig(layout="mv-hevc").layout == "mv-hevc"
    left = np.zeros((1, 8, 8, 3), np.float32)
    # The eyes are layers of one stream: a frame-per-file pipeline must not keep one eye.
    with pytest.raises(OptionError, match="MultiviewWriter"):
        compose_streams(left, left, "mv-hevc")
    with pytest.raises(OptionError, match="MultiviewWriter"):
        compose(left, left, "mv-hevc")


@pytest.mark.skipif(
    find_multiview_x265().usable, reason="a multiview x265 is installed; the refusal without one is not testable here"
)
def test_this_machine_without_a_multiview_encoder_refuses_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(X265_ENV, raising=False)
    with pytest.raises(OptionError, match=r"needs the x265 encoder >= 4\.0 built with multiview support; found"):
        require_multiview_encoder()


def test_apple_stereo_boxes_round_trip(tmp_path: Path) -> None:
    from s2vg.io.mp4boxes import add_sample_entry_boxes
    from s2vg.io.writer import VideoWriter

    path = tmp_path / "plain.mov"
    with VideoWriter(path, fps=24, width=32, height=32, preset="ultrafast") as out:
        out.write(np.zeros((2, 32, 32, 3), np.float32))
    assert read_apple_stereo(path) is None
    stereo = AppleStereo(baseline_mm=64.0, hfov_deg=63.5, hero_eye="right")
    add_sample_entry_boxes(path, stereo.boxes(), frozenset({b"vexu", b"hfov"}))
    assert read_apple_stereo(path) == stereo
    # FFmpeg's own demuxer reads the same values into its stereo side data.
    side = _stereo_side_data(path)
    assert side["baseline_um"] == 64000 and side["hfov"] == pytest.approx(63.5)
    assert side["primary_eye"] == AV_PRIMARY_EYE_RIGHT
    with pytest.raises(OptionError):
        AppleStereo(baseline_mm=0.0, hfov_deg=60.0)
    with pytest.raises(OptionError):
        AppleStereo(baseline_mm=64.0, hfov_deg=60.0, hero_eye="both")


def _stereo_side_data(path: Path, **decoder_options: str) -> dict:
    """AVStereo3D of the first decoded frame: type, flags, view, primary_eye, baseline (um),
    horizontal disparity adjustment and field of view (rationals)."""
    import struct

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.options = dict(decoder_options)
        frame = next(container.decode(stream))
        raw = {sd.type.name: bytes(sd) for sd in frame.side_data}["STEREO3D"]
    kind, flags, view, primary, baseline, _, _, fov_num, fov_den = struct.unpack_from("<5I2i2i", raw)
    return {"type": kind, "view": view, "primary_eye": primary, "baseline_um": baseline, "hfov": fov_num / fov_den}


#: libavutil/stereo3d.h
AV_PRIMARY_EYE_LEFT, AV_PRIMARY_EYE_RIGHT = 1, 2


def _eyes(frames: int = 4, height: int = 64, width: int = 64) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:height, 0:width]
    left = np.zeros((frames, height, width, 3), np.float32)
    for i in range(frames):
        stripes = ((xx + 3 * i) // 8 % 2) * 0.4  # moving grey stripes (luma edges survive 4:2:0)
        left[i, ..., 0] = 0.2 + 0.4 * xx / width + stripes
        left[i, ..., 1] = 0.2 + 0.4 * yy / height + stripes
        left[i, ..., 2] = 0.3 + stripes
    right = np.roll(left, -4, axis=2) * 0.5  # content shifted left and darker: never mistaken for the left eye
    return left, right


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255.0**2 / max(mse, 1e-12))


@pytest.mark.skipif(not find_multiview_x265().usable, reason="no x265 >= 4.0 built with multiview support here")
def test_mv_hevc_file_has_two_layers_and_apple_metadata(tmp_path: Path) -> None:
    from s2vg.io import probe
    from s2vg.io.mvhevc import MultiviewWriter
    from s2vg.io.writer import to_uint8

    left, right = _eyes()
    stereo = AppleStereo(baseline_mm=64.0, hfov_deg=60.0)
    path = tmp_path / "spatial.mov"
    with MultiviewWriter(path, fps=24, width=64, height=64, stereo=stereo, preset="ultrafast") as out:
        out.write(left[:2], right[:2])
        out.write(left[2:], right[2:])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spatial.mov"]  # no temporary files left
    info = probe(path)
    assert (info.codec, info.width, info.height, info.frames) == ("hevc", 64, 64, 4)
    kinds = [(entry, child) for entry, child, _ in sample_entry_children(path)]
    assert (b"hvc1", b"hvcC") in kinds and (b"hvc1", b"lhvC") in kinds
    # The same vexu/hfov bytes as in test_apple_stereo_boxes_round_trip, where FFmpeg's
    # demuxer reads them back; PyAV cannot list these frames' side data (it rejects the
    # view-id entry the MV-HEVC decoder adds), so our parser checks them here.
    assert read_apple_stereo(path) == stereo
    # Both layers decode (FFmpeg's MV-HEVC decoder, all views), in order left, right.
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.options = {"view_ids": "-1"}
        decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    assert len(decoded) == 8
    base, second = np.stack(decoded[0::2]), np.stack(decoded[1::2])
    assert _psnr(base, to_uint8(left)) > 30 and _psnr(second, to_uint8(right)) > 30
    assert _psnr(base, to_uint8(right)) < 25  # the layers really are the two different eyes


def test_a_found_multiview_encoder_is_returned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(X265_ENV, str(_fake_x265(tmp_path, "4.1", multiview=True)))
    found = require_multiview_encoder()
    assert found.usable and found.path == (tmp_path / "x265-4.1-mv").resolve()


@pytest.mark.skipif(not find_multiview_x265().usable, reason="no x265 >= 4.0 built with multiview support here")
def test_convert_writes_spatial_video(tmp_path: Path) -> None:
    from s2vg.config import ConvertConfig, DepthStageConfig
    from s2vg.convert import convert
    from s2vg.io import probe
    from s2vg.io.writer import VideoWriter

    clip = tmp_path / "clip.mp4"
    with VideoWriter(clip, fps=12, width=96, height=64, preset="ultrafast") as out:
        out.write(_eyes(4, 64, 96)[0])
    summary = convert(
        clip, tmp_path, config=ConvertConfig(depth="heuristic", inpainter="classical"),
        depth_stage=DepthStageConfig(estimator="heuristic"), output_config=OutputConfig(layout="mv-hevc", preset="ultrafast"),
    )
    (path,) = map(Path, summary["outputs"])
    assert path.name == "clip_spatial.mov"
    info = probe(path)
    assert (info.codec, info.width, info.height, info.frames) == ("hevc", 96, 64, 4)
    assert {b"hvcC", b"lhvC", b"vexu", b"hfov"} <= {child for _, child, _ in sample_entry_children(path)}
    stereo = read_apple_stereo(path)
    assert stereo is not None and stereo.hero_eye == "left" and stereo.baseline_mm > 0
    assert stereo.hfov_deg == pytest.approx(39.6, abs=0.1)  # the rig's default focal: 2 atan(288 / 800)
