"""A card crossing a textured wall before a static camera, converted through the CLI.

    python benchmarks/static_crossing_convert.py [--keep DIR] [--frames 24]

The case of issue #13, in a scene of its own: 24 frames of 256x448, a static camera
(focal 400 px, eyes 6 cm apart), a wall 6 m away (4 px of disparity) and a card 1 m away
(24 px) moving 12 px a frame, so every wall pixel the right eye needs beside the card was
fully visible two frames earlier. Wall and card are procedural textures (smooth value
noise, gratings, edges), seeded; nothing is read from disk. The left frames go in as a PNG
folder with their true metric depth:

    s2vg convert LEFT/ -o OUT/ --png-sequence --depth depth.npy --depth-kind metric
        --focal 400 --baseline 0.06 --views 2 --inpainter NAME

and the right half of each lossless SBS output is scored against the true right view:
PSNR inside the revealed wall (right-eye wall pixels whose left-eye point the card
covers), split into what the left eye saw in another frame (a fill can be exact there)
and what it never saw (the first frames: the card moves into what it covers), and on the
known pixels (visible to both eyes), for the classical fill and the simple fills (black,
Telea, nearest background).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

H, W = 256, 448
FOCAL, BASELINE = 400.0, 0.06
WALL_Z, CARD_Z = 6.0, 1.0
CARD_H, CARD_W, SPEED = 120, 96, 12


def _noise(rng: np.random.Generator, h: int, w: int, scales=(4, 12, 40)) -> np.ndarray:
    """(h, w, 3) smooth colour noise in [0, 1]: bicubic-upsampled random grids, summed."""
    out = np.zeros((h, w, 3), np.float32)
    for i, s in enumerate(scales):
        grid = rng.random((h // s + 2, w // s + 2, 3)).astype(np.float32)
        out += cv2.resize(grid, (w + 2 * s, h + 2 * s), interpolation=cv2.INTER_CUBIC)[s : s + h, s : s + w] / (i + 1)
    out -= out.min()
    return out / out.max()


def textures(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(wall (H, W + pad, 3), card (CARD_H, CARD_W, 3))`` float32 in [0, 1]."""
    rng = np.random.default_rng(seed)
    pad = int(np.ceil(FOCAL * BASELINE / WALL_Z)) + 1
    wall = 0.7 * _noise(rng, H, W + pad)
    yy, xx = np.mgrid[0:H, 0 : W + pad].astype(np.float32)
    wall += 0.15 * (np.sin(xx / 7.0 + 0.3 * yy / 11.0) > 0)[..., None] * np.array([0.9, 0.6, 0.3], np.float32)
    wall[(yy.astype(int) // 32 + xx.astype(int) // 48) % 5 == 0] *= 0.8  # blocks with hard edges
    card = 0.5 * _noise(rng, CARD_H, CARD_W, scales=(3, 8)) + 0.4 * (
        ((np.arange(CARD_H)[:, None] // 12 + np.arange(CARD_W)[None] // 12) % 2)[..., None] * np.array([0.2, 0.3, 0.9])
    )
    return np.clip(wall, 0, 1).astype(np.float32), np.clip(card, 0, 1).astype(np.float32)


def render(frames: int, seed: int = 0):
    """``(left, depth, right, revealed, seen, known)``: ``(T, H, W, 3)`` views, ``(T, H, W)``
    depth in metres of the left view, and ``(T, H, W)`` bool masks of the right view
    (``seen``: revealed pixels whose wall point the left eye saw in some other frame)."""
    wall, card = textures(seed)
    d_wall, d_card = FOCAL * BASELINE / WALL_Z, FOCAL * BASELINE / CARD_Z
    assert d_wall == int(d_wall) and d_card == int(d_card)
    d_wall, d_card = int(d_wall), int(d_card)
    top = (H - CARD_H) // 2
    left = np.empty((frames, H, W, 3), np.float32)
    right = np.empty_like(left)
    depth = np.full((frames, H, W), WALL_Z, np.float32)
    revealed = np.zeros((frames, H, W), bool)
    known = np.zeros((frames, H, W), bool)
    visible = np.zeros((frames, W), bool)  # left-eye wall columns the card leaves free (card rows)
    x = np.arange(W)
    for t in range(frames):
        x0 = 20 + SPEED * t
        on_left = (x >= x0) & (x < x0 + CARD_W)
        left[t] = wall[:, :W]
        left[t, top : top + CARD_H, on_left] = card[:, x[on_left] - x0].transpose(1, 0, 2)
        depth[t, top : top + CARD_H, on_left] = CARD_Z
        visible[t] = ~on_left
        # Right eye: a point at left x appears at x - d; the wall at right x is left x + d_wall.
        right[t] = wall[:, d_wall : d_wall + W]
        on_right = (x >= x0 - d_card) & (x < x0 - d_card + CARD_W)
        right[t, top : top + CARD_H, on_right] = card[:, x[on_right] - (x0 - d_card)].transpose(1, 0, 2)
        src = x + d_wall  # left-eye column of the wall point seen at right x
        inside = src < W
        covered = np.zeros((H, W), bool)
        covered[top : top + CARD_H] = inside & (src >= x0) & (src < x0 + CARD_W)
        wall_here = np.ones((H, W), bool)
        wall_here[top : top + CARD_H, on_right] = False
        revealed[t] = wall_here & covered
        known[t] = (wall_here & ~covered & inside[None]) | ~wall_here
    seen = np.zeros_like(revealed)
    for t in range(frames):
        cols = np.flatnonzero(revealed[t].any(axis=0))
        others = np.delete(visible, t, axis=0).any(axis=0)
        seen[t][:, cols] = revealed[t][:, cols] & others[cols + d_wall][None]
    return left, depth, right, revealed, seen, known


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(1.0 / mse)


def convert(folder: Path, name: str, frames_dir: Path, depth_file: Path) -> np.ndarray:
    """The right eye of ``s2vg convert`` with inpainter ``name``: ``(T, H, W, 3)`` float32."""
    out = folder / f"out_{name}"
    cmd = [sys.executable, "-m", "s2vg.cli", "convert", str(frames_dir), "-o", str(out), "--png-sequence", "--overwrite",
           "--depth", str(depth_file), "--depth-kind", "metric", "--focal", str(FOCAL), "--baseline", str(BASELINE),
           "--views", "2", "--inpainter", name]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"conversion failed: {' '.join(cmd)}\n{done.stderr[-2000:]}")
    files = sorted(p for p in out.rglob("*.png"))
    sbs = np.stack([cv2.cvtColor(cv2.imread(str(p), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) for p in files])
    return sbs[:, :, W:].astype(np.float32) / 255.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", default=None, help="folder for the frames and outputs (kept)")
    parser.add_argument("--inpainters", default="classical,nearest-background,telea,black")
    args = parser.parse_args()
    left, depth, right, revealed, seen, known = render(args.frames, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        frames_dir = folder / "left"
        frames_dir.mkdir(parents=True, exist_ok=True)
        for t, frame in enumerate(left):
            cv2.imwrite(str(frames_dir / f"{t:04d}.png"), cv2.cvtColor((frame * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR))
        depth_file = folder / "depth.npy"
        np.save(depth_file, depth)
        truth = np.round(right * 255) / 255  # what an 8-bit truth would hold
        print(f"static crossing: {args.frames} frames {W}x{H}, wall {WALL_Z} m, card {CARD_Z} m moving {SPEED} px/frame; "
              f"revealed {revealed.mean() * 100:.2f} % of the right view ({seen.sum() / revealed.sum() * 100:.0f} % of it seen by "
              f"the left eye in another frame), known {known.mean() * 100:.1f} %")
        print(f"{'inpainter':>20} {'revealed dB':>12} {'seen dB':>8} {'unseen dB':>10} {'known dB':>9}")
        for name in args.inpainters.split(","):
            eye = convert(folder, name, frames_dir, depth_file)
            unseen = revealed & ~seen
            print(f"{name:>20} {psnr(eye[revealed], truth[revealed]):12.2f} {psnr(eye[seen], truth[seen]):8.2f} "
                  f"{psnr(eye[unseen], truth[unseen]) if unseen.any() else float('nan'):10.2f} {psnr(eye[known], truth[known]):9.2f}")


if __name__ == "__main__":
    main()
