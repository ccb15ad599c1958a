"""The foreground's share of the first hole pixel beside a foreground edge.

A camera integrates light over each pixel's area, and optics, demosaicing, scaling and
compression blur it further, so the real pixel just beyond an object's edge holds part of
the object. A disocclusion's fill is background; its first pixel beside the foreground
(``h``, one step from the foreground's last warped pixel ``n`` toward the hole) is not,
for two reasons the fill can measure:

- *Where the warp put the edge.* The nearest-pixel warp rounds each pixel's target
  position. The foreground pixel at ``n`` really lies at ``n + e`` (``|e| <= 1/2``, known
  from its depth and the parallax, :mod:`.parallax`); where ``e`` points into the hole,
  its footprint covers a share ``e`` of ``h``. (With aliased, centre-sampled content the
  same share is the chance that ``h`` is foreground: the least-squares guess either way.)
- *How soft the frame's edges are.* The background pixel that ends the hole run came from
  beside the same edge in the source, so its own foreground share is the edge's softness
  there. Its median over the view's disocclusion edges (the share of the foreground's
  colour in the end pixel, against the background pixel beyond it, where the two
  differ) is added: 0 for hard-edged renders, about 0.1 on real photographs.

On the Middlebury Motorcycle pair and crops this lifted hole PSNR by 0.05-0.12 dB, on the
real clips' round trips by 0.25 dB (the regression it follows, measured on the pair: the
truth's foreground share of ``h`` rises from 0.27 where the landing error points away from
the hole to 0.65 where it points 0.3-0.5 px into it).

The eval scenes (:mod:`s2vg.metrics.scenes`) are the one kind of content it is wrong for,
by construction: each of their views is rendered as a nearest-pixel warp of one texel grid
(``rint`` per view, so that the views are warp-consistent), so their truth at ``h`` is the
warp's own rounding and holds no foreground at all (measured on ``cards`` and ``pan``: a
mean truth share of -0.10 to +0.08 in every landing bin with more than 14 pixels, where
this applies up to 0.33). There it costs 0.07 dB of mean hole PSNR (25.72 without, 25.65
with; ``cards`` 0.55 dB, while ``fence`` gains 0.11) and, on ``pan``, 0.05 levels of
flicker, as its share follows the foreground edge's sub-pixel motion. It is kept for real
footage, where the camera integrates over each pixel.
"""

from __future__ import annotations

import numpy as np

from s2vg.inpaint.classical.parallax import Parallax
from s2vg.inpaint.classical.scan import HoleAnchors

#: Least colour difference (Euclidean RGB in [0, 1]) between the foreground pixel and the
#: background beyond the hole's end for an edge to tell its softness.
_CONTRAST = 0.1
#: Fewest such edges for the softness estimate; with fewer only the landing error counts.
_MIN_EDGES = 16


def foreground_share(
    colors: np.ndarray,
    real: np.ndarray,
    depth: np.ndarray,
    anchors: HoleAnchors,
    to_source: Parallax,
    *,
    depth_tolerance: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first hole pixel of each disocclusion run beside a real foreground pixel, and
    the foreground's share of it.

    Args:
        colors: ``(T, H, W, 3)`` float32 view (scan axis last).
        real: ``(T, H, W)`` bool, pixels the warp put there (not copied, not filled).
        depth: ``(T, H, W)`` float32 depth of the real pixels.
        anchors: :func:`~s2vg.inpaint.classical.scan.find_anchors` of the holes being filled.
        to_source: the map from this view to the source (where the warp came from).
        depth_tolerance: the background pixel beyond the run's end must be at least
            ``(1 - depth_tolerance)`` times as far as the end itself.

    Returns:
        ``(index (n,) int64, near (n,) int64, share (n,) float32)``: the hole pixels (as
        indices into ``anchors``), the position of the foreground pixel beside each, and
        the share in [0, 1] of that pixel's colour in it.
    """
    width = real.shape[-1]
    near = anchors.x - anchors.direction
    # Disocclusions only: a run with a nearer end (not a crack, not the strip beyond the border).
    index = np.flatnonzero(anchors.has_anchor & ~anchors.open_end & (anchors.other < 0) & (near >= 0) & (near < width))
    t, y, n = anchors.t[index], anchors.y[index], near[index]
    keep = real[t, y, n]
    index, t, y, n = index[keep], t[keep], y[keep], n[keep]
    direction = anchors.direction[index]
    # The foreground pixel's exact position in the view is n + e, e = its rounding in the warp.
    z = depth[t, y, n].astype(np.float64)
    sx, _ = to_source(n, y, np.where(z > 0, 1.0 / np.where(z > 0, z, 1.0), 0.0))
    landing = np.where(z > 0, np.clip((np.rint(sx) - sx) * direction, 0.0, 1.0), 0.0)
    share = landing + _edge_softness(colors, real, depth, anchors, index, n, depth_tolerance)
    return index, n, np.clip(share, 0.0, 1.0).astype(np.float32)


def _edge_softness(colors: np.ndarray, real: np.ndarray, depth: np.ndarray, anchors: HoleAnchors,
                   index: np.ndarray, near: np.ndarray, depth_tolerance: float) -> float:
    """Median foreground share of the runs' background ends: the end colour projected onto
    the line from the background pixel beyond it to the foreground pixel; 0 with too few
    edges of enough contrast."""
    width = real.shape[-1]
    t, y = anchors.t[index], anchors.y[index]
    end = anchors.anchor[index]
    beyond = end + anchors.direction[index]
    ok = (beyond >= 0) & (beyond < width)
    beyond = np.clip(beyond, 0, width - 1)
    ok &= real[t, y, end] & real[t, y, beyond]
    ok &= depth[t, y, beyond] >= (1.0 - depth_tolerance) * anchors.depth[index]
    fg, bg, mixed = colors[t, y, near], colors[t, y, beyond], colors[t, y, end]
    span = fg - bg
    length2 = (span * span).sum(axis=1)
    ok &= length2 > _CONTRAST**2
    if ok.sum() < _MIN_EDGES:
        return 0.0
    share = ((mixed - bg) * span).sum(axis=1)[ok] / length2[ok]
    return float(np.median(np.clip(share, 0.0, 1.0)))
