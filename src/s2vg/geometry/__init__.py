"""Pure geometry on tensors: the rig, depth normalisation, forward warping, plane cleanup.

No files, no printing, no config objects inside the functions: arguments are tensors
and numbers. :func:`build_frame_matrix` composes them into a :class:`FrameMatrix`.
"""

from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.geometry.rig import CameraRig, default_focal, view_positions

__all__ = ["CameraRig", "FrameMatrix", "default_focal", "view_positions"]
