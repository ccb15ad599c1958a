"""Depth quality measures on inverse depth: closed-form cases, invariances, bad input, and the tracked-subject scene."""

from __future__ import annotations

import numpy as np
import pytest

from s2vg.errors import InputError, OptionError
from s2vg.metrics.depth_quality import (
    abs_rel,
    align_scale_shift,
    delta_accuracy,
    depth_quality,
    ordinal_accuracy,
    temporal_flicker,
    tracked_subject_scene,
)
from s2vg.metrics.scenes import render_scene


def truth_clip(t: int = 4, h: int = 24, w: int = 32, seed: int = 0) -> np.ndarray:
    """``(t, h, w)`` positive inverse depth with many distinct values."""
    rng = np.random.default_rng(seed)
    return (0.1 + rng.random((t, h, w))).astype(np.float64)


def test_affine_map_of_truth_scores_perfectly():
    g = truth_clip()
    pred = 3.0 * g + 2.0
    aligned, s, b = align_scale_shift(pred, g)
    np.testing.assert_allclose([s, b], [1 / 3, -2 / 3], atol=1e-12)
    np.testing.assert_allclose(aligned, g, atol=1e-12)
    q = depth_quality(pred, g)
    assert q.abs_rel == pytest.approx(0.0, abs=1e-12) and q.delta1 == 1.0
    assert q.ordinal == 1.0 and q.reversed == 0.0 and q.pairs > 1000
    assert q.flicker == pytest.approx(0.0, abs=1e-12)


def test_alignment_is_least_squares():
    rng = np.random.default_rng(1)
    g = truth_clip(1)[0]
    pred = 0.5 * g + 0.1 * rng.standard_normal(g.shape)
    _, s, b = align_scale_shift(pred, g)
    ref_s, ref_b = np.polyfit(pred.ravel(), g.ravel(), 1)
    np.testing.assert_allclose([s, b], [ref_s, ref_b], rtol=1e-10)


def test_reversed_order_scores_zero_and_is_not_flipped_by_alignment():
    g = truth_clip()
    pred = -g
    aligned, s, b = align_scale_shift(pred, g)
    assert s == 0.0 and b == pytest.approx(g.mean())  # clamped: the best constant, never a flip
    order = ordinal_accuracy(pred, g)
    assert order.accuracy == 0.0 and order.reversed == 1.0
    # Alignment clamped to a constant: AbsRel of the constant mean.
    assert abs_rel(aligned, g) == pytest.approx(np.mean(np.abs(g.mean() - g) / g))


def test_constant_plane_orders_nothing():
    g = truth_clip()
    order = ordinal_accuracy(np.full_like(g, 0.5), g)
    assert order.accuracy == 0.0 and order.reversed == 0.0 and order.pairs > 0  # ties count as wrong, not reversed
    q = depth_quality(np.full_like(g, 0.5), g)
    assert q.delta1 == pytest.approx(np.mean(np.maximum(g.mean(axis=(1, 2), keepdims=True) / g, g / g.mean(axis=(1, 2), keepdims=True)) < 1.25))


def test_ordinal_counts_only_pairs_that_differ_by_more_than_ten_percent():
    # Two levels 1.0 and 1.05 (5 % apart): no pair counts; 1.0 and 2.0: the cross pairs count.
    g = np.ones((1, 10, 10))
    g[:, :, 5:] = 1.05
    assert ordinal_accuracy(np.random.default_rng(0).random(g.shape), g).pairs == 0
    g[:, :, 5:] = 2.0
    order = ordinal_accuracy(g.copy(), g, pairs=2000, seed=3)
    assert order.accuracy == 1.0
    assert 0.4 < order.pairs / 2000 < 0.6  # about half of the random pairs straddle the two halves
    # Same seed, same pairs: deterministic.
    assert ordinal_accuracy(g, g, pairs=2000, seed=3) == order


def test_ordinal_is_invariant_to_monotone_maps_and_masks_invalid_truth():
    g = truth_clip(2)
    g[0, :4] = np.nan
    assert ordinal_accuracy(np.exp(5 * g), g).accuracy == 1.0
    assert np.isnan(abs_rel(g, np.full_like(g, np.nan)))


def test_delta_rejects_non_positive_aligned_values():
    g = np.ones((4, 4))
    a = np.ones((4, 4))
    a[0] = -1.0
    a[1] = 1.3
    assert delta_accuracy(a, g) == pytest.approx(0.5)


def test_flicker_closed_form_alternating_offset():
    # Static truth, prediction = truth + c * (-1)^t: after one clip alignment with scale s
    # the aligned prediction jumps by 2 s c every frame and the truth not at all.
    g = np.repeat(truth_clip(1), 6, axis=0)
    c = 0.05
    offsets = c * (-1.0) ** np.arange(6)[:, None, None]
    pred = g + offsets
    aligned, s, _ = align_scale_shift(pred, g)
    var_g = g.var()
    assert s == pytest.approx(var_g / (var_g + c * c))
    assert temporal_flicker(aligned, g) == pytest.approx(2 * s * c / g.mean())
    assert temporal_flicker(g, g) == 0.0


def test_flicker_follows_the_true_flow():
    # A pattern sliding one pixel right per frame: pixel-wise the truth changes, along the flow it does not.
    base = truth_clip(1, 8, 40)[0]
    g = np.stack([np.roll(base, k, axis=1) for k in range(4)])
    flow = np.zeros(g.shape + (2,))
    flow[..., 0] = -1.0  # each pixel's surface was one pixel to the left a frame earlier
    fv = np.ones(g.shape, bool)
    fv[:, :, 0] = False  # wrapped column
    noisy = g + 0.01 * np.random.default_rng(0).standard_normal(g.shape)
    plain = temporal_flicker(noisy, g)
    moving = temporal_flicker(noisy, g, flow=flow, flow_valid=fv)
    assert temporal_flicker(g, g, flow=flow, flow_valid=fv) == 0.0
    # Noise of sigma 0.01 per frame: the difference of two frames has mean |.| = 2 * 0.01 / sqrt(pi).
    expected = 2 * 0.01 / np.sqrt(np.pi) / g.mean()
    assert moving == pytest.approx(expected, rel=0.15) and plain == pytest.approx(expected, rel=0.15)


def test_bad_input_is_one_line():
    with pytest.raises(InputError, match="shape"):
        depth_quality(np.zeros((2, 4, 4)), np.ones((2, 4, 5)))
    with pytest.raises(InputError, match="no valid pixels"):
        align_scale_shift(np.zeros((4, 4)), np.zeros((4, 4)))
    with pytest.raises(OptionError, match="pairs"):
        ordinal_accuracy(np.ones((4, 4)), np.ones((4, 4)), pairs=0)
    with pytest.raises(OptionError, match="layout"):
        tracked_subject_scene(layout="top")


@pytest.mark.parametrize("layout", ["centre", "bottom", "left"])
def test_tracked_subject_stands_still_and_fills_the_frame(layout):
    scene = tracked_subject_scene(128, 224, layout=layout)
    shot = render_scene(scene, np.zeros((1, 3)), frames=5)
    subject = len(scene.cards) - 1
    assert scene.cards[subject].depth_m == scene.nearest_depth
    assert np.all(shot.shifts[subject] == 0)  # the camera follows it
    assert shot.shifts[0, -1, 0] >= 2  # the wall slides (about 0.6 px per frame at this width)
    share = (shot.ids[0] == subject).mean()
    assert 0.4 < share < 0.8


def test_eval_depth_quality_cli(tmp_path, capsys):
    import json

    import cv2

    from s2vg.cli import main

    rng = np.random.default_rng(0)
    h, w = 48, 80
    left = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    disp = np.full((h, w), 4.0, np.float32)
    disp[12:36, 30:50] = 12.0
    folder = tmp_path / "Scene"
    folder.mkdir()
    cv2.imwrite(str(folder / "im0.png"), left)
    cv2.imwrite(str(folder / "im1.png"), np.roll(left, -4, axis=1))
    cv2.imwrite(str(folder / "disp0.pfm"), disp)
    out = tmp_path / "r"
    code = main(["eval", "--depth-quality", "--scenes", "cards", "--frames", "3", "--height", "48", "--width", "80",
                 "--pair", str(folder), "-o", str(out), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and (out / "depth.md").is_file() and (out / "depth.json").is_file()
    cases = {r["case"] for r in summary["rows"]}
    assert cases == {"cards", "tracked", "tracked-bottom", "tracked-left", "Scene still", "Scene 2-frame"}
    assert {r["estimator"] for r in summary["rows"]} == {"heuristic", "heuristic-dominant", "plane", "prior"}
    plane = [r for r in summary["rows"] if r["estimator"] == "plane"]
    assert all(r["ordinal"] == 0.0 and r["reversed"] == 0.0 for r in plane)
    assert main(["eval", "--depth-quality", "--disparity", "d.pfm", "-o", str(out)]) == 2
