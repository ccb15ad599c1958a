"""Typed exceptions of the library. Only :mod:`s2vg.cli` turns them into messages.

Every message is one line: which input, what is wrong, the value seen, and the fix.
"""

from __future__ import annotations


class S2VGError(Exception):
    """Base class of every error s2vg raises on purpose."""

    exit_code = 1


class InputError(S2VGError, ValueError):
    """An input file or array is unusable (missing, unreadable, wrong shape, bad values)."""

    exit_code = 2


class OptionError(S2VGError, ValueError):
    """An option or a combination of options is impossible."""

    exit_code = 2


class MissingWeightsError(S2VGError, RuntimeError):
    """Model weights are neither cached nor reachable."""

    exit_code = 2


class OutputError(S2VGError, OSError):
    """The output location cannot be written."""

    exit_code = 2
