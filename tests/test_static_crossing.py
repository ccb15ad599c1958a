"""End to end: a card crossing a wall before a static camera, converted through the CLI.

With true metric depth every wall pixel the right eye needs beside the card was seen by
the left eye in another frame, so the right eye must show it exactly (the PNG output is
lossless), and the card's edge must not be grown into the revealed wall (the warp's
crack closing, :mod:`s2vg.geometry.cleanup`). Closed form: the wall sits at 6 m (4 px of
disparity at f = 400 px, b = 6 cm), the card at 1 m (24 px).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from s2vg.cli import main

H, W, T = 48, 160, 9
CARD_X0, CARD_W = 30, 40
TOP, CARD_H = 12, 24


def _scene(speed: int):
    rng = np.random.default_rng(5)
    wall = (rng.random((H, W + 5, 3)) * 200 + 30).astype(np.uint8)
    card = np.zeros((CARD_H, CARD_W, 3), np.uint8)
    card[..., 0] = 250
    left = np.empty((T, H, W, 3), np.uint8)
    right = np.empty_like(left)
    depth = np.full((T, H, W), 6.0, np.float32)
    revealed = np.zeros((T, H, W), bool)
    for t in range(T):
        x0 = CARD_X0 + speed * t
        left[t] = wall[:, :W]
        left[t, TOP : TOP + CARD_H, x0 : x0 + CARD_W] = card
        depth[t, TOP : TOP + CARD_H, x0 : x0 + CARD_W] = 1.0
        right[t] = wall[:, 4 : 4 + W]
        right[t, TOP : TOP + CARD_H, x0 - 24 : x0 - 24 + CARD_W] = card
        # Right-eye wall columns whose left-eye point (x + 4) the card covers.
        revealed[t, TOP : TOP + CARD_H, x0 - 24 + CARD_W : x0 + CARD_W - 4] = True
    return left, depth, right, revealed


@pytest.mark.parametrize("speed", [10, 6])
def test_revealed_wall_is_copied_exactly_and_the_card_edge_is_not_grown(tmp_path, speed):
    left, depth, right, revealed = _scene(speed)
    frames = tmp_path / "left"
    frames.mkdir()
    for t, frame in enumerate(left):
        cv2.imwrite(str(frames / f"{t:04d}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    np.save(tmp_path / "depth.npy", depth)
    out = tmp_path / "out"
    assert main(["convert", str(frames), "-o", str(out), "--png-sequence", "--depth", str(tmp_path / "depth.npy"),
                 "--depth-kind", "metric", "--focal", "400", "--baseline", "0.06", "--views", "2", "--quiet"]) == 0
    files = sorted(out.rglob("*.png"))
    assert len(files) == T
    eye = np.stack([cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB) for f in files])[:, :, W:]
    # Every revealed wall pixel is real at another time: at 10 px a frame in the right view
    # itself (two frames earlier, or for the first frames once the card has passed); at 6 px
    # a frame a tenth of it only in the left view (from the right eye the card covers the
    # point whenever the left eye sees it).
    diff = np.abs(eye.astype(int) - right.astype(int)).max(axis=-1)
    assert (diff[revealed] <= 1).mean() >= 0.99, f"{(diff[revealed] > 1).mean():.3f} of the revealed wall is wrong"
    # The column beside the card's right edge in the right eye is wall, not card red.
    edge = np.array([CARD_X0 + speed * t - 24 + CARD_W for t in range(T)])
    assert (diff[np.arange(T)[:, None], np.arange(TOP, TOP + CARD_H)[None], edge[:, None]] <= 1).all()


@pytest.mark.parametrize("sensor_shift", [8, -8])
def test_convergence_reads_the_same_points_as_a_parallel_rig(sensor_shift):
    # A sensor shift of a whole number of pixels moves the right view as a whole, so the
    # revealed wall must be as exact as without it: the fill's steps that read the source
    # view (here the left eye's pixels at other times, the card moving 6 px a frame) go
    # through the same map as the warp. Ignoring the shift put 19 % of the wall wrong.
    import torch

    from s2vg.config import RigConfig
    from s2vg.geometry.build import build_frame_matrix
    from s2vg.geometry.rig import CameraRig
    from s2vg.inpaint.classical import ClassicalInpainter

    left, depth, right, revealed = _scene(6)
    rig = CameraRig.from_config(RigConfig(views=2, baseline=0.06, focal=400.0), H, W)
    rig = rig.with_convergence(sensor_shift / 0.06)
    assert rig.principal_shift is not None and rig.principal_shift[-1] == sensor_shift
    matrix = build_frame_matrix(torch.from_numpy(left.astype(np.float32) / 255.0), torch.from_numpy(depth), rig)
    eye = np.rint(ClassicalInpainter()(matrix).colors[-1].numpy() * 255.0).astype(int)
    # The convergent view at x shows the parallel view's x - shift.
    eye = np.roll(eye, -sensor_shift, axis=2)
    inside = np.zeros(W, bool)
    inside[max(0, -sensor_shift) : W - max(0, sensor_shift)] = True
    diff = np.abs(eye - right.astype(int)).max(axis=-1)
    wall = revealed & inside
    assert (diff[wall] <= 1).mean() >= 0.99, f"{(diff[wall] > 1).mean():.3f} of the revealed wall is wrong"
