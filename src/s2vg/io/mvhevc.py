"""Apple spatial video (MV-HEVC): finding a multiview HEVC encoder, or saying what is missing.

Apple's players (Vision Pro, iPhone) play stereo video as one *multiview* HEVC stream:
the left eye is the base layer, the right eye a second layer predicted from it, in a
QuickTime file whose sample entry carries the layer configuration (``lhvC``) and the
stereo description (``vexu``: eyes, baseline, hero eye; ``hfov``). FFmpeg's ``libx265``
wrapper (the one PyAV ships) encodes one layer only; multiview encoding needs the x265
command-line encoder 4.0 or newer *built with* ``-DENABLE_MULTIVIEW=ON``, which Linux
distributions do not ship (Debian 12 has x265 3.5).

:func:`find_multiview_x265` looks for such an encoder: the ``S2VG_X265`` environment
variable, else ``x265`` on ``PATH``; it is multiview-capable when ``x265 --help`` lists
``--num-views``. :func:`require_multiview_encoder` raises a one-line
:class:`~s2vg.errors.OptionError` that names what was found and how to get the rest.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from s2vg.errors import OptionError

#: Environment variable that may name the x265 binary to use.
X265_ENV = "S2VG_X265"

#: Oldest x265 release with multiview (MV-HEVC) encoding.
MIN_X265_VERSION = (4, 0)

HOW_TO_GET = (
    "build x265 >= 4.0 from its source (multicoreware x265_git) with "
    "`cmake ../source -DENABLE_MULTIVIEW=ON && make` (about 30 s) and put it on PATH or in "
    f"{X265_ENV}, or choose --layout sbs or vr180"
)


@dataclass(frozen=True)
class X265Probe:
    """What was found when looking for x265.

    Attributes:
        path: the binary, or None when none was found.
        version: (major, minor) parsed from ``x265 --version``, or None.
        multiview: whether ``--help`` lists the multiview options.
    """

    path: Path | None
    version: tuple[int, int] | None
    multiview: bool

    @property
    def usable(self) -> bool:
        """True for x265 >= 4.0 built with multiview support."""
        return self.path is not None and self.multiview and (self.version or (0, 0)) >= MIN_X265_VERSION

    def describe(self) -> str:
        """Short words for what was found ("no x265 on PATH", "x265 3.5 without multiview" ...)."""
        if self.path is None:
            return f"no x265 on PATH and {X265_ENV} unset"
        version = ".".join(map(str, self.version)) if self.version else "of unknown version"
        kind = "with" if self.multiview else "without"
        return f"x265 {version} at {self.path} {kind} multiview support"


def _run(binary: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            [str(binary), *args], capture_output=True, text=True, timeout=20, check=False, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout + done.stderr


def parse_x265_version(text: str) -> tuple[int, int] | None:
    """(major, minor) from x265's banner, e.g. ``"HEVC encoder version 4.1+1-1d117be"`` -> (4, 1)."""
    match = re.search(r"version\s+(\d+)\.(\d+)", text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def find_multiview_x265(binary: str | Path | None = None) -> X265Probe:
    """Look for an x265 binary and ask it whether it encodes multiview HEVC.

    Args:
        binary: the binary to test; defaults to None: ``$S2VG_X265``, else ``x265`` on PATH.
    """
    if binary is None:
        binary = os.environ.get(X265_ENV) or shutil.which("x265")
    if binary is None or not Path(binary).is_file():
        return X265Probe(None, None, False)
    path = Path(binary)
    version = parse_x265_version(_run(path, "--version"))
    multiview = "--num-views" in _run(path, "--fullhelp") + _run(path, "--help")
    return X265Probe(path, version, multiview)


def require_multiview_encoder() -> X265Probe:
    """The multiview x265 to encode ``mv-hevc`` with.

    Raises:
        OptionError: none is usable (one line: what was found, what is missing, how to
            get it), or one is found but this s2vg build cannot write MV-HEVC files with it yet.
    """
    probe = find_multiview_x265()
    if not probe.usable:
        raise OptionError(
            f"layout mv-hevc needs the x265 encoder >= 4.0 built with multiview support; found {probe.describe()}; {HOW_TO_GET}"
        )
    # The encoder is there, but packaging its two-layer stream with Apple's boxes (lhvC,
    # vexu, hfov) has never been run against a real multiview x265 in this project.
    raise OptionError(
        f"layout mv-hevc: found {probe.describe()}, but this s2vg cannot yet package its stream for Apple players; "
        "choose --layout sbs or vr180"
    )
