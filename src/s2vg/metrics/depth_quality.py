"""Depth quality against truth, on inverse depth: scale/shift alignment, AbsRel, δ<1.25, ordinal order, flicker.

Relative depth estimators give inverse depth up to an unknown scale and shift, so every
measure here is taken on *inverse* depth (disparity-like, larger = nearer) and is
invariant to a positive affine map of the prediction:

- :func:`align_scale_shift`: least-squares ``s * pred + b`` fitted to the truth on valid
  pixels, with ``s >= 0``. A prediction anti-correlated with the truth would otherwise
  be flipped by a negative scale and score well on AbsRel while showing near things
  behind far ones; with ``s`` clamped it is aligned to the best constant instead.
- :func:`abs_rel` and :func:`delta_accuracy` on the aligned inverse depth.
- :func:`ordinal_accuracy`: seeded random point pairs per frame, counted only where the
  truth differs by more than ``min_ratio`` (10 %); the share whose near/far order the
  prediction gets right. **Ties count as wrong**, so a constant plane scores 0 (it orders
  nothing), as does a fully reversed prediction; ``reversed`` (the share strictly ordered
  the wrong way) tells the two apart: 0 for a plane, 1 for a reversed prediction.
- :func:`temporal_flicker`: the mean absolute frame-to-frame change of the aligned
  prediction that the truth does not have, ``|(a_t - a_{t-1}) - (g_t - g_{t-1})|``, in
  units of the mean true inverse depth. With the true backward flow (the procedural
  scenes have it exactly) the previous frame is sampled along the flow, so a moving
  object's depth is compared with itself (motion-compensated); without flow, pixel by pixel.
- :func:`depth_quality`: all of them for a clip, alignment per frame for AbsRel and δ
  (as depth benchmarks do), one alignment for the whole clip for flicker (a per-frame
  alignment would hide the scale pumping a viewer sees).

:func:`tracked_subject_scene` builds the hard case for weight-free estimators: a near
subject that the camera follows, so it stands still and fills most of the frame while the
background slides behind it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from s2vg.errors import InputError, OptionError

#: Point pairs drawn per frame for the ordinal accuracy.
ORDINAL_PAIRS = 4000
#: Pairs count only where the true inverse depths differ by more than this ratio.
ORDINAL_MIN_RATIO = 1.1


def _valid(pred: np.ndarray, truth: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    """Finite prediction, finite positive truth, and the caller's mask."""
    if pred.shape != truth.shape:
        raise InputError(f"predicted inverse depth has shape {pred.shape} but the truth has {truth.shape}; give both for the same frames")
    ok = np.isfinite(pred) & np.isfinite(truth) & (truth > 0)
    if valid is not None:
        valid = np.asarray(valid, bool)
        if valid.shape != truth.shape:
            raise InputError(f"valid mask has shape {valid.shape} but the truth has {truth.shape}")
        ok &= valid
    return ok


def align_scale_shift(pred: np.ndarray, truth: np.ndarray, valid: np.ndarray | None = None) -> tuple[np.ndarray, float, float]:
    """Least-squares ``s * pred + b`` fitted to ``truth`` on valid pixels, with ``s >= 0``.

    Args:
        pred: ``(...)`` predicted inverse depth (any scale and shift, larger = nearer).
        truth: ``(...)`` true inverse depth (1/m, or disparity), > 0 where valid.
        valid: optional ``(...)`` bool mask of pixels to fit; non-finite and non-positive
            truth is always excluded.

    Returns:
        ``(aligned, s, b)``: ``aligned = s * pred + b`` float64 of pred's shape (everywhere,
        not only on valid pixels); ``s = 0`` and ``b = mean(truth)`` when the best fit has a
        negative scale or the prediction is constant.
    """
    pred, truth = np.asarray(pred, np.float64), np.asarray(truth, np.float64)
    ok = _valid(pred, truth, valid)
    if not ok.any():
        raise InputError("no valid pixels to align the depth on; give truth with finite positive values")
    p, g = pred[ok], truth[ok]
    dp = p - p.mean()
    var = float(np.dot(dp, dp))
    scale = float(np.dot(dp, g - g.mean()) / var) if var > 0 else 0.0
    scale = max(scale, 0.0)
    shift = float(g.mean() - scale * p.mean())
    return scale * pred + shift, scale, shift


def abs_rel(aligned: np.ndarray, truth: np.ndarray, valid: np.ndarray | None = None) -> float:
    """Mean of ``|a - g| / g`` over valid pixels (inverse depth, after alignment)."""
    aligned, truth = np.asarray(aligned, np.float64), np.asarray(truth, np.float64)
    ok = _valid(aligned, truth, valid)
    return float(np.mean(np.abs(aligned[ok] - truth[ok]) / truth[ok])) if ok.any() else float("nan")


def delta_accuracy(aligned: np.ndarray, truth: np.ndarray, valid: np.ndarray | None = None, threshold: float = 1.25) -> float:
    """Share of valid pixels with ``max(a / g, g / a) < threshold``; ``a <= 0`` always fails."""
    aligned, truth = np.asarray(aligned, np.float64), np.asarray(truth, np.float64)
    ok = _valid(aligned, truth, valid)
    if not ok.any():
        return float("nan")
    a, g = aligned[ok], truth[ok]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(a > 0, np.maximum(a / g, g / a), np.inf)
    return float(np.mean(ratio < threshold))


@dataclass(frozen=True)
class OrdinalScore:
    """Ordinal accuracy of one or more frames.

    Attributes:
        accuracy: share of the counted pairs ordered as the truth orders them (ties wrong).
        reversed: share of the counted pairs strictly ordered the other way.
        pairs: number of counted pairs (those whose truth differs by more than the ratio).
    """

    accuracy: float
    reversed: float
    pairs: int


def _ordinal_counts(pred: np.ndarray, truth: np.ndarray, ok: np.ndarray, pairs: int, min_ratio: float, rng: np.random.Generator) -> tuple[int, int, int]:
    """(right, wrong, counted) over ``pairs`` random pairs of one frame's valid pixels."""
    index = np.flatnonzero(ok.reshape(-1))
    if len(index) < 2:
        return 0, 0, 0
    i = index[rng.integers(0, len(index), pairs)]
    j = index[rng.integers(0, len(index), pairs)]
    g, p = truth.reshape(-1), pred.reshape(-1)
    gi, gj = g[i], g[j]
    counted = np.maximum(gi, gj) > min_ratio * np.minimum(gi, gj)
    # A tie is a difference below a millionth of the frame's prediction range: float noise, not order.
    span = float(np.ptp(p[index])) if len(index) else 0.0
    diff = p[i] - p[j]
    tie = np.abs(diff) <= 1e-6 * span
    sign_g = np.sign(gi - gj)
    right = counted & ~tie & (np.sign(diff) == sign_g)
    wrong = counted & ~tie & (np.sign(diff) == -sign_g)
    return int(right.sum()), int(wrong.sum()), int(counted.sum())


def ordinal_accuracy(
    pred: np.ndarray,
    truth: np.ndarray,
    valid: np.ndarray | None = None,
    *,
    pairs: int = ORDINAL_PAIRS,
    min_ratio: float = ORDINAL_MIN_RATIO,
    seed: int = 0,
) -> OrdinalScore:
    """Share of random point pairs whose near/far order the prediction gets right.

    Args:
        pred: ``(T, H, W)`` or ``(H, W)`` predicted inverse depth (larger = nearer).
        truth: same shape, true inverse depth (> 0 where valid).
        valid: optional bool mask of the same shape.
        pairs: pairs drawn per frame (with replacement, among valid pixels).
        min_ratio: a pair counts only where ``max(g_i, g_j) > min_ratio * min(g_i, g_j)``.
        seed: seed of the pair draw (the same pairs for every estimator).

    Returns:
        :class:`OrdinalScore` over all frames; accuracy and reversed are NaN with no counted pair.
    """
    if pairs < 1 or not min_ratio >= 1.0:
        raise OptionError(f"ordinal accuracy needs pairs >= 1 and min_ratio >= 1; got {pairs!r}, {min_ratio!r}")
    pred, truth = np.asarray(pred, np.float64), np.asarray(truth, np.float64)
    ok = _valid(pred, truth, valid)
    if pred.ndim == 2:
        pred, truth, ok = pred[None], truth[None], ok[None]
    rng = np.random.default_rng(seed)
    right = wrong = counted = 0
    for t in range(len(pred)):
        r, w, c = _ordinal_counts(pred[t], truth[t], ok[t], pairs, min_ratio, rng)
        right, wrong, counted = right + r, wrong + w, counted + c
    if counted == 0:
        return OrdinalScore(float("nan"), float("nan"), 0)
    return OrdinalScore(right / counted, wrong / counted, counted)


def temporal_flicker(
    aligned: np.ndarray,
    truth: np.ndarray,
    valid: np.ndarray | None = None,
    *,
    flow: np.ndarray | None = None,
    flow_valid: np.ndarray | None = None,
) -> float:
    """Frame-to-frame change of the aligned prediction that the truth does not have.

    ``mean |(a_t(x) - a_{t-1}(x + f)) - (g_t(x) - g_{t-1}(x + f))| / mean(g)`` over valid
    pixels and frames ``t >= 1``, with ``f`` the backward flow (or 0 without flow).

    Args:
        aligned: ``(T, H, W)`` aligned inverse depth (see :func:`align_scale_shift`).
        truth: ``(T, H, W)`` true inverse depth.
        valid: optional ``(T, H, W)`` bool.
        flow: optional ``(T, H, W, 2)`` (dx, dy) backward flow: where each pixel's surface
            was one frame earlier (rounded to the nearest pixel).
        flow_valid: ``(T, H, W)`` bool, where the flow is known (the point was visible).

    Returns:
        The flicker (0 for a prediction that changes exactly as the truth; NaN for T < 2).
    """
    aligned, truth = np.asarray(aligned, np.float64), np.asarray(truth, np.float64)
    ok = _valid(aligned, truth, valid)
    if aligned.ndim != 3:
        raise InputError(f"flicker needs (T, H, W) inverse depth; got shape {aligned.shape}")
    t_count, h, w = aligned.shape
    if t_count < 2:
        return float("nan")
    ys, xs = np.mgrid[0:h, 0:w]
    total, count = 0.0, 0
    for t in range(1, t_count):
        if flow is not None:
            fx, fy = np.rint(flow[t, ..., 0]).astype(np.int64), np.rint(flow[t, ..., 1]).astype(np.int64)
            px, py = xs + fx, ys + fy
            inside = (px >= 0) & (px < w) & (py >= 0) & (py < h)
            px, py = px.clip(0, w - 1), py.clip(0, h - 1)
            m = ok[t] & inside & ok[t - 1][py, px]
            if flow_valid is not None:
                m &= np.asarray(flow_valid[t], bool)
            da = aligned[t] - aligned[t - 1][py, px]
            dg = truth[t] - truth[t - 1][py, px]
        else:
            m = ok[t] & ok[t - 1]
            da, dg = aligned[t] - aligned[t - 1], truth[t] - truth[t - 1]
        total += float(np.abs(da - dg)[m].sum())
        count += int(m.sum())
    scale = float(truth[ok].mean())
    return total / count / scale if count else float("nan")


@dataclass(frozen=True)
class DepthQuality:
    """Scores of one estimator on one clip (see the module docstring).

    Attributes:
        abs_rel: mean AbsRel over frames, after per-frame alignment.
        delta1: mean share of pixels within 1.25x, after per-frame alignment.
        ordinal: ordinal accuracy (ties wrong).
        reversed: share of counted pairs ordered the wrong way.
        pairs: counted pairs.
        flicker: :func:`temporal_flicker` after one alignment for the whole clip (NaN for one frame).
    """

    abs_rel: float
    delta1: float
    ordinal: float
    reversed: float
    pairs: int
    flicker: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def depth_quality(
    pred: np.ndarray,
    truth: np.ndarray,
    valid: np.ndarray | None = None,
    *,
    flow: np.ndarray | None = None,
    flow_valid: np.ndarray | None = None,
    pairs: int = ORDINAL_PAIRS,
    seed: int = 0,
) -> DepthQuality:
    """All depth measures of a clip.

    Args:
        pred: ``(T, H, W)`` predicted inverse depth (larger = nearer; ``(H, W)`` for one frame).
        truth: same shape, true inverse depth (1/m or disparity in px), NaN/inf/<= 0 invalid.
        valid, flow, flow_valid, pairs, seed: see :func:`temporal_flicker`, :func:`ordinal_accuracy`.

    Returns:
        :class:`DepthQuality`.
    """
    pred, truth = np.asarray(pred, np.float64), np.asarray(truth, np.float64)
    if pred.ndim == 2:
        pred, truth = pred[None], truth[None]
        valid = None if valid is None else np.asarray(valid, bool)[None]
    if pred.ndim != 3:
        raise InputError(f"inverse depth must be (T, H, W) or (H, W); got shape {pred.shape}")
    ok = _valid(pred, truth, valid)
    rels, deltas = [], []
    for t in range(len(pred)):
        if not ok[t].any():
            continue
        aligned_t, _, _ = align_scale_shift(pred[t], truth[t], ok[t])
        rels.append(abs_rel(aligned_t, truth[t], ok[t]))
        deltas.append(delta_accuracy(aligned_t, truth[t], ok[t]))
    order = ordinal_accuracy(pred, truth, ok, pairs=pairs, seed=seed)
    aligned, _, _ = align_scale_shift(pred, truth, ok)
    flick = temporal_flicker(aligned, truth, ok, flow=flow, flow_valid=flow_valid)
    return DepthQuality(
        abs_rel=float(np.mean(rels)) if rels else float("nan"),
        delta1=float(np.mean(deltas)) if deltas else float("nan"),
        ordinal=order.accuracy,
        reversed=order.reversed,
        pairs=order.pairs,
        flicker=flick,
    )


#: Where the tracked subject sits: ``centre`` (a figure, mostly enclosed by the background),
#: ``bottom`` (wide, on the bottom border, like animals on the ground) and ``left`` (the left
#: half, on the border as much as the background: the ambiguous case).
TRACKED_LAYOUTS: tuple[str, ...] = ("centre", "bottom", "left")


def tracked_subject_scene(height: int = 256, width: int = 448, seed: int = 0, layout: str = "centre"):
    """A near subject that the camera follows: static in the frame, filling most of it, background sliding behind.

    The camera translates right; the subject (1.5 m, about 60 % of the frame) moves with it
    so that its image stands still, while a textured wall (10 m) and mid-depth cards (4-5 m)
    slide left behind it. A weight-free estimator that takes the dominant (largest) motion
    as the background calls the subject far: the case the ordinal accuracy must catch.

    ``layout`` (one of :data:`TRACKED_LAYOUTS`) places the subject; each covers about half the frame.

    Returns:
        a :class:`s2vg.metrics.scenes.Scene` (kind ``"tracked"``, ``"tracked-bottom"``, ``"tracked-left"``), rendered with
        :func:`s2vg.metrics.scenes.render_scene` like the built-in kinds.
    """
    from s2vg.geometry.rig import default_focal
    from s2vg.metrics.scenes import Card, Scene, Shape, _tex, _z

    if not (isinstance(height, int) and isinstance(width, int)) or height < 16 or width < 16:
        raise OptionError(f"scene size must be integers of at least 16 x 16 pixels; got {height!r} x {width!r}")
    if layout not in TRACKED_LAYOUTS:
        raise OptionError(f"tracked subject layout must be one of {', '.join(TRACKED_LAYOUTS)}; got {layout!r}")
    rng = np.random.default_rng([seed, 1015])
    W, H = float(width), float(height)
    u = W / 448.0
    focal = default_focal(width)
    cam = 0.02  # metres per frame: the wall slides about 1.2 px per frame at the default width
    subject_z = _z(1.5)
    # Image shift of a card per frame is f * cam / z - velocity: the subject's velocity cancels it.
    follow = focal * cam / subject_z
    cards = [Card("wall", _z(10.0), (Shape("plane"),), _tex(rng, "bricks", float(rng.random()), 28 * u))]
    for i in range(4):
        x0 = float(rng.uniform(-0.1, 1.0)) * W
        cards.append(Card(f"card{i}", _z(float(rng.uniform(4.0, 5.0))), (Shape("rect", (x0, rng.uniform(0.05, 0.4) * H, x0 + 0.18 * W, rng.uniform(0.6, 1.1) * H)),),
                          _tex(rng, "checker", float(rng.random()), 12 * u)))
    if layout == "centre":
        body = (Shape("ellipse", (0.5 * W, 0.62 * H, 0.36 * W, 0.42 * H)), Shape("ellipse", (0.5 * W, 0.22 * H, 0.14 * W, 0.2 * H)))
    elif layout == "bottom":
        body = (Shape("ellipse", (0.5 * W, 0.85 * H, 0.6 * W, 0.4 * H)),)
    else:
        body = (Shape("rect", (-0.1 * W, 0.1 * H, 0.55 * W, 1.2 * H)),)
    cards.append(Card("subject", subject_z, body, _tex(rng, "noise", float(rng.random()), 9 * u), velocity=(follow, 0.0)))
    kind = "tracked" if layout == "centre" else f"tracked-{layout}"
    return Scene(kind=kind, seed=int(seed), height=height, width=width, focal=focal, cards=tuple(cards), camera_velocity=(cam, 0.0))


# ---------------------------------------------------------------- the benchmark

def plane_estimator(frames: np.ndarray) -> np.ndarray:
    """Baseline: a constant plane ``(T, H, W)`` (no depth at all; orders nothing)."""
    return np.full(frames.shape[:3], 0.5, np.float32)


def position_prior_estimator(frames: np.ndarray) -> np.ndarray:
    """Baseline: the heuristic's position prior alone, inverse depth 0 at the top row to 1 at the bottom."""
    t, h, w = frames.shape[:3]
    return np.broadcast_to(np.linspace(0.0, 1.0, h, dtype=np.float32)[None, :, None], (t, h, w)).copy()


@dataclass(frozen=True)
class DepthCase:
    """One clip with true inverse depth for the benchmark.

    Attributes:
        name: label (scene kind, or pair folder with its protocol).
        frames: ``(T, H, W, 3)`` float32 in [0, 1], what the estimator sees.
        truth: ``(T', H, W)`` true inverse depth of the first ``T'`` frames (NaN invalid).
        flow, flow_valid: exact backward flow ``(T', H, W, 2)`` and its mask, or None.
    """

    name: str
    frames: np.ndarray
    truth: np.ndarray
    flow: np.ndarray | None = None
    flow_valid: np.ndarray | None = None


def scene_cases(kinds: tuple[str, ...] | None = None, *, height: int = 256, width: int = 448, frames: int = 16, seed: int = 0,
                tracked: tuple[str, ...] | bool = True) -> list[DepthCase]:
    """Procedural scenes (exact depth and flow of the source view), plus tracked-subject scenes.

    ``tracked``: layouts of :func:`tracked_subject_scene` to add; True for all of them, False for none.
    """
    from s2vg.config import SCENE_KINDS
    from s2vg.metrics.scenes import make_scene, render_scene

    scenes = [make_scene(k, height=height, width=width, seed=seed) for k in (SCENE_KINDS if kinds is None else kinds)]
    layouts = TRACKED_LAYOUTS if tracked is True else (() if tracked is False else tracked)
    scenes += [tracked_subject_scene(height, width, seed, layout) for layout in layouts]
    cases = []
    for scene in scenes:
        shot = render_scene(scene, np.zeros((1, 3)), frames)
        cases.append(DepthCase(scene.kind, shot.colors[0], 1.0 / shot.depth[0].astype(np.float64), shot.backward_flow(0), shot.flow_valid(0)))
    return cases


def pair_cases(folders) -> list[DepthCase]:
    """Real stereo pairs in the Middlebury layout: the left image alone (``still``), and left then right as a 2-frame pan.

    The true inverse depth is the left disparity (NaN where invalid); only the left image is scored.
    """
    from pathlib import Path

    from s2vg.io import read_image
    from s2vg.metrics.pairs import load_disparity, middlebury_pair

    cases = []
    for folder in folders:
        left_path, right_path, disp_path = middlebury_pair(folder)
        left, right = read_image(left_path), read_image(right_path)
        disp = load_disparity(disp_path).astype(np.float64)
        if disp.shape != left.shape[:2]:
            raise InputError(f"disparity {str(disp_path)!r} has shape {disp.shape} but the left image is {left.shape[:2]}; give the left image's disparity")
        truth = np.where(disp > 0, disp, np.nan)[None]
        name = Path(folder).name
        cases.append(DepthCase(f"{name} still", left[None], truth))
        # The right camera is the left one moved sideways: a real translating camera over two frames.
        cases.append(DepthCase(f"{name} 2-frame", np.stack([left, right]), truth))
    return cases


def score_estimator(estimate, case: DepthCase, *, pairs: int = ORDINAL_PAIRS, seed: int = 0) -> dict[str, float]:
    """Run ``estimate`` (frames -> inverse depth) on a case and score the frames that have truth; adds ``seconds`` per frame."""
    import time

    start = time.perf_counter()
    pred = np.asarray(estimate(case.frames), np.float64)
    seconds = (time.perf_counter() - start) / len(case.frames)
    n = len(case.truth)
    score = depth_quality(pred[:n], case.truth, flow=case.flow, flow_valid=case.flow_valid, pairs=pairs, seed=seed).as_dict()
    # The effect strength an estimator asks for on the scored frames (1 = full), where it says.
    strength = getattr(estimate, "frame_strength", None)
    score["strength"] = float(np.mean(strength[:n])) if strength is not None and len(strength) == len(pred) else float("nan")
    return {**score, "seconds_per_frame": seconds}


def default_estimators() -> dict[str, object]:
    """The benchmark's estimators: the weight-free heuristic, the same with the dominant motion as reference
    (the estimator before the far-layer reference), and the two baselines."""
    from s2vg.depth import get_depth_estimator

    return {
        "heuristic": get_depth_estimator("heuristic"),
        "heuristic-dominant": get_depth_estimator("heuristic", reference="dominant"),
        "plane": plane_estimator,
        "prior": position_prior_estimator,
    }


def run_depth_benchmark(estimators: dict[str, object] | None = None, cases: list[DepthCase] | None = None, *,
                        pairs: int = ORDINAL_PAIRS, seed: int = 0) -> list[dict[str, object]]:
    """Score every estimator on every case.

    Returns:
        rows ``{"case", "estimator", "abs_rel", "delta1", "ordinal", "reversed", "pairs", "flicker", "seconds_per_frame"}``.
    """
    estimators = default_estimators() if estimators is None else estimators
    cases = scene_cases() if cases is None else cases
    rows = []
    for case in cases:
        for label, estimate in estimators.items():
            rows.append({"case": case.name, "estimator": label, **score_estimator(estimate, case, pairs=pairs, seed=seed)})
    return rows


def summary_rows(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Means per estimator over the procedural scenes (``scenes``) and over the real pairs (``pairs``), tracked scenes apart."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        case = str(row["case"])
        group = case if case.startswith("tracked") else ("pairs " + case.split()[-1] if " " in case else "scenes")
        groups.setdefault((group, str(row["estimator"])), []).append(row)
    out = []
    for (group, label), members in groups.items():
        mean = {k: _nanmean([float(m[k]) for m in members]) for k in ("abs_rel", "delta1", "ordinal", "reversed", "flicker", "strength")}
        out.append({"case": f"mean {group}", "estimator": label, **mean, "pairs": int(sum(m["pairs"] for m in members))})
    return out


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def format_table(rows: list[dict[str, object]]) -> str:
    """A Markdown table of benchmark rows."""
    header = ["case", "estimator", "ordinal", "reversed", "abs_rel", "delta1", "flicker", "strength", "pairs"]
    lines = [" | ".join(header), " | ".join("---" for _ in header)]
    for row in rows:
        cells = [str(row["case"]), str(row["estimator"])]
        for key in header[2:-1]:
            value = float(row[key])
            cells.append("-" if not np.isfinite(value) else f"{value:.3f}")
        cells.append(str(row["pairs"]))
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def run_depth_eval(output_dir="s2vg-eval", *, scenes: tuple[str, ...] | None = None, height: int = 256, width: int = 448,
                   frames: int = 16, seed: int = 0, pairs: tuple[str, ...] = ()) -> dict[str, object]:
    """``s2vg eval --depth-quality``: score the default estimators, write ``depth.json`` and ``depth.md``.

    Returns:
        the summary dict (rows, summary rows, the Markdown table, outputs).
    """
    import json
    from pathlib import Path

    from s2vg.errors import OutputError
    from s2vg.metrics import report

    cases = scene_cases(scenes, height=height, width=width, frames=frames, seed=seed) + pair_cases(pairs)
    rows = run_depth_benchmark(default_estimators(), cases, seed=seed)
    means = summary_rows(rows)
    table = format_table(means)
    out = Path(output_dir)
    try:
        out.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(f"output folder {str(out)!r} cannot be created ({exc.strerror or exc})") from None
    files = {"json": out / "depth.json", "markdown": out / "depth.md"}
    md = "\n".join(["# s2vg eval: depth quality", "", format_table(rows), "", table, ""])
    report.write_atomic(files["markdown"], md.encode())
    summary = {"command": "eval-depth", "rows": rows, "summary": means, "table": table, "outputs": [str(p) for p in files.values()]}
    report.write_atomic(files["json"], json.dumps(report.jsonable(summary), indent=2).encode())
    return summary
