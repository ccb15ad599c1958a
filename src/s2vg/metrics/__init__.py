"""Quality and consistency measures, ground-truth scenes, and the ``eval``/``demo`` jobs.

- :mod:`s2vg.metrics.metrics`: PSNR, SSIM, motion-compensated flicker, left-right
  consistency, depth error (no weights).
- :mod:`s2vg.metrics.scenes`: procedural scenes rendered from any parallel rig with
  exact colour, depth and motion.
- :mod:`s2vg.metrics.cases`: evaluation cases from scenes, real clips (round trip) and
  stereo pairs; :mod:`s2vg.metrics.score` scores a fill against them.
- :mod:`s2vg.metrics.eval` (``run_eval``), :mod:`s2vg.metrics.pairs` (``score_pair``,
  ``run_pair_eval``), :mod:`s2vg.metrics.demo` (``run_demo``).
- :mod:`s2vg.metrics.learned`: CLIP similarity and Fréchet video distance (loads
  ``transformers`` on first use; not imported here).
"""

from s2vg.metrics.metrics import (
    depth_error,
    estimate_backward_flow,
    flicker,
    flicker_against_truth,
    lr_consistency,
    mse,
    psnr,
    ssim,
    ssim_map,
)
from s2vg.metrics.seams import SeamReport, SeamStats, chunk_boundaries, mean_disparity, seam_measure, video_seams

__all__ = [
    "SeamReport",
    "SeamStats",
    "chunk_boundaries",
    "mean_disparity",
    "seam_measure",
    "video_seams",
    "depth_error",
    "estimate_backward_flow",
    "flicker",
    "flicker_against_truth",
    "lr_consistency",
    "mse",
    "psnr",
    "ssim",
    "ssim_map",
]
