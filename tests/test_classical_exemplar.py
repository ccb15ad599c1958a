"""Exemplar continuation of the background (s2vg.inpaint.classical.exemplar)."""

import numpy as np
import pytest

from s2vg.config import ClassicalFillConfig
from s2vg.errors import InputError
from s2vg.inpaint.classical.exemplar import exemplar_fill
from s2vg.inpaint.classical.fill import classical_fill
from s2vg.inpaint.classical.scan import find_anchors

HEIGHT, WIDTH, PERIOD = 32, 96, 7


def _stripes(background: np.ndarray, *, hole=(slice(12, 20), slice(40, 52)), edge: int = 30):
    """A red foreground (1 m) up to ``edge``, then a background (5 m) of the given colours;
    the hole (unknown) lies between the foreground and the background, as a disocclusion."""
    colors = background[None].copy()
    depth = np.full((1, HEIGHT, WIDTH), 5.0, np.float32)
    colors[0, hole[0], :edge] = (1.0, 0.0, 0.0)
    depth[0, hole[0], :edge] = 1.0
    avail = np.ones((1, HEIGHT, WIDTH), bool)
    avail[0, hole[0], edge:hole[1].stop] = False
    depth[~avail] = 0.0
    anchors = find_anchors(avail, depth, 0.05)
    runs = anchors.subset(anchors.has_anchor & (anchors.other < 0))
    return colors, avail, depth, runs


def _periodic() -> np.ndarray:
    """Grey stripes along the row with a 7-pixel period (a fence, bricks), constant down the columns."""
    x = np.arange(WIDTH)
    level = 0.1 + 0.4 * ((x % PERIOD) / (PERIOD - 1))
    return np.broadcast_to(level[None, :, None], (HEIGHT, WIDTH, 3)).astype(np.float32).copy()


def test_a_repeating_background_is_continued_exactly():
    """Closed form: every match at a whole period (or in another row) reads the true stripe."""
    background = _periodic()
    colors, avail, depth, runs = _stripes(background)
    values, confidence = exemplar_fill(colors, avail, depth, runs, depth_tolerance=0.1)
    truth = background[runs.y, runs.x]
    np.testing.assert_allclose(values, truth, atol=1e-6)
    np.testing.assert_allclose(confidence, 1.0, atol=1e-4)


def test_unpredictable_texture_gets_low_confidence():
    rng = np.random.default_rng(0)
    background = rng.uniform(0.0, 0.5, (HEIGHT, WIDTH, 3)).astype(np.float32)
    colors, avail, depth, runs = _stripes(background)
    _, confidence = exemplar_fill(colors, avail, depth, runs, depth_tolerance=0.1)
    assert float(confidence.mean()) < 0.1


def test_no_foreground_is_matched_or_copied():
    """Foreground (red, nearer) also above and below the hole: no estimate carries red."""
    background = _periodic()
    colors, avail, depth, runs = _stripes(background)
    colors[0, 4:10, 44:60] = (1.0, 0.0, 0.0)
    depth[0, 4:10, 44:60] = 1.0
    values, confidence = exemplar_fill(colors, avail, depth, runs, depth_tolerance=0.1)
    assert values[:, 0].max() <= 0.5 + 1e-6  # the background's red never exceeds 0.5
    assert (confidence > 0).all()


def test_deterministic_and_the_strip_beyond_the_border():
    """The strip a new view shows beyond the frame's edge (a run open at the row's end) is continued too."""
    background = _periodic()
    colors = background[None].copy()
    avail = np.ones((1, HEIGHT, WIDTH), bool)
    avail[0, :, :6] = False
    depth = np.where(avail, 5.0, 0.0).astype(np.float32)
    anchors = find_anchors(avail, depth, 0.05)
    runs = anchors.subset(anchors.has_anchor)
    first = exemplar_fill(colors, avail, depth, runs, depth_tolerance=0.1)
    again = exemplar_fill(colors, avail, depth, runs, depth_tolerance=0.1)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    np.testing.assert_allclose(first[0], background[runs.y, runs.x], atol=1e-6)


def test_the_fill_continues_a_fence_behind_the_foreground():
    """Through the whole fill: the hole beside the foreground gets the stripes, not a blur."""
    background = _periodic()
    colors, avail, depth, _ = _stripes(background)
    positions = np.array([[0.0, 0, 0], [0.05, 0, 0]])
    # View 1 is the target; view 0 (the source) is fully known.
    c = np.stack([background[None], colors]).astype(np.float32)
    known = np.stack([np.ones_like(avail), avail])
    d = np.stack([np.full_like(depth, 5.0), depth])
    hole = ~avail[0]
    errors = {}
    for weight in (0.0, 0.7, 1.0):
        config = ClassicalFillConfig(temporal=False, exemplar_weight=weight)
        out, _ = classical_fill(c, known, d, positions, 100.0, 0, config)
        errors[weight] = float(np.abs(out[1, 0][hole] - background[hole]).mean())
    # The matches are exact with confidence 1, so the blend keeps (1 - weight) of the error.
    assert errors[0.0] > 0.05
    assert errors[0.7] == pytest.approx(0.3 * errors[0.0], rel=0.02)
    assert errors[1.0] < 1e-6


def test_bad_input_is_rejected():
    background = _periodic()
    colors, avail, depth, runs = _stripes(background)
    with pytest.raises(InputError, match="exemplar fill needs colours"):
        exemplar_fill(colors[..., :2], avail, depth, runs, depth_tolerance=0.1)
    with pytest.raises(InputError, match="context, keep >= 1"):
        exemplar_fill(colors, avail, depth, runs, depth_tolerance=0.1, context=0)
    no_anchor = find_anchors(np.zeros_like(avail), depth, 0.05)
    with pytest.raises(InputError, match="anchor"):
        exemplar_fill(colors, avail, depth, no_anchor, depth_tolerance=0.1)
    with pytest.raises(Exception, match="exemplar weight"):
        ClassicalFillConfig(exemplar_weight=1.5)
