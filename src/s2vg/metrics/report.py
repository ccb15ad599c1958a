"""The human-readable side of ``s2vg eval``: markdown tables, the PNG figure, atomic file writes.

The figure is composed with OpenCV drawing (matplotlib is not a dependency): one row of
example crops per case (input with holes in magenta, the hole mask, each method, the
truth) and bar charts of the mean disoccluded PSNR and excess flicker per method.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from s2vg.errors import OutputError

#: Columns of the per-method tables: (key, header, scale, format). Flicker is shown in
#: 8-bit grey levels (x255), everything else as stored.
TABLE_COLUMNS: tuple[tuple[str, str, float, str], ...] = (
    ("psnr_holes", "PSNR holes (dB)", 1.0, "{:.2f}"),
    ("ssim_holes", "SSIM holes", 1.0, "{:.3f}"),
    ("flicker_holes", "flicker (8-bit)", 255.0, "{:.2f}"),
    ("flicker_excess", "excess flicker (8-bit)", 255.0, "{:.2f}"),
    ("psnr_all", "PSNR all (dB)", 1.0, "{:.2f}"),
    ("ssim_all", "SSIM all", 1.0, "{:.4f}"),
    ("seconds", "fill (s)", 1.0, "{:.2f}"),
)
#: Extra columns shown when the no-reference measures were computed.
NO_REFERENCE_COLUMNS: tuple[tuple[str, str, float, str], ...] = (
    ("flicker_self", "self-flow flicker (8-bit)", 255.0, "{:.2f}"),
    ("lr_mae", "LR error (8-bit)", 255.0, "{:.2f}"),
)


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"output {str(path)!r} cannot be written ({exc.strerror or exc}); choose another output folder") from None
    return path


def jsonable(value: Any) -> Any:
    """Plain JSON values: NaN becomes null, infinities the strings "inf"/"-inf"."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, Path):
        return str(value)
    return value


def _fmt(value: Any, scale: float, pattern: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return pattern.format(value * scale)


def markdown_table(rows: Sequence[dict[str, Any]], first: str = "method", first_header: str = "method") -> str:
    """A markdown table of ``rows`` (dicts with ``first`` and the :data:`TABLE_COLUMNS` keys,
    plus the :data:`NO_REFERENCE_COLUMNS` when the rows have them)."""
    columns = TABLE_COLUMNS + tuple(c for c in NO_REFERENCE_COLUMNS if any(c[0] in r for r in rows))
    header = [first_header] + [h for _, h, _, _ in columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [str(row[first])] + [_fmt(row.get(k), s, p) for k, _, s, p in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown_report(result: dict[str, Any]) -> str:
    """The whole ``eval.md`` from :func:`s2vg.metrics.eval.run_eval`'s result."""
    cfg = result["config"]
    parts = [
        "# s2vg eval",
        "",
        f"Rendered scenes {cfg['width']}x{cfg['height']}, {cfg['frames']} frames, seed {cfg['seed']}; "
        f"divergence {cfg['divergence']} % of the width between source and target view. "
        "Scores are on the target (new) view: *holes* = pixels the fill invented (disoccluded), "
        "*all* = every pixel. Flicker = mean motion-compensated frame-to-frame change of the hole "
        "pixels in 8-bit levels (exact motion for scenes, optical flow of the real frames for clips); "
        "*excess* subtracts the same measure on the truth.",
        "",
    ]
    for group, title in (("scenes", "Rendered scenes (mean over scenes)"), ("clips", "Real clips, round-trip protocol (mean over clips)")):
        rows = result["summary"].get(group)
        if rows:
            parts += [f"## {title}", "", markdown_table(rows), ""]
    margins = result.get("margins")
    if margins:
        parts += ["## Classical vs baselines (rendered scenes)", ""]
        parts += ["| baseline | PSNR holes gain (dB) mean | min over scenes | flicker reduction (8-bit) mean | min over scenes | wins (PSNR, flicker) |", "|---|---|---|---|---|---|"]
        for name, m in margins.items():
            parts.append(
                f"| {name} | {m['psnr_gain_mean']:.2f} | {m['psnr_gain_min']:.2f} | {255 * m['flicker_reduction_mean']:.2f} | "
                f"{255 * m['flicker_reduction_min']:.2f} | {m['psnr_wins']}/{m['cases']}, {m['flicker_wins']}/{m['cases']} |"
            )
        parts += ["", f"Classical beats every baseline on both means: **{'yes' if result.get('classical_beats_baselines') else 'no'}**.", ""]
    if result.get("skipped"):
        parts += ["## Skipped", ""] + [f"- `{k}`: {v}" for k, v in result["skipped"].items()] + [""]
    parts += ["## Per case", ""]
    for case in result["cases"]:
        d = case["details"]
        facts = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in d.items() if k not in ("size",))
        parts += [f"### {case['name']}", "", facts, ""]
        rows = [{"method": m, **r} for m, r in case["results"].items()]
        parts += [markdown_table(rows), ""]
    return "\n".join(parts)


# ---------------------------------------------------------------- figure

_MAGENTA = np.array([1.0, 0.0, 1.0], np.float32)
_PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75), (227, 119, 194), (127, 127, 127)]


def crop_window(holes: np.ndarray, size: int) -> tuple[int, int, int]:
    """(y0, x0, side) of the square window of side ``min(size, H, W)`` holding the most holes.

    Args:
        holes: ``(H, W)`` bool.
    """
    h, w = holes.shape
    side = min(size, h, w)
    integral = cv2.integral(holes.astype(np.uint8))
    sums = integral[side:, side:] - integral[:-side, side:] - integral[side:, :-side] + integral[:-side, :-side]
    y0, x0 = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return int(y0), int(x0), side


def _to_u8(image: np.ndarray) -> np.ndarray:
    return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _label(tile: np.ndarray, text: str, height: int = 18) -> np.ndarray:
    bar = np.full((height, tile.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text[: max(4, tile.shape[1] // 7)], (3, height - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([bar, tile], axis=0)


def crop_row(name: str, warped: np.ndarray, holes: np.ndarray, fills: dict[str, np.ndarray], truth: np.ndarray, size: int = 128) -> np.ndarray:
    """One figure row: input, mask, each method, truth, cropped where the holes are densest.

    Args:
        warped: ``(H, W, 3)`` the target view before filling; holes: ``(H, W)`` bool;
        fills: method -> ``(H, W, 3)`` filled view; truth: ``(H, W, 3)``; all in [0, 1].

    Returns:
        ``(h, w, 3)`` uint8 RGB.
    """
    y0, x0, side = crop_window(holes, size)
    window = (slice(y0, y0 + side), slice(x0, x0 + side))
    shown = np.where(holes[..., None], _MAGENTA, warped)
    tiles = [("input", shown[window]), ("holes", np.repeat(holes[window][..., None].astype(np.float32), 3, -1))]
    tiles += [(m, f[window]) for m, f in fills.items()] + [("truth", truth[window])]
    gap = np.full((side + 18, 4, 3), 255, np.uint8)
    row = []
    for label, tile in tiles:
        row += [_label(_to_u8(tile), label), gap]
    body = np.concatenate(row[:-1], axis=1)
    title = np.full((20, body.shape[1], 3), 255, np.uint8)
    cv2.putText(title, name, (3, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([title, body], axis=0)


def bar_chart(title: str, groups: dict[str, dict[str, float]], *, width: int = 520, height: int = 240) -> np.ndarray:
    """A grouped bar chart: ``groups`` maps a group (scenes, clips) to method -> value.

    Returns:
        ``(height, width, 3)`` uint8 RGB; NaN values are left out.
    """
    img = np.full((height, width, 3), 255, np.uint8)
    cv2.putText(img, title, (8, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    methods = list(dict.fromkeys(m for g in groups.values() for m in g))
    values = [v for g in groups.values() for v in g.values() if v is not None and math.isfinite(v)]
    if not methods or not values:
        return img
    top, bottom, left, right = 30, height - 40, 10, width - 10
    lo, hi = min(0.0, min(values)), max(0.0, max(values))
    span = (hi - lo) or 1.0
    zero_y = bottom - (0.0 - lo) / span * (bottom - top)
    slot = (right - left) / max(len(groups), 1)
    bar_w = max(4, int(slot / (len(methods) + 1)))
    for gi, (group, vals) in enumerate(groups.items()):
        x = left + gi * slot + bar_w / 2
        cv2.putText(img, group, (int(left + gi * slot + 4), height - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        for mi, method in enumerate(methods):
            v = vals.get(method)
            x0 = int(x + mi * bar_w)
            if v is None or not math.isfinite(v):
                continue
            y = bottom - (v - lo) / span * (bottom - top)
            colour = _PALETTE[mi % len(_PALETTE)]
            cv2.rectangle(img, (x0, int(min(y, zero_y))), (x0 + bar_w - 3, int(max(y, zero_y))), colour, -1)
            cv2.putText(img, f"{v:.1f}", (x0, int(min(y, zero_y)) - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.3, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.line(img, (left, int(zero_y)), (right, int(zero_y)), (0, 0, 0), 1)
    # Legend.
    for mi, method in enumerate(methods):
        lx = left + (mi % 4) * ((right - left) // 4)
        ly = height - 26 + (mi // 4) * 0
        cv2.rectangle(img, (lx, ly - 8), (lx + 8, ly), _PALETTE[mi % len(_PALETTE)], -1)
        cv2.putText(img, method, (lx + 11, ly), cv2.FONT_HERSHEY_SIMPLEX, 0.33, (0, 0, 0), 1, cv2.LINE_AA)
    return img


def compose_figure(rows: list[np.ndarray], charts: list[np.ndarray]) -> np.ndarray:
    """Stack crop rows and then the charts side by side; ``(h, w, 3)`` uint8 RGB."""
    parts = list(rows)
    if charts:
        parts.append(np.concatenate(charts, axis=1))
    width = max(p.shape[1] for p in parts)
    padded = [np.pad(p, ((0, 6), (0, width - p.shape[1]), (0, 0)), constant_values=255) for p in parts]
    return np.concatenate(padded, axis=0)


def encode_png(image_rgb: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OutputError("the evaluation figure could not be encoded as PNG")
    return data.tobytes()
