"""The ``classical`` inpainter: weight-free, deterministic fill of a frame matrix."""

from __future__ import annotations

import dataclasses

import torch

from s2vg.config import ClassicalFillConfig
from s2vg.errors import InputError, OptionError
from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.inpaint.classical.fill import classical_fill
from s2vg.progress import SILENT, Progress


class ClassicalInpainter:
    """Fills disocclusions from real pixels of other timestamps and views, then from the
    background side of each hole (DESIGN.md section 3a).

    Args:
        config: all options; defaults to ``ClassicalFillConfig()``.
        **overrides: individual fields of :class:`~s2vg.config.ClassicalFillConfig`
            that replace those of ``config`` (so ``get_inpainter("classical", seam_px=0)``
            works).

    Calling it with a :class:`FrameMatrix` returns a new matrix whose ``colors`` are filled
    everywhere, ``known`` unchanged (it still marks what is real), known pixels untouched,
    and ``depth`` filled with the background depth each invented pixel was taken from.
    """

    name = "classical"

    def __init__(self, config: ClassicalFillConfig | None = None, **overrides: object) -> None:
        config = config if config is not None else ClassicalFillConfig()
        fields = {f.name for f in dataclasses.fields(ClassicalFillConfig)}
        unknown = sorted(set(overrides) - fields)
        if unknown:
            raise OptionError(
                f"unknown option(s) {', '.join(unknown)} for the classical inpainter; "
                f"choose from {', '.join(sorted(fields))}"
            )
        self.config = dataclasses.replace(config, **overrides) if overrides else config

    #: ``__call__`` takes ``in_place`` and ``frames`` (see :func:`s2vg.inpaint.outpaint.inpaint_outpainted`).
    fills_in_place = True
    fills_frame_range = True

    def __call__(self, matrix: FrameMatrix, progress: Progress = SILENT, *, in_place: bool = False,
                 frames: slice = slice(None)) -> FrameMatrix:
        """Fill ``matrix``; see the class docstring.

        ``in_place`` writes the fill into ``matrix.colors`` and ``matrix.depth`` themselves
        when they are float32 on the CPU (the caller gives the matrix up; no copy is made).
        ``frames`` (a slice of timestamps, step 1) fills only those; the others are read as
        sources and keep their holes (see :func:`~s2vg.inpaint.classical.fill.classical_fill`).
        """
        if not isinstance(matrix, FrameMatrix):
            raise InputError(f"the classical inpainter needs a FrameMatrix; got {type(matrix).__name__}")
        if not matrix.colors.is_floating_point():
            raise InputError(f"frame matrix colors must be float in [0, 1]; got dtype {matrix.colors.dtype}")
        device = matrix.colors.device
        native = all(x.device.type == "cpu" and x.dtype == torch.float32 for x in (matrix.colors, matrix.depth))
        colors, depth = classical_fill(
            matrix.colors.detach().to("cpu", torch.float32).numpy(),
            matrix.known.detach().cpu().numpy().astype(bool, copy=False),
            matrix.depth.detach().to("cpu", torch.float32).numpy(),
            matrix.rig.positions,
            matrix.rig.focal,
            matrix.source_index,
            self.config,
            progress,
            in_place=in_place and native,
            frames=frames,
            principal_shift=matrix.rig.principal_shift,
        )
        if native:
            # float32 on the CPU: the fill copied (or kept) the known pixels bit for bit.
            return matrix.replace(colors=torch.from_numpy(colors), depth=torch.from_numpy(depth))
        # Known pixels are taken from the input itself, so no dtype round trip touches them.
        known = matrix.known.to(device)
        return matrix.replace(
            colors=torch.where(known[..., None], matrix.colors, torch.from_numpy(colors).to(device, matrix.colors.dtype)),
            depth=torch.where(known, matrix.depth, torch.from_numpy(depth).to(device, matrix.depth.dtype)),
        )
