"""MV-HEVC (Apple spatial video): encoder detection and the one-line error when it is missing.

The detection is tested against small stand-in ``x265`` scripts that print what real
builds print; the real encoder is looked for too, and the layout is refused with a
message that names what was found and how to get a multiview build.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from s2vg.config import OutputConfig
from s2vg.errors import OptionError
from s2vg.io.layouts import compose, compose_streams, output_paths
from s2vg.io.mvhevc import X265_ENV, find_multiview_x265, parse_x265_version, require_multiview_encoder


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


def test_layout_is_a_valid_choice_with_two_layers() -> None:
    import numpy as np

    assert OutputConfig(layout="mv-hevc").layout == "mv-hevc"
    left = np.zeros((1, 8, 8, 3), np.float32)
    right = np.ones((1, 8, 8, 3), np.float32)
    base, second = compose_streams(left, right, "mv-hevc")
    assert base is left and second is right
    with pytest.raises(OptionError):
        compose(left, right, "mv-hevc")


@pytest.mark.skipif(
    find_multiview_x265().usable, reason="a multiview x265 is installed; the refusal without one is not testable here"
)
def test_this_machine_without_a_multiview_encoder_refuses_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(X265_ENV, raising=False)
    with pytest.raises(OptionError, match=r"needs the x265 encoder >= 4\.0 built with multiview support; found"):
        require_multiview_encoder()


def test_a_found_multiview_encoder_is_not_used_silently(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Packaging for Apple players is not implemented: even a good encoder gives a clear refusal.
    monkeypatch.setenv(X265_ENV, str(_fake_x265(tmp_path, "4.1", multiview=True)))
    with pytest.raises(OptionError, match="cannot yet package"):
        require_multiview_encoder()
