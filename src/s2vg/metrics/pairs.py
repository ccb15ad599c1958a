"""Real stereo pairs: score each inpainter against the real right image of a rectified pair.

``s2vg eval --pair LEFT RIGHT --disparity FILE`` (or ``--pair FOLDER`` in the Middlebury
layout: ``im0.png``, ``im1.png``, ``disp0.pfm``): the left image is warped to the right
camera with its true disparity (inf/NaN filled from the background side), each method
fills the disocclusions, and the fill is scored against the real right image inside the
disoccluded pixels (and everywhere). Disparity files as the common datasets give them:
``.pfm`` (Middlebury, SceneFlow; inf where invalid), 16-bit ``.png`` (KITTI: value/256,
0 = invalid) or ``.npy``/``.npz``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

import cv2
import numpy as np

from s2vg.errors import InputError, MissingWeightsError
from s2vg.metrics import report
from s2vg.metrics.cases import EvalCase, pair_case
from s2vg.metrics.metrics import lr_consistency
from s2vg.metrics.score import score_filled

#: Methods of :func:`score_pair` when none are named.
PAIR_METHODS: tuple[str, ...] = ("black", "telea", "nearest-background", "classical")


def load_disparity(path: str | Path) -> np.ndarray:
    """Disparity in pixels ``(H, W)`` (or ``(T, H, W)`` from NumPy files), NaN where invalid.

    Raises:
        InputError: missing or undecodable file.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"disparity {str(path)!r} does not exist; give a .pfm, 16-bit .png, .npy or .npz file")
    suffix = path.suffix.lower()
    if suffix == ".pfm":
        disp = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if disp is None:
            raise InputError(f"disparity {str(path)!r} cannot be decoded as PFM; give a valid .pfm file")
        disp = disp.astype(np.float32)
        if disp.ndim == 3:
            disp = disp[..., 0]
        return np.where(np.isfinite(disp), disp, np.nan).astype(np.float32)
    if suffix == ".png":
        disp = cv2.imread(str(path), cv2.IMREAD_ANYDEPTH | cv2.IMREAD_GRAYSCALE)
        if disp is None or disp.dtype != np.uint16:
            raise InputError(f"disparity {str(path)!r} is not a 16-bit PNG; give KITTI-style disparity (value/256, 0 = invalid)")
        return np.where(disp > 0, disp.astype(np.float32) / 256.0, np.nan).astype(np.float32)
    from s2vg.io.depth_files import load_depth

    disp = load_depth(path)
    return disp[0] if disp.shape[0] == 1 else disp


def middlebury_pair(folder: str | Path) -> tuple[Path, Path, Path]:
    """``(left, right, disparity)`` paths of a pair folder in the Middlebury layout
    (``im0.png``, ``im1.png``, ``disp0.pfm``; also ``disp0GT.pfm`` of the 2006 sets).

    Raises:
        InputError: not a folder, or a file of the layout is missing.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"stereo pair folder {str(folder)!r} does not exist; give a folder with im0.png, im1.png, disp0.pfm or --pair LEFT RIGHT --disparity FILE")
    disparity = next((folder / n for n in ("disp0.pfm", "disp0GT.pfm") if (folder / n).is_file()), folder / "disp0.pfm")
    for path in (folder / "im0.png", folder / "im1.png", disparity):
        if not path.is_file():
            raise InputError(f"stereo pair folder {str(folder)!r} has no {path.name}; give the Middlebury layout (im0.png, im1.png, disp0.pfm)")
    return folder / "im0.png", folder / "im1.png", disparity


def score_pair(
    left: np.ndarray,
    right: np.ndarray,
    disparity_px: np.ndarray,
    inpainters: Iterable[tuple[str, Any]] | Sequence[str] = PAIR_METHODS,
    *,
    keep_fills: bool = False,
) -> dict[str, Any]:
    """Fill the left-to-right disocclusions of a rectified pair with each inpainter and score them.

    Args:
        left, right: ``(H, W, 3)`` (or ``(T, H, W, 3)``) float32 in [0, 1].
        disparity_px: ``(H, W)`` (or ``(T, H, W)``) left disparity in pixels; inf/NaN invalid.
        inpainters: registry names, or ``(label, inpainter)`` pairs; names whose weights
            are missing are skipped.
        keep_fills: also return each method's filled right image(s) under ``"fills"``.

    Returns:
        ``{"case": details, "results": {label: scores + lr_consistency}, "truth_lr": ...,
        "skipped": {...}}``; scores as :func:`s2vg.metrics.score.score_filled`,
        ``lr_mae`` is the left-right consistency of (left, filled right).
    """
    from s2vg.inpaint.base import get_inpainter

    case = pair_case(left, right, disparity_px)
    methods, skipped = [], {}
    for item in inpainters:
        if isinstance(item, str):
            try:
                methods.append((item, get_inpainter(item)))
            except MissingWeightsError as exc:
                skipped[item] = str(exc)
        else:
            methods.append(item)
    disp = _case_disparity(case)
    view = case.scored_views[0]
    results, fills = {}, {}
    for label, inpainter in methods:
        start = time.perf_counter()
        filled = inpainter(case.matrix)
        seconds = time.perf_counter() - start
        colors = filled.colors[view].cpu().numpy()
        scores = score_filled(case, filled)
        scores["lr_mae"] = lr_consistency(case.truth[0], colors, disp)["mae"]
        results[label] = {**scores, "seconds": seconds}
        if keep_fills:
            fills[label] = colors
    out: dict[str, Any] = {
        "case": case.details,
        "results": results,
        "truth_lr": lr_consistency(case.truth[0], case.truth[view], disp),
        "skipped": skipped,
    }
    if keep_fills:
        out["fills"] = fills
        out["matrix_case"] = case
    return out


def _case_disparity(case: EvalCase) -> np.ndarray:
    """The (filled) left disparity the case warped with, ``(T, H, W)``."""
    rig = case.matrix.rig
    baseline = float(rig.positions[case.scored_views[0], 0] - rig.positions[rig.source_index, 0])
    return rig.focal * baseline / case.matrix.depth[rig.source_index].double().cpu().numpy()


def run_pair_eval(
    left_path: str | Path,
    right_path: str | Path,
    disparity_path: str | Path,
    output_dir: str | Path = "s2vg-eval",
    *,
    methods: Sequence[str] = PAIR_METHODS,
) -> dict[str, Any]:
    """``s2vg eval --pair LEFT RIGHT --disparity FILE``: read, :func:`score_pair`, write ``pair.json``/``pair.md``/``pair.png``.

    Returns:
        the summary dict (scores per method, outputs, skipped methods).
    """
    from s2vg.io import read_image

    left, right = read_image(left_path), read_image(right_path)
    disp = load_disparity(disparity_path)
    if disp.shape != left.shape[:2]:
        raise InputError(f"disparity {str(disparity_path)!r} has shape {disp.shape} but the left image is {left.shape[:2]}; give the left image's disparity")
    result = score_pair(left, right, disp, methods, keep_fills=True)
    case: EvalCase = result.pop("matrix_case")
    fills = result.pop("fills")
    out = Path(output_dir)
    try:
        out.mkdir(exist_ok=True)
    except OSError as exc:
        from s2vg.errors import OutputError

        raise OutputError(f"output folder {str(out)!r} cannot be created ({exc.strerror or exc})") from None
    rows = [{"method": m, **r} for m, r in result["results"].items()]
    md = "\n".join(
        [
            "# s2vg eval: stereo pair",
            "",
            f"left {left_path}, right {right_path}, disparity {disparity_path}; largest disparity "
            f"{result['case']['max_disparity_px']:.1f} px, holes {100 * result['case']['hole_fraction']:.2f} % of the right image. "
            f"Left-right consistency of the true pair: MAE {result['truth_lr']['mae']:.4f} over {100 * result['truth_lr']['checked']:.1f} % of the pixels.",
            "",
            report.markdown_table(rows),
            "",
            f"Holes split: disoccluded (background revealed beside a nearer edge) and off-frame "
            f"(the strip beyond the left image's border, {100 * result['results'][rows[0]['method']]['offframe_fraction']:.2f} % of the image).",
            "",
            "| method | PSNR disoccluded (dB) | PSNR off-frame (dB) |",
            "|---|---|---|",
            *[f"| {r['method']} | {r['psnr_disoccluded']:.2f} | {r['psnr_offframe']:.2f} |" for r in rows],
            "",
        ]
    )
    view = case.scored_views[0]
    holes = ~case.matrix.known[view, 0].cpu().numpy()
    figure = report.crop_row("pair", case.matrix.colors[view, 0].cpu().numpy(), holes, {m: f[0] for m, f in fills.items()}, case.truth[view, 0], 192)
    files = {"json": out / "pair.json", "markdown": out / "pair.md", "figure": out / "pair.png"}
    report.write_atomic(files["markdown"], md.encode())
    report.write_atomic(files["figure"], report.encode_png(figure))
    summary = {"command": "eval-pair", "left": str(left_path), "right": str(right_path), "disparity": str(disparity_path), **result}
    summary["outputs"] = {k: str(v) for k, v in files.items()}
    summary["table"] = report.markdown_table(rows)
    report.write_atomic(files["json"], json.dumps(report.jsonable(summary), indent=2, allow_nan=False).encode())
    return summary
