"""Spoiled border lines: how many are found per clip, and what dropping them from the warp does.

    python3 benchmarks/edge_lines.py [PAIRS_DIR]      # default /tmp/s2vg-pairs

Part 1, per sample clip (and the pairs' left images): the spoiled lines
:func:`s2vg.geometry.edges.spoiled_edge_lines` finds at the left and right border (range over
the first 24 frames). A clean picture should show 0.

Part 2, per real stereo pair (`benchmarks/stereo_pairs.py` writes them): the left image gets
the kind of lines the DAVIS dolphin clip has at 960 px (its last two columns 26 and 66 levels
darker, its first three 47, 29 and 7 darker; scaled to the pair's width), is warped with the
true disparity and filled with the classical fill, with and without the drop, and the right
view is scored against the real right image: PSNR over every pixel and over the band of
columns the right border's lines land in (the last ``max disparity + 8`` columns). The
clean image must score the same with and without the drop (nothing is found there).
"""

from __future__ import annotations

import sys
from pathlib import Path

import av
import numpy as np
import torch

from s2vg.geometry.build import build_frame_matrix
from s2vg.geometry.depth import disparity_to_depth
from s2vg.geometry.edges import spoiled_edge_lines
from s2vg.geometry.rig import CameraRig
from s2vg.config import RigConfig
from s2vg.inpaint.base import get_inpainter
from s2vg.io import read_image
from s2vg.metrics.cases import fill_invalid_disparity
from s2vg.metrics.pairs import load_disparity, middlebury_pair

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
#: The dolphin clip's lines at 960 px: levels darker, outermost first.
RIGHT_LINES, LEFT_LINES = (66, 26), (47, 29, 7)


def clip_frames(path: Path, count: int = 24) -> np.ndarray:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".png", ".jpg"))[:count]
        return np.stack([read_image(f) for f in files])
    with av.open(str(path)) as container:
        out = []
        for frame in container.decode(video=0):
            out.append(frame.to_ndarray(format="rgb24").astype(np.float32) / 255.0)
            if len(out) == count:
                break
    return np.stack(out)


def spoil(image: np.ndarray) -> np.ndarray:
    """The dolphin clip's border lines on ``image`` ``(H, W, 3)``, scaled to its width."""
    out = image.copy()
    scale = image.shape[1] / 960.0
    for lines, side in ((RIGHT_LINES, -1), (LEFT_LINES, 0)):
        width = max(1, round(len(lines) * scale))
        for k in range(width):
            level = lines[min(len(lines) - 1, int(k / scale))] / 255.0
            col = -1 - k if side else k
            out[:, col] = np.clip(out[:, col] - level, 0.0, 1.0)
    return out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10.0 * np.log10(1.0 / max(float(((a - b) ** 2).mean()), 1e-12)))


def main() -> None:
    pairs_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/s2vg-pairs")
    clips = [SAMPLES / "videos" / "davis_dolphins.mp4", SAMPLES / "videos" / "street_demo1.mp4", SAMPLES / "astronaut" / "images"]
    print("| clip | size | spoiled lines left | right |\n|---|---|---|---|")
    for clip in clips:
        if not clip.exists():
            continue
        frames = clip_frames(clip)
        counts = spoiled_edge_lines(torch.from_numpy(frames))
        print(f"| {clip.name} | {frames.shape[2]}x{frames.shape[1]} | {int(counts[:, 0].min())}-{int(counts[:, 0].max())} "
              f"| {int(counts[:, 1].min())}-{int(counts[:, 1].max())} |")
    folders = sorted(p for p in pairs_dir.iterdir() if (p / "disp0.pfm").is_file()) if pairs_dir.is_dir() else []
    if not folders:
        print(f"\nno pairs in {pairs_dir}: write them with `python3 benchmarks/stereo_pairs.py {pairs_dir}`")
        return
    fill = get_inpainter("classical")
    print("\n| pair | left image | lines found (left, right) | drop | PSNR all | PSNR border band |")
    print("|---|---|---|---|---|---|")
    for folder in folders:
        l_path, r_path, d_path = middlebury_pair(folder)
        left, right = read_image(l_path), read_image(r_path)
        disp = fill_invalid_disparity(load_disparity(d_path)[None].astype(np.float64))
        h, w = disp.shape[1:]
        rig = CameraRig.from_config(RigConfig(views=2, baseline=0.1, focal=float(w)), h, w)
        depth = disparity_to_depth(torch.from_numpy(disp), float(w), 0.1).float()
        band = slice(w - int(np.ceil(disp.max())) - 8, w)
        for label, image in (("clean", left), ("spoiled", spoil(left))):
            found = spoiled_edge_lines(torch.from_numpy(image[None])).tolist()[0]
            for drop in (False, True):
                matrix = build_frame_matrix(torch.from_numpy(image[None]), depth, rig, drop_spoiled_edges=drop)
                out = fill(matrix).colors[1, 0].numpy()
                print(f"| {folder.name} | {label} | {found[0]}, {found[1]} | {'yes' if drop else 'no'} | {psnr(out, right):.2f} "
                      f"| {psnr(out[:, band], right[:, band]):.2f} |")


if __name__ == "__main__":
    main()
