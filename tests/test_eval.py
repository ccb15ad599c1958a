"""Evaluation cases (scenes, real-clip round trip, stereo pairs), scoring, ``run_eval`` and ``run_demo``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from s2vg.config import DemoConfig, EvalConfig
from s2vg.errors import InputError, MissingWeightsError, OptionError
from s2vg.geometry.build import build_frame_matrix
from s2vg.geometry.rig import CameraRig
from s2vg.metrics.cases import fill_invalid_disparity, pair_case, round_trip_case, scene_case
from s2vg.metrics import lr_consistency
from s2vg.metrics.eval import parse_method, run_eval
from s2vg.metrics.pairs import load_disparity, run_pair_eval, score_pair
from s2vg.metrics.scenes import make_scene, render_scene
from s2vg.metrics.score import no_reference_scores, score_filled

H, W, T = 48, 80, 4


def _truth_fill(case):
    """A fill that copies the truth into every hole of the scored views."""
    colors = case.matrix.colors.clone()
    for v in case.scored_views:
        holes = ~case.matrix.known[v]
        colors[v][holes] = torch.from_numpy(case.truth[v])[holes]
    return case.matrix.replace(colors=colors)


class CopyTruth:
    """An "inpainter" that knows the answer (for a perfect score)."""

    name = "truth"

    def __init__(self, truth: np.ndarray) -> None:
        self.truth = truth

    def __call__(self, matrix):
        colors = torch.where(matrix.known[..., None], matrix.colors, torch.from_numpy(self.truth))
        return matrix.replace(colors=colors)


def test_scene_case_and_a_fill_copied_from_the_truth_scores_perfectly():
    case = scene_case(make_scene("cards", height=H, width=W), frames=T, views=3, divergence_pct=8.0, cleanup=False)
    assert case.scored_views == (2,) and case.matrix.views == 3
    holes = case.holes
    assert holes.shape == (1, T, H, W) and 0 < holes.mean() < 0.3
    scores = score_filled(case, _truth_fill(case))
    assert scores["psnr_holes"] == math.inf and scores["psnr_all"] == math.inf
    assert scores["ssim_holes"] == pytest.approx(1.0) and scores["ssim_all"] == pytest.approx(1.0)
    assert scores["flicker_excess"] == 0.0 and scores["flicker_truth"] == 0.0  # exact motion: steady truth
    black = case.matrix.colors.clone()
    black[~case.matrix.known] = 0
    worse = score_filled(case, black.numpy())
    assert worse["psnr_holes"] < 15 and worse["flicker_holes"] > 0


def test_no_reference_scores_of_a_perfect_fill():
    """A truth fill of a scene: the output's own flow explains its motion, and the pair is
    left-right consistent wherever the warp is exact (nearest sampling)."""
    case = scene_case(make_scene("crossing", height=H, width=W), frames=T, views=2, divergence_pct=8.0, cleanup=False)
    perfect = no_reference_scores(case, _truth_fill(case))
    assert perfect["lr_mae"] < 1e-3  # only where an occluder hidden in the source is missing
    black = case.matrix.colors.clone()
    black[~case.matrix.known] = 0
    assert no_reference_scores(case, black.numpy())["flicker_self"] > perfect["flicker_self"]


def test_round_trip_holes_are_the_disocclusions_from_the_virtual_source():
    """With true depth, the target pixels lost on the way to a virtual source and back are the
    holes of warping the true source view to the target (the protocol's premise)."""
    scene = make_scene("crossing", height=H, width=W, seed=3)
    baseline = 0.08 * W * scene.nearest_depth / scene.focal
    shot = render_scene(scene, np.array([[0.0, 0, 0], [baseline, 0, 0]]), T)  # virtual source, real target
    case = round_trip_case(shot.colors[1], shot.depth[1], baseline=baseline, focal=scene.focal, cleanup=False)
    target = case.scored_views[0]
    assert target == 1 and np.array_equal(case.truth[1], shot.colors[1])
    known = case.matrix.known[1].numpy()
    assert np.array_equal(case.matrix.colors[1].numpy()[known], shot.colors[1][known])  # exact both ways
    rig = CameraRig(width=W, height=H, focal=scene.focal, positions=np.array([[0.0, 0, 0], [baseline, 0, 0]]))
    direct = build_frame_matrix(torch.from_numpy(shot.colors[0]), torch.from_numpy(shot.depth[0]), rig, cleanup=False)
    disagree = known != direct.known[1].numpy()
    assert disagree.mean() < 0.005, disagree.mean()
    assert 0.02 < case.details["hole_fraction"] < 0.3
    perfect = score_filled(case, _truth_fill(case))
    assert perfect["psnr_holes"] == math.inf and perfect["flicker_excess"] == 0.0


def test_round_trip_on_the_real_sample_clip(astronaut_dir):
    from s2vg.geometry.depth import relative_to_depth
    from s2vg.io import read_frames

    frames, _ = read_frames(astronaut_dir / "images", max_frames=3)
    inv = np.load(astronaut_dir / "depth.npz")["refined"][:3]
    depth = relative_to_depth(torch.from_numpy(inv)).numpy()
    case = round_trip_case(frames, depth, name="astronaut", divergence_pct=3.0)
    assert case.details["max_disparity_px"] == pytest.approx(0.03 * frames.shape[2])
    assert 0.01 < case.details["hole_fraction"] < 0.2 and case.flow.shape == (1, 3, *frames.shape[1:3], 2)
    assert (case.matrix.colors[1].numpy()[~case.matrix.known[1].numpy()] == 0).all()  # nothing of the truth inside holes
    assert score_filled(case, _truth_fill(case))["psnr_holes"] == math.inf


def test_fill_invalid_disparity_from_the_background_side():
    d = np.array([[5.0, np.nan, np.nan, 2.0, np.inf], [np.nan] * 5, [1.0, 3.0, np.nan, 4.0, 4.0]])
    filled = fill_invalid_disparity(d)
    assert np.array_equal(filled[0], [5, 2, 2, 2, 2])
    assert np.array_equal(filled[2], [1, 3, 3, 4, 4])
    assert np.array_equal(filled[1], np.minimum(filled[0], filled[2]))  # then along columns
    with pytest.raises(InputError, match="no finite"):
        fill_invalid_disparity(np.full((2, 2), np.nan))
    with pytest.raises(InputError, match="negative"):
        fill_invalid_disparity(np.array([[1.0, -2.0]]))


def _rendered_pair(kind: str = "border"):
    scene = make_scene(kind, height=H, width=W, seed=4)
    baseline = 0.08 * W * scene.nearest_depth / scene.focal
    shot = render_scene(scene, np.array([[0.0, 0, 0], [baseline, 0, 0]]), 1)
    disp = scene.focal * baseline / shot.depth[0, 0].astype(np.float64)
    return shot.colors[0, 0], shot.colors[1, 0], disp, scene


def test_pair_case_with_invalid_background_disparity():
    left, right, disp, scene = _rendered_pair()
    broken = disp.copy()
    far = np.isclose(disp, disp.min())
    broken[np.nonzero(far)[0][::7], np.nonzero(far)[1][::7]] = np.nan  # invalid inside the background
    broken[0, :] = np.inf
    case = pair_case(left, right, broken, cleanup=False)
    exact = pair_case(left, right, disp, cleanup=False)
    assert torch.equal(case.matrix.known, exact.matrix.known) and torch.equal(case.matrix.colors, exact.matrix.colors)
    known = case.matrix.known[1, 0].numpy()
    assert np.array_equal(case.matrix.colors[1, 0].numpy()[known], right[known])
    with pytest.raises(InputError, match="disparity"):
        pair_case(left, right, disp[:, :-1])


def test_score_pair_ranks_a_perfect_fill_first():
    left, right, disp, _ = _rendered_pair()
    truth = np.stack([left, right])[:, None]  # (V, T, H, W, 3) of the pair case
    result = score_pair(left, right, disp, ["black", "nearest-background", ("truth", CopyTruth(truth))])
    res = result["results"]
    assert res["truth"]["psnr_holes"] == math.inf
    assert res["black"]["psnr_holes"] < res["nearest-background"]["psnr_holes"] < math.inf
    assert res["truth"]["lr_mae"] <= res["black"]["lr_mae"] + 1e-9
    # Bilinear sampling of a textured pair is close, not exact; a one-pixel error is far worse.
    assert result["truth_lr"]["checked"] > 0.8 and result["truth_lr"]["mae"] < 0.05
    assert lr_consistency(left, np.roll(right, 1, axis=1), disp)["mae"] > 2 * result["truth_lr"]["mae"]
    # The renderer is consistent with nearest-pixel warping, so nearest sampling is exact.
    assert lr_consistency(left, right, disp, interpolation="nearest")["mae"] == 0.0


def test_pair_files(tmp_path):
    left, right, disp, _ = _rendered_pair("cards")
    for name, img in (("left.png", left), ("right.png", right)):
        cv2.imwrite(str(tmp_path / name), cv2.cvtColor((img * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR))
    pfm = disp.astype(np.float32).copy()
    pfm[0, :3] = np.inf
    cv2.imwrite(str(tmp_path / "disp.pfm"), pfm)
    loaded = load_disparity(tmp_path / "disp.pfm")
    assert np.isnan(loaded[0, :3]).all() and np.allclose(loaded[1:], disp[1:], atol=1e-5)
    kitti = np.round(disp * 256).astype(np.uint16)
    kitti[2, 2] = 0
    cv2.imwrite(str(tmp_path / "disp.png"), kitti)
    k = load_disparity(tmp_path / "disp.png")
    assert np.isnan(k[2, 2]) and np.allclose(k[3], disp[3], atol=1 / 256)
    summary = run_pair_eval(tmp_path / "left.png", tmp_path / "right.png", tmp_path / "disp.pfm", tmp_path / "out", methods=["black", "classical"])
    for path in summary["outputs"].values():
        assert Path(path).is_file()
    data = json.loads(Path(summary["outputs"]["json"]).read_text())
    assert set(data["results"]) == {"black", "classical"}
    assert data["results"]["classical"]["psnr_holes"] > data["results"]["black"]["psnr_holes"]
    with pytest.raises(InputError, match="does not exist"):
        load_disparity(tmp_path / "nope.pfm")


def test_parse_method():
    assert parse_method("classical") == ("classical", "classical", {})
    assert parse_method("classical:edge_coverage=false,temporal=TRUE")[2] == {"edge_coverage": False, "temporal": True}
    label, name, options = parse_method("classical:smooth_sigma=0,motion=static,views=False")
    assert name == "classical" and options == {"smooth_sigma": 0, "motion": "static", "views": False}
    with pytest.raises(OptionError):
        parse_method("classical:smooth_sigma")


def test_run_eval_writes_tables_and_figure(tmp_path, monkeypatch):
    import s2vg.inpaint.base as base

    real_get = base.get_inpainter

    def get(name, **options):
        if name == "svg":
            raise MissingWeightsError("test: no weights for svg")
        return real_get(name, **options)

    monkeypatch.setattr(base, "get_inpainter", get)
    # A small real-looking clip with its depth file (relative inverse depth), and one missing clip.
    scene = make_scene("pan", height=H, width=W, seed=9)
    shot = render_scene(scene, np.zeros((1, 3)), T)
    clip = tmp_path / "clip"
    clip.mkdir()
    for i, frame in enumerate(shot.colors[0]):
        cv2.imwrite(str(clip / f"{i:05d}.png"), cv2.cvtColor((frame * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR))
    np.save(tmp_path / "inv.npy", 1.0 / shot.depth[0])
    config = EvalConfig(
        scenes=("cards", "fence"),
        height=H,
        width=W,
        frames=T,
        methods=("black", "nearest-background", "classical", "classical:smooth_sigma=0", "svg"),
        clips=(f"{clip}={tmp_path / 'inv.npy'}", str(tmp_path / "missing.mp4")),
        no_reference=True,
    )
    summary = run_eval(config, tmp_path / "report")
    assert summary["methods"] == ["black", "nearest-background", "classical", "classical:smooth_sigma=0"]
    assert "svg" in summary["skipped"] and any("missing.mp4" in k for k in summary["skipped"])
    assert [c["name"] for c in summary["cases"]] == ["scene:cards", "scene:fence", "round-trip:clip"]
    assert {r["method"] for r in summary["summary"]["scenes"]} == set(summary["methods"])
    assert set(summary["margins"]) == {"black", "nearest-background"}
    assert summary["margins"]["black"]["psnr_gain_mean"] > 0
    data = json.loads(Path(summary["outputs"]["json"]).read_text())
    assert data["cases"][0]["results"]["black"]["psnr_holes"] < data["cases"][0]["results"]["classical"]["psnr_holes"]
    md = Path(summary["outputs"]["markdown"]).read_text()
    assert md.count("### ") == 3 and "| classical |" in md and summary["table"] in md
    assert "self-flow flicker" in md and "flicker_self" in data["cases"][2]["results"]["classical"]
    figure = cv2.imread(summary["outputs"]["figure"])
    assert figure is not None and figure.shape[0] > 3 * (min(H, W) + 38)  # one crop row per case + charts


def test_run_eval_rejects_bad_options(tmp_path):
    with pytest.raises(OptionError, match="scene"):
        EvalConfig(scenes=("forest",))
    with pytest.raises(OptionError, match="unknown inpainter"):
        run_eval(EvalConfig(scenes=("cards",), height=H, width=W, frames=2, methods=("nope",), clips=()), tmp_path / "r")
    from s2vg.errors import OutputError

    with pytest.raises(OutputError):
        run_eval(EvalConfig(scenes=("cards",), height=H, width=W, frames=2, methods=("black",), clips=()), tmp_path / "no" / "such")


@pytest.mark.filterwarnings("ignore:no depth model weights")
def test_run_demo(tmp_path):
    summary = run_demo_small(tmp_path)
    for key in ("input", "true depth", "estimated depth", "comparison"):
        assert Path(summary["outputs"][key]).is_file()
    image = cv2.imread(summary["outputs"]["comparison"])
    assert image.shape[1] >= 4 * 112  # input | result (true depth) | result (estimated) | truth
    true = summary["scores"]["true depth"]
    assert true["psnr_all"] > 20 and true["psnr_holes"] > 10
    assert summary["depth_error"]["estimator"] == "heuristic" or summary["depth_error"]["delta1"] > 0
    assert summary["inpainter"] in ("classical", "svg")


def run_demo_small(tmp_path):
    from s2vg.metrics.demo import run_demo

    return run_demo(DemoConfig(scene="cards", height=64, width=112, frames=4), tmp_path / "demo")
