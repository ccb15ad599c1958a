"""Camera paths: look-at poses, stereo eyes, dolly and orbit ranges, path files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from s2vg.errors import InputError, OptionError
from s2vg.geometry.rig import CameraRig
from s2vg.spatial.paths import build_path, dolly_path, look_at_pose, orbit_path, read_path_file, stereo_eyes


@pytest.fixture
def rig() -> CameraRig:
    positions = np.array([[-0.04, 0, 0], [-0.01, 0, 0], [0.0, 0, 0], [0.02, 0, 0], [0.04, 0, 0]])
    return CameraRig(width=64, height=48, focal=50.0, positions=positions, mode="middle2leftright")


def test_look_at_pose_is_a_rotation_whose_z_points_at_the_target():
    pose = look_at_pose(np.array([0.1, -0.2, 0.0]), np.array([0.3, 0.1, 2.0]))
    rot = pose[:3, :3]
    assert np.allclose(rot.T @ rot, np.eye(3), atol=1e-12) and np.linalg.det(rot) == pytest.approx(1.0)
    forward = np.array([0.2, 0.3, 2.0]) / np.linalg.norm([0.2, 0.3, 2.0])
    assert np.allclose(rot[:, 2], forward)
    assert rot[1, 0] == pytest.approx(0.0, abs=1e-12)  # no roll: x stays horizontal
    assert np.allclose(look_at_pose(np.zeros(3), np.array([0, 0, 5.0])), np.eye(4))


def test_stereo_eyes_from_divergence_and_convergence(rig):
    centre = build_path("stereo", rig, 3, look_at_depth=2.0)
    left, right, baseline = stereo_eyes(centre, rig, baseline=None, divergence=2.5, depth_range=(2.0, 8.0), convergence=None)
    # 2.5 % of 64 px at 2 m with f = 50 px: B = 0.025 * 64 * 2 / 50 = 0.064 m (inside the rig's 0.08 m).
    assert baseline == pytest.approx(0.064)
    assert torch.allclose(right.cam_to_world[:, 0, 3] - left.cam_to_world[:, 0, 3], torch.full((3,), 0.064, dtype=torch.float64))
    assert torch.allclose(0.5 * (right.cam_to_world[:, :3, 3] + left.cam_to_world[:, :3, 3]), centre.cam_to_world[:, :3, 3])
    # Divergence asking for more than the fitted range is clamped to the rig's width.
    _, _, wide = stereo_eyes(centre, rig, baseline=None, divergence=10.0, depth_range=(2.0, 8.0), convergence=None)
    assert wide == pytest.approx(0.08)
    # Convergence 1 puts the nearest depth (2 m) at zero disparity.
    left, right, _ = stereo_eyes(centre, rig, baseline=0.05, divergence=2.5, depth_range=(2.0, 8.0), convergence=1.0)
    point = torch.tensor([0.0, 0.0, 2.0, 1.0], dtype=torch.float64)
    u = []
    for eye in (left, right):
        cam = torch.linalg.inv(eye.cam_to_world[0]) @ point
        u.append(float(eye.Ks[0, 0, 0] * cam[0] / cam[2] + eye.Ks[0, 0, 2]))
    assert u[0] == pytest.approx(u[1], abs=1e-9)


def test_dolly_and_orbit_stay_inside_the_rig(rig):
    dolly = dolly_path(rig, 5)
    xs = dolly.cam_to_world[:, 0, 3]
    assert xs[0].item() == pytest.approx(-0.04) and xs[-1].item() == pytest.approx(0.04)
    assert torch.allclose(dolly.cam_to_world[:, :3, :3], torch.eye(3, dtype=torch.float64).expand(5, 3, 3))
    orbit = orbit_path(rig, 8, look_at_depth=3.0)
    pos = orbit.cam_to_world[:, :3, 3]
    assert (pos[:, 0].abs() <= 0.04 + 1e-12).all() and (pos[:, 1].abs() <= 0.02 + 1e-12).all()
    # Every orbit camera looks at the target.
    target = torch.tensor([0.0, 0.0, 3.0], dtype=torch.float64)
    to_target = torch.nn.functional.normalize(target - pos, dim=-1)
    assert torch.allclose(orbit.cam_to_world[:, :3, 2], to_target, atol=1e-12)
    assert torch.allclose(orbit.times, torch.linspace(0, 7, 8, dtype=torch.float64))


def test_csv_path_file_with_and_without_times(tmp_path, rig):
    f = tmp_path / "p.csv"
    f.write_text("x,y,z,look_x,look_y,look_z,time\n0,0,0,0,0,3,0\n0.01,0,0,0,0,3,1.5\n# a comment\n0.02,0,0,0,0,3,3\n")
    path = read_path_file(f, rig, 4)
    assert len(path) == 3 and torch.allclose(path.times, torch.tensor([0.0, 1.5, 3.0], dtype=torch.float64))
    assert torch.allclose(path.cam_to_world[:, 0, 3], torch.tensor([0.0, 0.01, 0.02], dtype=torch.float64))
    f.write_text("look_z,look_y,look_x,z,y,x\n3,0,0,0,0,0.01\n3,0,0,0,0,0.02\n")  # any column order
    path = read_path_file(f, rig, 4)
    assert torch.allclose(path.times, torch.tensor([0.0, 3.0], dtype=torch.float64))
    assert path.cam_to_world[1, 0, 3].item() == pytest.approx(0.02)


def test_json_path_file(tmp_path, rig):
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"frames": [{"position": [0, 0, 0], "look_at": [0, 0, 2]}, {"position": [0.01, 0, 0], "look_at": [0, 0, 2]}]}))
    path = build_path(str(f), rig, 5, look_at_depth=2.0)
    assert len(path) == 2 and torch.allclose(path.times, torch.tensor([0.0, 4.0], dtype=torch.float64))


@pytest.mark.parametrize(
    "text, message",
    [
        ("x,y,z,look_x,look_y,look_z\n0,0,0,0,0,3\n0,0,zero,0,0,3\n", r"row 3: 'zero' is not a number"),
        ("x,y,z,look_x,look_y,look_z\n0,0,0,0,0,3\n0,0,0,0,0\n", r"row 3: expected 6 values"),
        ("x,y,z,look_x,look_y\n0,0,0,0,0\n", r"header lacks look_z"),
        ("x,y,z,look_x,look_y,look_z\n0,0,0,0,0,0\n", r"row 2: look-at point equals the camera position"),
        ("x,y,z,look_x,look_y,look_z,time\n0,0,0,0,0,3,9\n", r"row 2: time 9 is outside the clip's frames 0..3"),
        ("x,y,z,look_x,look_y,look_z\n0,0,0,0,0,nan\n", r"row 2: 'nan' is not a finite number"),
        ("", r"is empty"),
    ],
)
def test_bad_csv_rows_are_named(tmp_path, rig, text, message):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(InputError, match=message):
        read_path_file(f, rig, 4)


@pytest.mark.parametrize(
    "data, message",
    [
        ([{"position": [0, 0, 0], "look_at": [0, 0, 2]}, {"position": [0, 0], "look_at": [0, 0, 2]}], r"entry 1: position and look_at must be lists of 3"),
        ([{"position": [0, 0, 0]}], r"entry 0: expected an object with \"position\" and \"look_at\""),
        ({"cameras": []}, r"non-empty list"),
        ([{"position": [0, 0, 0], "look_at": [0, 0, 2], "time": 1}, {"position": [0, 0, 0], "look_at": [0, 0, 2]}], r"entry 1: time is missing"),
    ],
)
def test_bad_json_entries_are_named(tmp_path, rig, data, message):
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(data))
    with pytest.raises(InputError, match=message):
        read_path_file(f, rig, 4)


def test_unknown_path_names_and_missing_files(tmp_path, rig):
    with pytest.raises(OptionError, match="stereo, dolly, orbit"):
        build_path("spiral", rig, 4, look_at_depth=2.0)
    with pytest.raises(InputError, match="cannot read path file"):
        build_path(str(tmp_path / "nope.csv"), rig, 4, look_at_depth=2.0)
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(InputError, match="not valid JSON"):
        build_path(str(tmp_path / "broken.json"), rig, 4, look_at_depth=2.0)
