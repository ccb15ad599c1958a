"""The spatial jobs end to end: a matrix folder or a video in, videos and a scene folder out."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

from s2vg.config import CameraPathConfig, DepthStageConfig, OutputConfig, SpatialConfig, SpatialFitConfig
from s2vg.errors import InputError
from s2vg.geometry.build import build_frame_matrix
from s2vg.geometry.rig import CameraRig
from s2vg.io import probe
from s2vg.io.matrix_files import save_matrix
from s2vg.metrics.scenes import make_scene, render_scene, scene_rig
from s2vg.spatial.api import render, spatial

FIT = SpatialFitConfig(iterations=6, threads=1)


@pytest.fixture(scope="module")
def matrix_dir(tmp_path_factory):
    scene = make_scene("cards", height=32, width=48, seed=0)
    rig = scene_rig(scene, views=3, mode="middle2leftright", divergence_pct=4.0)
    shot = render_scene(scene, rig, 3)
    s = rig.source_index
    matrix = build_frame_matrix(torch.from_numpy(shot.colors[s]), torch.from_numpy(shot.depth[s]), rig)
    folder = tmp_path_factory.mktemp("spatial") / "matrix"
    save_matrix(matrix, folder, save_depth=True)
    return folder


@pytest.fixture(scope="module")
def fitted(matrix_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("fitted")
    summary = spatial(matrix_dir, out / "video.mp4", fit=FIT, save_scene=out / "scene", fps=Fraction(12))
    return out, summary


def test_spatial_on_a_matrix_folder_writes_a_stereo_video_and_the_scene(fitted):
    out, summary = fitted
    assert summary["outputs"] == [str(out / "video.mp4")] and summary["stereo"] and summary["layout"] == "sbs"
    info = probe(out / "video.mp4")
    assert (info.width, info.height, info.frames) == (96, 32, 3) and info.fps == Fraction(12)
    assert sorted(p.name for p in (out / "scene").iterdir()) == ["deformation.pt", "point_cloud.ply", "rig.json", "scene.json"]
    assert summary["fit"]["iterations"] == 6 and summary["views"] == 3
    assert summary["inpainter"] == "classical"  # the matrix had holes; auto chose classical without CUDA
    assert 0 < summary["baseline_m"] <= 0.1


def test_render_a_saved_scene_along_mono_and_stereo_paths(fitted, tmp_path):
    out, _ = fitted
    mono = render(out / "scene", tmp_path / "dolly.mp4", path=CameraPathConfig(path="dolly"), tile_size=4)
    assert mono["outputs"] == [str(tmp_path / "dolly.mp4")] and not mono["stereo"]
    assert (probe(tmp_path / "dolly.mp4").width, probe(tmp_path / "dolly.mp4").frames) == (48, 3)
    pair = render(out / "scene", tmp_path / "pair", path=CameraPathConfig(path="orbit", stereo=True), output_config=OutputConfig(layout="lr"))
    assert [p.split("/")[-1] for p in pair["outputs"]] == ["scene_L.mp4", "scene_R.mp4"]
    assert all(probe(p).frames == 3 for p in pair["outputs"])
    path_file = tmp_path / "path.csv"
    path_file.write_text("x,y,z,look_x,look_y,look_z,time\n" + "\n".join(f"{0.005 * i},0,0,0,0,5,{i / 2}" for i in range(5)) + "\n")
    frames = render(out / "scene", tmp_path / "frames", path=CameraPathConfig(path=str(path_file)), output_config=OutputConfig(png_sequence=True))
    assert frames["frames"] == 5 and len(list((tmp_path / "frames" / "scene_spatial").glob("*.png"))) == 5


def test_bad_inputs_give_one_line_input_errors(matrix_dir, tmp_path):
    with pytest.raises(InputError, match="lacks point_cloud.ply") as err:
        (tmp_path / "empty").mkdir()
        render(tmp_path / "empty", tmp_path / "x.mp4")
    assert "\n" not in str(err.value)
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y,z,look_x,look_y,look_z\n0,0,0,0,0,3\n0,0,0,0,0,oops\n")
    # The path file is checked before the fit runs (a long fit must not end in this error).
    with pytest.raises(InputError, match="row 3"):
        spatial(matrix_dir, tmp_path / "x.mp4", fit=SpatialFitConfig(iterations=10_000, threads=1), path=CameraPathConfig(path=str(bad)))


def test_matrix_folders_need_two_views_and_depth(tmp_path):
    colors = torch.rand(1, 2, 16, 16, 3)
    from s2vg.geometry.frame_matrix import FrameMatrix

    rig = CameraRig(width=16, height=16, focal=20.0, positions=np.zeros((1, 3)))
    one = FrameMatrix(colors, torch.ones(1, 2, 16, 16, dtype=torch.bool), torch.full((1, 2, 16, 16), 2.0), rig)
    save_matrix(one, tmp_path / "one", save_depth=True)
    with pytest.raises(InputError, match="1 view; spatial fitting needs at least 2"):
        spatial(tmp_path / "one", tmp_path / "x.mp4", fit=FIT)
    rig2 = CameraRig(width=16, height=16, focal=20.0, positions=np.array([[0.0, 0, 0], [0.01, 0, 0]]))
    two = FrameMatrix(colors.repeat(2, 1, 1, 1, 1), torch.ones(2, 2, 16, 16, dtype=torch.bool), torch.full((2, 2, 16, 16), 2.0), rig2)
    save_matrix(two, tmp_path / "nodepth")
    with pytest.raises(InputError, match="no depth.npy"):
        spatial(tmp_path / "nodepth", tmp_path / "x.mp4", fit=FIT)


def test_spatial_on_a_video_runs_depth_matrix_and_fill_first(tmp_path):
    from s2vg.io.writer import VideoWriter

    scene = make_scene("cards", height=40, width=72, seed=1)
    frames = render_scene(scene, np.zeros((1, 3)), 4).colors[0]
    with VideoWriter(tmp_path / "clip.mp4", fps=10, width=72, height=40, crf=0) as writer:
        writer.write(frames)
    summary = spatial(
        tmp_path / "clip.mp4", tmp_path / "out", fit=FIT,
        config=SpatialConfig(mode="circle", views=4, inpainter="classical", max_width=64),
        depth_stage=DepthStageConfig(estimator="heuristic"),
        path=CameraPathConfig(path="dolly"),
    )
    assert summary["frames"] == 4 and summary["size"] == [64, 36] and summary["views"] == 4
    assert summary["depth"]["estimator"] == "heuristic" and summary["rig"]["mode"] == "circle"
    assert summary["outputs"] == [str(tmp_path / "out" / "clip_spatial.mp4")]
    info = probe(summary["outputs"][0])
    assert (info.width, info.height, info.frames, info.fps) == (64, 36, 4, Fraction(10))


def test_spatial_on_one_image_writes_stereo_and_mono_images(tmp_path):
    import cv2

    scene = make_scene("border", height=40, width=64, seed=2)
    frame = render_scene(scene, np.zeros((1, 3)), 1).colors[0, 0]
    cv2.imwrite(str(tmp_path / "photo.png"), (frame[..., ::-1] * 255).round().astype(np.uint8))
    common = dict(fit=FIT, config=SpatialConfig(mode="middle2leftright", views=3, inpainter="classical"),
                  depth_stage=DepthStageConfig(estimator="heuristic"))
    pair = spatial(tmp_path / "photo.png", tmp_path / "out", **common)
    assert pair["outputs"] == [str(tmp_path / "out" / "photo_LRF_Full_SBS.png")]
    assert cv2.imread(pair["outputs"][0]).shape == (40, 128, 3)
    mono = spatial(tmp_path / "photo.png", tmp_path / "out", path=CameraPathConfig(path="dolly"), **common)
    assert mono["outputs"] == [str(tmp_path / "out" / "photo_spatial.png")] and mono["frames"] == 1
