"""Classical (weight-free) inpainting of the frame matrix (DESIGN.md section 3a).

Disocclusions are filled from real pixels of the same view at other timestamps, then
from the rig's other views, then from the background side of each hole run; the
foreground side of a hole is never read.
"""

from s2vg.inpaint.classical.fill import classical_fill
from s2vg.inpaint.classical.inpainter import ClassicalInpainter

__all__ = ["ClassicalInpainter", "classical_fill"]
