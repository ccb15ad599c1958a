"""``s2vg eval``: compare inpainters on rendered ground-truth scenes and on real clips.

For every scene of :attr:`EvalConfig.scenes` (rendered, exact truth) and every real clip
(round-trip protocol, see :mod:`s2vg.metrics.cases`), each method fills the same frame
matrix and is scored on the target view (:func:`s2vg.metrics.score.score_filled`).
Writes ``eval.json`` (every number and the configuration), ``eval.md`` (tables) and
``eval.png`` (example crops and bar charts) into the output folder, each atomically.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from s2vg.config import DepthStageConfig, EvalConfig
from s2vg.errors import InputError, MissingWeightsError, OptionError, OutputError
from s2vg.metrics import report
from s2vg.metrics.cases import EvalCase, round_trip_case, scene_case
from s2vg.metrics.scenes import make_scene
from s2vg.metrics.score import no_reference_scores, score_filled
from s2vg.progress import Progress

#: Methods that the classical inpainter is compared against in the margins.
BASELINES: tuple[str, ...] = ("black", "telea", "nearest-background")
#: Side in pixels of the example crops of the figure.
CROP_SIZE = 128

_SHARED_SAMPLES = Path(__file__).resolve().parents[4] / "shared" / "samples"


def default_clips() -> tuple[str, ...]:
    """The sample clips of a development checkout (``../shared/samples`` beside the repository).

    Returns the astronaut clip with its refined depth and the two short videos (depth from
    :attr:`EvalConfig.clip_depth`), each only if present; empty for an installed package.
    """
    clips = []
    astronaut = _SHARED_SAMPLES / "astronaut"
    if (astronaut / "images").is_dir() and (astronaut / "depth.npz").is_file():
        clips.append(f"{astronaut / 'images'}={astronaut / 'depth.npz'}:refined")
    for video in ("davis_dolphins.mp4", "street_demo1.mp4"):
        if (_SHARED_SAMPLES / "videos" / video).is_file():
            clips.append(str(_SHARED_SAMPLES / "videos" / video))
    return tuple(clips)


def parse_method(spec: str) -> tuple[str, str, dict[str, Any]]:
    """``"name"`` or ``"name:key=value,key=value"`` -> (label, registry name, options).

    Values are Python literals (numbers, True/False, quoted strings), ``true``/``false`` in
    any case as booleans; anything else is taken as a plain string.
    """
    name, _, rest = spec.partition(":")
    options: dict[str, Any] = {}
    if rest:
        for item in rest.split(","):
            key, eq, value = item.partition("=")
            if not eq or not key.strip():
                raise OptionError(f"method {spec!r}: options must be key=value separated by commas; got {item!r}")
            value = value.strip()
            if value.lower() in ("true", "false"):
                options[key.strip()] = value.lower() == "true"
                continue
            try:
                options[key.strip()] = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                options[key.strip()] = value
    if not name:
        raise OptionError(f"method {spec!r} has no inpainter name; write name or name:key=value")
    return spec, name, options


def _build_methods(config: EvalConfig, inpainter_options: dict[str, dict]) -> tuple[list[tuple[str, str, Any]], dict[str, str]]:
    from s2vg.inpaint.base import get_inpainter

    methods, skipped = [], {}
    for spec in config.methods:
        label, name, options = parse_method(spec)
        try:
            methods.append((label, name, get_inpainter(name, **{**inpainter_options.get(name, {}), **options})))
        except MissingWeightsError as exc:
            skipped[label] = str(exc)
    if not methods:
        raise MissingWeightsError(f"no method of {', '.join(config.methods)} could be built; " + "; ".join(skipped.values()))
    return methods, skipped


def _views_for(config: EvalConfig, name: str) -> int:
    from s2vg.convert import DEFAULT_VIEWS, DEFAULT_VIEWS_OTHERWISE

    return config.views if config.views is not None else DEFAULT_VIEWS.get(name, DEFAULT_VIEWS_OTHERWISE)


def _split_clip(spec: str) -> tuple[str, str | None]:
    if Path(spec).exists() or "=" not in spec:
        return spec, None
    video, _, depth = spec.rpartition("=")
    return video, depth


def load_clip(spec: str, config: EvalConfig, progress: Progress) -> tuple[str, np.ndarray, np.ndarray, str]:
    """Frames ``(T, H, W, 3)`` and depth ``(T, H, W)`` in metres of a clip spec, with its name and depth source."""
    import cv2

    from s2vg.depth.stage import build_depth_estimator, run_depth_stage
    from s2vg.geometry.depth import inv_depth_to_depth, normalise_inv_depth_range
    from s2vg.io import read_frames
    from s2vg.io.depth_files import check_depth_matches, load_depth

    video, depth_spec = _split_clip(spec)
    frames, _ = read_frames(video, max_frames=config.frames)
    inv_depth = None
    if depth_spec is not None:
        inv_depth = load_depth(depth_spec)[: len(frames)]
        check_depth_matches(inv_depth.shape, frames.shape, depth_spec)
    t, h, w, _ = frames.shape
    if w > config.clip_max_width:
        new_w = config.clip_max_width
        new_h = max(16, int(round(h * new_w / w / 2)) * 2)
        frames = np.stack([cv2.resize(f, (new_w, new_h), interpolation=cv2.INTER_AREA) for f in frames])
        if inv_depth is not None:
            inv_depth = np.stack([cv2.resize(d, (new_w, new_h), interpolation=cv2.INTER_LINEAR) for d in inv_depth])
    stage = DepthStageConfig(estimator=config.clip_depth)
    if inv_depth is None:
        result = run_depth_stage(frames, stage, estimator=build_depth_estimator(stage), progress=progress)
        source = result.estimator
    else:
        result = run_depth_stage(frames, stage, inv_depth=inv_depth.astype(np.float32), progress=progress)
        source = f"file {depth_spec}"
    norm = normalise_inv_depth_range(torch.from_numpy(result.inv_depth), torch.from_numpy(result.lo), torch.from_numpy(result.hi))
    depth_m = inv_depth_to_depth(norm).numpy()
    name = Path(video).stem if Path(video).suffix else Path(video).parent.name if Path(video).name == "images" else Path(video).name
    return name, frames.astype(np.float32), depth_m.astype(np.float32), source


def _mean(values: list[float]) -> float:
    finite = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan


def _summarise(cases: list[dict[str, Any]], source: set[str], labels: list[str]) -> list[dict[str, Any]]:
    rows = []
    for label in labels:
        picked = [c["results"][label] for c in cases if c["source"] in source and label in c["results"]]
        if not picked:
            continue
        row: dict[str, Any] = {"method": label, "cases": len(picked)}
        for key, *_ in report.TABLE_COLUMNS + report.NO_REFERENCE_COLUMNS:
            if any(key in p for p in picked):
                row[key] = _mean([p.get(key, math.nan) for p in picked])
        rows.append(row)
    return rows


def _margins(cases: list[dict[str, Any]], ours: str, baselines: list[str]) -> dict[str, dict[str, Any]]:
    """Per baseline: PSNR-holes gain and flicker reduction of ``ours`` over the scenes."""
    out = {}
    scenes = [c for c in cases if c["source"] == "scene" and ours in c["results"]]
    for base in baselines:
        pairs = [(c["results"][ours], c["results"][base]) for c in scenes if base in c["results"]]
        if not pairs:
            continue
        gain = [o["psnr_holes"] - b["psnr_holes"] for o, b in pairs]
        reduction = [b["flicker_holes"] - o["flicker_holes"] for o, b in pairs]
        out[base] = {
            "cases": len(pairs),
            "psnr_gain_mean": float(np.mean(gain)),
            "psnr_gain_min": float(np.min(gain)),
            "flicker_reduction_mean": float(np.nanmean(reduction)),
            "flicker_reduction_min": float(np.nanmin(reduction)),
            "psnr_wins": int(sum(g > 0 for g in gain)),
            "flicker_wins": int(sum(r > 0 for r in reduction)),
        }
    return out


def run_eval(
    config: EvalConfig = EvalConfig(),
    output_dir: str | Path = "s2vg-eval",
    *,
    inpainter_options: dict[str, dict] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run every method of ``config`` over the scenes and clips, score, and write the report.

    Args:
        config: what to measure (scenes, clips, methods, sizes).
        output_dir: folder for ``eval.json``, ``eval.md`` and ``eval.png`` (created if
            missing; its parent must exist).
        inpainter_options: per registry name, keyword options for its factory (for
            example ``{"svg": {"model": "/models/zeroscope"}}``); method-spec options win.
        progress: progress sink; defaults to silent.

    Returns:
        the summary dict (what ``--json`` prints): ``outputs``, ``summary`` (mean rows for
        ``scenes`` and ``clips``), ``margins`` (classical vs each baseline on the scenes),
        ``classical_beats_baselines``, ``skipped`` methods and clips, ``table`` (the
        scenes' markdown table) and ``seconds``.

    Raises:
        OptionError: bad method spec or option; OutputError: the folder cannot be made;
        MissingWeightsError: no method could be built at all.
    """
    progress = progress or Progress(enabled=False)
    start = time.perf_counter()
    out = Path(output_dir)
    if not out.parent.is_dir():
        raise OutputError(f"output folder parent {str(out.parent)!r} does not exist; create it or choose another output")
    try:
        out.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(f"output folder {str(out)!r} cannot be created ({exc.strerror or exc})") from None
    methods, skipped = _build_methods(config, inpainter_options or {})
    labels = [label for label, _, _ in methods]
    clips = default_clips() if config.clips is None else tuple(config.clips)

    cases_out: list[dict[str, Any]] = []
    figure_rows: list[np.ndarray] = []

    def evaluate(builder, label_views: dict[int, list[tuple[str, str, Any]]], base_name: str, source: str) -> None:
        results: dict[str, dict[str, float]] = {}
        details: dict[str, Any] = {}
        first: EvalCase | None = None
        fills: dict[str, np.ndarray] = {}
        for views, group in label_views.items():
            case = builder(views)
            if first is None:
                first, details = case, dict(case.details)
            for label, _, inpainter in group:
                with progress.stage(f"{base_name} {label}", total=1, unit="fill") as bar:
                    t0 = time.perf_counter()
                    filled = inpainter(case.matrix)
                    seconds = time.perf_counter() - t0
                    scores = score_filled(case, filled)
                    if config.no_reference:
                        scores |= no_reference_scores(case, filled)
                    bar.update(1)
                results[label] = {**scores, "seconds": seconds}
                # Every rig of a case ends at the same target camera, so all fills share one crop.
                fills[label] = filled.colors[case.scored_views[-1], case.matrix.frames // 2].cpu().numpy()
        assert first is not None
        cases_out.append({"name": first.name, "source": source, "details": details, "results": results})
        if config.figure:
            view, mid = first.scored_views[-1], first.matrix.frames // 2
            holes = ~first.matrix.known[view, mid].cpu().numpy()
            figure_rows.append(
                report.crop_row(first.name, first.matrix.colors[view, mid].cpu().numpy(), holes, fills, first.truth[view, mid], CROP_SIZE)
            )

    by_views: dict[int, list[tuple[str, str, Any]]] = {}
    for label, name, inpainter in methods:
        by_views.setdefault(_views_for(config, name), []).append((label, name, inpainter))

    for kind in config.scenes:
        scene = make_scene(kind, height=config.height, width=config.width, seed=config.seed)
        with progress.timer("scenes"):
            evaluate(lambda v, s=scene: scene_case(s, frames=config.frames, views=v, divergence_pct=config.divergence), by_views, kind, "scene")

    skipped_clips: dict[str, str] = {}
    for spec in clips:
        video, _ = _split_clip(spec)
        if not Path(video).exists():
            skipped_clips[spec] = "not found"
            continue
        try:
            with progress.timer("clip depth"):
                name, frames, depth_m, depth_source = load_clip(spec, config, progress)
        except (InputError, MissingWeightsError) as exc:
            skipped_clips[spec] = str(exc)
            continue
        with progress.timer("clips"):
            evaluate(
                lambda v, f=frames, d=depth_m, n=name: round_trip_case(f, d, name=n, views=v, divergence_pct=config.divergence),
                by_views,
                name,
                "round-trip",
            )
        cases_out[-1]["details"]["depth"] = depth_source

    summary = {"scenes": _summarise(cases_out, {"scene"}, labels), "clips": _summarise(cases_out, {"round-trip"}, labels)}
    baselines = [b for b in labels if b in BASELINES]
    margins = _margins(cases_out, "classical", baselines) if "classical" in labels else {}
    beats = bool(margins) and all(m["psnr_gain_mean"] > 0 and m["flicker_reduction_mean"] > 0 for m in margins.values())
    result: dict[str, Any] = {
        "command": "eval",
        "config": dataclasses.asdict(config) | {"clips": list(clips)},
        "methods": labels,
        "skipped": {**skipped, **{f"clip {k}": v for k, v in skipped_clips.items()}},
        "cases": cases_out,
        "summary": summary,
        "margins": margins,
        "classical_beats_baselines": beats if margins else None,
    }
    files = {"json": out / "eval.json", "markdown": out / "eval.md"}
    report.write_atomic(files["markdown"], report.markdown_report(result).encode())
    if config.figure and figure_rows:
        charts = [
            report.bar_chart("disoccluded PSNR (dB), higher is better", {g: {r["method"]: r["psnr_holes"] for r in rows} for g, rows in summary.items() if rows}),
            report.bar_chart("excess flicker (8-bit levels), lower is better", {g: {r["method"]: 255 * r["flicker_excess"] for r in rows} for g, rows in summary.items() if rows}),
        ]
        files["figure"] = out / "eval.png"
        report.write_atomic(files["figure"], report.encode_png(report.compose_figure(figure_rows, charts)))
    result["outputs"] = {k: str(v) for k, v in files.items()}
    result["seconds"] = {k: round(v, 3) for k, v in progress.seconds.items() if k in ("scenes", "clips", "clip depth")}
    result["seconds"]["total"] = round(time.perf_counter() - start, 3)
    result["table"] = report.markdown_table(summary["scenes"] or summary["clips"])
    report.write_atomic(files["json"], json.dumps(report.jsonable(result), indent=2, allow_nan=False).encode())
    return {k: v for k, v in result.items() if k != "cases"} | {"cases": [{"name": c["name"], "details": c["details"]} for c in cases_out]}
