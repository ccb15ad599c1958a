"""The weight-free heuristic estimator and the depth stage, on synthetic clips with a known depth order."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from s2vg.config import DepthStageConfig
from s2vg.depth import HeuristicDepthEstimator, get_depth_estimator, run_depth_stage, temporal_change
from s2vg.errors import InputError, OptionError


def texture(h: int, w: int, seed: int, base: tuple[float, float, float]) -> np.ndarray:
    """Smooth random colour texture ``(h, w, 3)`` float32 in [0, 1] around ``base``."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.random((h, w, 3)).astype(np.float32), (0, 0), 2.0)
    noise = (noise - noise.mean()) / noise.std()
    return np.clip(np.asarray(base, np.float32) + 0.12 * noise, 0, 1)


def parallax_clip(t: int = 12, h: int = 96, w: int = 160, bg_speed: float = 1.0, fg_speed: float = 4.0, size: int = 32, seed: int = 0):
    """A camera translating sideways: the far background slides by ``bg_speed`` px/frame, a near square by ``fg_speed``.

    Returns frames ``(t, h, w, 3)`` float32 and the square's mask ``(t, h, w)`` bool.
    """
    background = texture(h, w + int(bg_speed * t) + 2, seed, (0.3, 0.5, 0.7))
    square = texture(size, size, seed + 1, (0.9, 0.5, 0.2))
    frames, masks = [], []
    for k in range(t):
        x_bg = int(round(bg_speed * k))
        frame = background[:, x_bg : x_bg + w].copy()
        x0, y0 = int(round(20 + fg_speed * k)), (h - size) // 2
        frame[y0 : y0 + size, x0 : x0 + size] = square
        mask = np.zeros((h, w), bool)
        mask[y0 : y0 + size, x0 : x0 + size] = True
        frames.append(frame)
        masks.append(mask)
    return np.stack(frames), np.stack(masks)


def test_faster_moving_object_is_nearer():
    frames, masks = parallax_clip()
    inv_depth = get_depth_estimator("heuristic")(frames)
    assert inv_depth.shape == masks.shape and inv_depth.dtype == np.float32
    assert np.isfinite(inv_depth).all() and inv_depth.min() >= 0 and inv_depth.max() <= 1
    rows = np.zeros(masks.shape[1:], bool)
    rows[32:64] = True  # the square's rows, so the position prior is the same inside and outside
    for t in (3, 7, 11):
        inside = cv2.erode(masks[t].astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
        outside = rows & (cv2.dilate(masks[t].astype(np.uint8), np.ones((17, 17), np.uint8)) == 0)
        assert inv_depth[t][inside].mean() > inv_depth[t][outside].mean() + 0.25, t


def test_still_scene_falls_back_to_lower_is_nearer():
    frames = np.repeat(texture(60, 100, 3, (0.5, 0.5, 0.5))[None], 4, axis=0)
    with pytest.warns(UserWarning, match="low confidence"):
        inv_depth = get_depth_estimator("heuristic")(frames)
    row_means = inv_depth[-1].mean(axis=1)
    assert np.all(np.diff(row_means[::6]) > 0)  # grows from the top of the frame to the bottom
    assert temporal_change(inv_depth) < 1e-6  # nothing moves, nothing changes


def test_chunks_with_state_match_one_call():
    frames, _ = parallax_clip(t=10, h=64, w=112, size=24)
    estimator = HeuristicDepthEstimator()
    whole = estimator(frames)
    state = None
    parts = []
    for chunk in (frames[:3], frames[3:4], frames[4:]):
        part, state = estimator.estimate(chunk, state)
        parts.append(part)
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-6)


def test_state_restarts_at_a_shot_cut():
    first, _ = parallax_clip(t=6, h=64, w=112, size=24, seed=0)
    second, _ = parallax_clip(t=6, h=64, w=112, size=24, seed=5)
    second = second[..., ::-1].copy()  # other colours: a different scene
    whole = HeuristicDepthEstimator()(np.concatenate([first, second]))
    alone = HeuristicDepthEstimator()(second)
    np.testing.assert_allclose(whole[6:], alone, atol=1e-6)


def test_heuristic_options_are_checked():
    with pytest.raises(OptionError, match="evidence rate"):
        HeuristicDepthEstimator(evidence_rate=0.0)
    with pytest.raises(InputError, match=r"\(T, H, W, 3\)"):
        HeuristicDepthEstimator()(np.zeros((2, 8, 8, 4), np.float32))


def test_depth_stage_runs_heuristic_cuts_stabilisation_and_range():
    first, _ = parallax_clip(t=6, h=64, w=112, size=24, seed=0)
    second, _ = parallax_clip(t=5, h=64, w=112, size=24, seed=5)
    frames = np.concatenate([first, second[..., ::-1]])
    result = run_depth_stage(frames, DepthStageConfig(estimator="heuristic"))
    assert result.estimator == "heuristic" and result.stabilized and result.cuts == [6]
    assert result.inv_depth.shape == frames.shape[:3] and result.lo.shape == result.hi.shape == (11,)
    assert (result.hi > result.lo).all()
    given = np.repeat(np.linspace(0, 1, 64, dtype=np.float32)[None, :, None], 11, 0).repeat(112, 2)
    from_file = run_depth_stage(frames, DepthStageConfig(stabilize=False), inv_depth=given)
    assert from_file.estimator == "file" and not from_file.stabilized
    np.testing.assert_array_equal(from_file.inv_depth, given)


def test_tracked_near_subject_is_not_put_behind_the_background():
    # The camera follows a near subject that fills half the frame: the dominant motion is the
    # subject's, so measuring parallax against it (reference="dominant") inverts the order.
    from s2vg.metrics.depth_quality import scene_cases, score_estimator

    case = scene_cases((), height=128, width=224, frames=12, tracked=("centre",))[0]
    assert case.name == "tracked"
    auto = score_estimator(HeuristicDepthEstimator(), case)
    dominant = score_estimator(HeuristicDepthEstimator(reference="dominant"), case)
    assert dominant["ordinal"] < 0.5 < 0.8 <= auto["ordinal"]


def test_confidence_and_low_confidence_warning():
    frames, _ = parallax_clip()
    estimator = HeuristicDepthEstimator()
    assert estimator.confidence is None and estimator.frame_strength is None
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator(frames)
    assert not caught and estimator.confidence > 0.25  # parallax with a clear order
    assert estimator.frame_strength.shape == (len(frames),) and estimator.frame_strength.min() > 0.9  # full effect
    still = np.repeat(texture(60, 100, 3, (0.5, 0.5, 0.5))[None], 4, axis=0)
    with pytest.warns(UserWarning, match="low confidence"):
        estimator(still)
    assert estimator.confidence == 0.0  # the position prior alone
    with pytest.raises(OptionError, match="reference"):
        HeuristicDepthEstimator(reference="nearest")


def test_effect_strength_widens_the_range():
    from s2vg.depth import weaken_range

    lo, hi = np.array([0.0, 1.0]), np.array([2.0, 3.0])
    lo2, hi2 = weaken_range(lo, hi, np.array([1.0, 0.5]))
    np.testing.assert_array_equal(lo2, lo)
    np.testing.assert_allclose((hi - lo2) / (hi2 - lo2), [1.0, 0.5])  # the top of the old range normalises to s
    with pytest.raises(OptionError, match="one value per frame"):
        weaken_range(lo, hi, np.ones(3))

    class Unsure:
        """An estimator that asks for half the effect on every frame."""

        name, temporally_consistent = "unsure", True

        def __call__(self, frames, progress=None):
            self.frame_strength = np.full(len(frames), 0.5)
            return np.repeat(np.linspace(0, 1, frames.shape[1], dtype=np.float32)[None, :, None], len(frames), 0).repeat(frames.shape[2], 2)

    frames, _ = parallax_clip(t=4, h=32, w=48, size=8)
    config = DepthStageConfig(range_smoothing=0, detect_cuts=False, stabilize=False)
    full = run_depth_stage(frames, config, inv_depth=Unsure()(frames))
    half = run_depth_stage(frames, config, estimator=Unsure())
    np.testing.assert_allclose(half.lo, full.lo)
    np.testing.assert_allclose(half.hi - half.lo, 2 * (full.hi - full.lo))


def test_unclear_order_weakens_the_effect_and_warns():
    # The tracked subject fills the left half and touches the border as much as the background
    # does: neither figure/ground nor occlusions settle the order, so the estimator must not
    # give a strong effect (it asks for the smallest strength) and must say so.
    from s2vg.metrics.depth_quality import tracked_subject_scene
    from s2vg.metrics.scenes import render_scene

    frames = render_scene(tracked_subject_scene(128, 224, layout="left"), np.zeros((1, 3)), 12).colors[0]
    estimator = HeuristicDepthEstimator()
    with pytest.warns(UserWarning, match="low confidence"):
        estimator(frames)
    from s2vg.depth.heuristic import MIN_STRENGTH

    assert np.all(estimator.frame_strength[4:] == MIN_STRENGTH)
    assert estimator.confidence < 0.1
    dominant = HeuristicDepthEstimator(reference="dominant")
    dominant(frames)
    assert np.all(dominant.frame_strength == 1.0)  # the estimator before: full strength on an inverted order
