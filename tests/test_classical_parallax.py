"""The map between views of a parallel rig, in closed form."""

from __future__ import annotations

import numpy as np
import torch

from s2vg.config import RigConfig
from s2vg.geometry.rig import CameraRig
from s2vg.geometry.warp import forward_warp
from s2vg.inpaint.classical.parallax import Parallax


def test_parallax_between_views_closed_form():
    offsets = np.array([[0.0, 0.0], [0.06, 0.0], [0.03, 0.0]])
    sensor = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 0.0]])
    to_source = Parallax.between(offsets, sensor, 400.0, 1, 0)
    assert to_source == Parallax(24.0, 0.0, -4.0, 0.0)
    # A point 2 m away seen at x = 10 in view 1: the source saw it at 10 + 24 / 2 - 4.
    x, y = to_source(np.array([10.0]), np.array([5.0]), np.array([0.5]))
    assert x[0] == 18.0 and y[0] == 5.0
    # Going there and back is the identity.
    back = Parallax.between(offsets, sensor, 400.0, 0, 1)
    bx, _ = back(x, y, np.array([0.5]))
    assert bx[0] == 10.0
    # View 1 to view 2 is the composition through the source.
    to_mid = Parallax.between(offsets, sensor, 400.0, 1, 2)
    mx, _ = to_mid(np.array([10.0]), np.array([5.0]), np.array([0.5]))
    sx, _ = Parallax.between(offsets, sensor, 400.0, 0, 2)(x, y, np.array([0.5]))
    assert mx[0] == sx[0]


def test_parallax_inverts_the_warp_of_a_convergent_rig():
    # Every pixel the warp puts into the right view maps back onto its source pixel.
    rig = CameraRig.from_config(RigConfig(views=2, baseline=0.06, focal=400.0), 8, 40).with_convergence(5.0 / 0.06)
    depth = torch.full((1, 8, 40), 3.0, dtype=torch.float64)
    depth[0, :, 10:20] = 1.5
    columns = torch.arange(40, dtype=torch.float64).expand(1, 8, 40)[..., None]
    right = rig.views - 1
    warped, known, z = forward_warp(columns, depth, rig.intrinsics(), rig.tgt_from_src()[right], rig.intrinsics(view=right))
    offsets = rig.positions[:, :2] - rig.positions[rig.source_index, :2]
    sensor = np.stack([rig.principal_shift, np.zeros(rig.views)], axis=1)
    to_source = Parallax.between(offsets, sensor, rig.focal, right, rig.source_index)
    y, x = np.nonzero(known[0].numpy())
    sx, _ = to_source(x.astype(np.float64), y.astype(np.float64), 1.0 / z[0].numpy()[y, x])
    assert known.any()
    assert np.abs(sx - warped[0, y, x, 0].numpy()).max() <= 0.5
