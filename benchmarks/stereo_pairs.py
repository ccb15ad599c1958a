"""Write real rectified stereo pairs with true disparity in the Middlebury layout.

    python benchmarks/stereo_pairs.py OUT_DIR           # write the pairs
    python benchmarks/stereo_pairs.py OUT_DIR --score   # and score the fills on each


Each pair becomes ``OUT_DIR/NAME/{im0.png, im1.png, disp0.pfm}`` (left, right, left-view
disparity in pixels, ``inf`` where unknown), the layout `s2vg eval --pair DIR` and
`benchmarks/depth_quality.py --pair DIR` read.

The pair is Middlebury 2014 "Motorcycle" (Scharstein et al., GCPR 2014), downsampled 4x,
as scikit-image ships it (`skimage.data.stereo_motorcycle`, `pip install scikit-image`);
nothing is downloaded at run time. Besides the full pair, its left and right halves are
written as two more pairs (``motorcycle-left``, ``motorcycle-right``: different content,
the same photograph) and a half-resolution copy (``motorcycle-half``), so a figure is
not one image's luck.

``--score`` fills each pair's right view with every pair method of ``s2vg eval --pair``
and prints, per pair and method, the hole PSNR split into disoccluded pixels (background
revealed beside a nearer edge) and the off-frame strip (content beyond the left image's
border), with the classical fill's margin over Telea, and the ceiling: the hole PSNR each
method would reach with every disoccluded pixel exact and its own strip (where the strip
is most of the holes, no better disocclusion fill can lift the score past it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np


def motorcycle() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(left, right, disparity)``: RGB uint8 ``(H, W, 3)`` twice and float32 ``(H, W)``
    with NaN where the truth is unknown (the source marks it inf)."""
    try:
        from skimage.data import stereo_motorcycle
    except ImportError:
        sys.exit("stereo_pairs: scikit-image is needed for the Middlebury pair; install it with `pip install scikit-image`")
    left, right, disparity = stereo_motorcycle()
    disparity = np.asarray(disparity, np.float32)
    return left, right, np.where(np.isfinite(disparity), disparity, np.nan)


def write_pair(folder: Path, left: np.ndarray, right: np.ndarray, disparity: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(folder / "im0.png"), cv2.cvtColor(left, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(folder / "im1.png"), cv2.cvtColor(right, cv2.COLOR_RGB2BGR))
    # Middlebury marks unknown disparity with inf; OpenCV writes PFM with the standard header.
    cv2.imwrite(str(folder / "disp0.pfm"), np.where(np.isfinite(disparity), disparity, np.inf).astype(np.float32))


def pairs() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    left, right, disparity = motorcycle()
    h, w = disparity.shape
    half = w // 2
    # A crop of a rectified pair is still rectified; both images are cropped on the same
    # columns so the disparity stays valid (right-view pixels that fall outside are off-frame).
    out = {
        "motorcycle": (left, right, disparity),
        "motorcycle-left": (left[:, :half], right[:, :half], disparity[:, :half]),
        "motorcycle-right": (left[:, half:], right[:, half:], disparity[:, half:]),
    }
    small = (w // 2, h // 2)
    d_half = cv2.resize(np.nan_to_num(disparity, nan=0.0), small, interpolation=cv2.INTER_NEAREST) / 2.0
    known = cv2.resize(np.isfinite(disparity).astype(np.uint8), small, interpolation=cv2.INTER_NEAREST) > 0
    out["motorcycle-half"] = (
        cv2.resize(left, small, interpolation=cv2.INTER_AREA),
        cv2.resize(right, small, interpolation=cv2.INTER_AREA),
        np.where(known, d_half, np.nan).astype(np.float32),
    )
    return out


def disocclusion_ceiling(result: dict) -> float:
    """Hole PSNR (dB) a method would reach with every disoccluded pixel exact and its own
    off-frame strip: the most any better disocclusion fill can give it. Where the strip
    is most of the holes, its content (what the crop or the frame cut off, which no pixel
    of the input shows) bounds the whole score."""
    hole, off = result["hole_fraction"], result["offframe_fraction"]
    if off <= 0:
        return float("inf")
    # MSE over the holes = (off / hole) x MSE over the strip, the disoccluded part adding 0.
    return result["psnr_offframe"] - 10.0 * np.log10(off / hole)


def score(folders: list[Path]) -> None:
    """Print the per-pair table of hole PSNR (all, disoccluded, off-frame) per method, and
    each method's ceiling with perfect disocclusions (:func:`disocclusion_ceiling`)."""
    from s2vg.io import read_image
    from s2vg.metrics.pairs import PAIR_METHODS, load_disparity, middlebury_pair, score_pair

    print("| pair | holes % | off-frame % | method | PSNR holes | disoccluded | off-frame | vs Telea | ceiling | fill (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for folder in folders:
        l_path, r_path, d_path = middlebury_pair(folder)
        result = score_pair(read_image(l_path), read_image(r_path), load_disparity(d_path), PAIR_METHODS)
        telea = result["results"]["telea"]
        for method, r in result["results"].items():
            print(
                f"| {folder.name} | {100 * r['hole_fraction']:.1f} | {100 * r['offframe_fraction']:.1f} | {method} "
                f"| {r['psnr_holes']:.2f} | {r['psnr_disoccluded']:.2f} | {r['psnr_offframe']:.2f} "
                f"| {r['psnr_holes'] - telea['psnr_holes']:+.2f} ({r['psnr_disoccluded'] - telea['psnr_disoccluded']:+.2f} / "
                f"{r['psnr_offframe'] - telea['psnr_offframe']:+.2f}) | {disocclusion_ceiling(r):.2f} | {r['seconds']:.2f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write the pairs into")
    parser.add_argument("--score", action="store_true", help="score every method on each pair (writes missing pairs first)")
    args = parser.parse_args()
    made = pairs()
    for name, (left, right, disparity) in made.items():
        if args.score and (args.out / name / "disp0.pfm").is_file():
            continue
        write_pair(args.out / name, left, right, disparity)
        print(f"{args.out / name}: {left.shape[1]}x{left.shape[0]}, disparity {np.nanmin(disparity):.1f}..{np.nanmax(disparity):.1f} px, "
              f"{np.isfinite(disparity).mean():.0%} known")
    if args.score:
        score([args.out / name for name in made])


if __name__ == "__main__":
    main()
