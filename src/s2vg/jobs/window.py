"""The sliding render window: the frame matrix of consecutive chunks, each frame warped once.

A chunk of ``N`` frames is rendered with ``C`` context frames on each side, so consecutive
chunks share ``2C`` of their ``N + 2C`` frames (and more when ``N < C``). Rebuilding every
window warps each frame ``(N + 2C) / N`` times: 9 times at 4K, where the memory budget
allows one frame per chunk. This window keeps one buffer of ``N + 2C`` frames of the
matrix, moves the frames the next window shares to its front, and decodes, converts and
warps only the new ones. The frames themselves are the source view of the matrix, so no
other copy of them is held.

The fill writes into the window in place (invented pixels in the chunk's own frames and the
few before them, with :func:`~s2vg.inpaint.classical.fill.classical_fill`'s ``frames``, and
real pixels copied from other frames in all of them); before a frame serves in the next
window its unknown pixels get back the zeros the warp gave them, so every window holds
exactly what a fresh :func:`~s2vg.geometry.build.build_frame_matrix` of its frames would.
"""

from __future__ import annotations

import numpy as np
import torch

from s2vg.geometry.build import build_frame_matrix
from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.geometry.rig import CameraRig


class MatrixWindow:
    """A buffer of up to ``capacity`` consecutive frames of a video's frame matrix.

    Args:
        rig: the cameras (its height and width are the frame size).
        capacity: the most frames a window holds (``N + 2C``).
        warp: False keeps the source frames only (for a matrix built elsewhere, as the
            outpainted one); :meth:`matrix` then refuses.
    """

    def __init__(self, rig: CameraRig, capacity: int, *, warp: bool = True) -> None:
        if capacity < 1:
            raise ValueError(f"a render window holds at least one frame; got capacity {capacity}")
        self.rig = rig
        self.warp = warp
        views = rig.views if warp else 1
        shape = (views, capacity, rig.height, rig.width)
        self._colors = torch.zeros((*shape, 3), dtype=torch.float32)
        self._known = torch.zeros(shape, dtype=torch.bool)
        self._depth = torch.zeros(shape, dtype=torch.float32)
        self._source = rig.source_index if warp else 0
        self.start = self.stop = 0  # frames [start, stop) of the video, in slots 0 .. stop - start
        self._dirty = False  # a fill may have written into unknown pixels

    @property
    def capacity(self) -> int:
        return int(self._colors.shape[1])

    def shared(self, lo: int) -> int:
        """How many frames a window starting at frame ``lo`` can keep from this one."""
        return self.stop - lo if self.start <= lo < self.stop else 0

    def advance(self, lo: int, hi: int, frames: np.ndarray, depth_m: torch.Tensor) -> None:
        """Hold frames ``[lo, hi)``: keep those shared with the current window, add the rest.

        Args:
            lo, hi: the new window, ``hi - lo <= capacity``.
            frames: ``(hi - lo - shared(lo), H, W, 3)`` float32 in [0, 1], the frames after
                the shared ones.
            depth_m: ``(len(frames), H, W)`` float32 depth in metres of those frames.
        """
        n = hi - lo
        keep = self.shared(lo)
        if not 0 < n <= self.capacity or keep > n or len(frames) != n - keep or len(depth_m) != n - keep:
            raise ValueError(f"window [{lo}, {hi}) with {len(frames)} new frames does not follow [{self.start}, {self.stop})"
                             f" within capacity {self.capacity}")
        shift = lo - self.start
        if self._dirty:
            self._restore(range(shift, shift + keep))
        if shift:
            for slot in range(keep):  # ascending: a slot is read before it is overwritten
                for array in (self._colors, self._known, self._depth):
                    array[:, slot] = array[:, slot + shift]
        self.start, self.stop = lo, hi
        if n == keep:
            return
        new = slice(keep, n)
        if self.warp:
            out = FrameMatrix(colors=self._colors[:, new], known=self._known[:, new], depth=self._depth[:, new], rig=self.rig)
            build_frame_matrix(torch.from_numpy(np.ascontiguousarray(frames, dtype=np.float32)), depth_m, self.rig, out=out)
        else:
            self._colors[0, new] = torch.from_numpy(np.asarray(frames, dtype=np.float32))
            self._known[0, new] = True
            self._depth[0, new] = depth_m

    def frames(self) -> torch.Tensor:
        """``(n, H, W, 3)`` the window's source frames (a view of the buffer)."""
        return self._colors[self._source, : self.stop - self.start]

    def source_depth(self) -> torch.Tensor:
        """``(n, H, W)`` the window's depth in metres (a view of the buffer)."""
        return self._depth[self._source, : self.stop - self.start]

    def matrix(self) -> FrameMatrix:
        """The window's frame matrix (views of the buffer).

        The caller may fill its unknown pixels in place; the frames the next window keeps
        get the warp's zeros back there when it advances.
        """
        if not self.warp:
            raise ValueError("this render window holds the source frames only")
        n = self.stop - self.start
        self._dirty = True
        return FrameMatrix(colors=self._colors[:, :n], known=self._known[:, :n], depth=self._depth[:, :n], rig=self.rig)

    def _restore(self, slots: range) -> None:
        """Zero colour and depth at the unknown pixels of ``slots``, as the warp left them."""
        for slot in slots:
            hole = ~self._known[:, slot]
            self._colors[:, slot][hole] = 0.0
            self._depth[:, slot][hole] = 0.0
        self._dirty = False
