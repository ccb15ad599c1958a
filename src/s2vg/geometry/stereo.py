"""Effect strength in viewers' terms: divergence and convergence to baseline and sensor shift.

*Divergence* is the disparity of the nearest content between the two output eyes, in
percent of the frame width (comfortable on a headset at about 2-3 %). *Convergence* in
[0, 1] picks which depth sits at the screen plane, along normalised inverse depth: 0 the
farthest content, 1 the nearest. Without convergence the cameras are parallel and
infinity is at the screen plane, as the method (and VR180) has it.
"""

from __future__ import annotations


def max_inv_depth(far: float | None, near: float | None) -> float:
    """Largest inverse depth (1/m) after normalisation: nearest content is at 1/this metres."""
    return (1.0 / near if near is not None else 1.0) + (1.0 / far if far is not None else 0.0)


def baseline_for_divergence(divergence_pct: float, width: int, focal: float, inv_depth_near: float) -> float:
    """Baseline in metres that gives the nearest content ``divergence_pct`` % of ``width`` disparity.

    Disparity between cameras ``B`` apart is ``focal * B * inv_depth`` pixels.
    """
    return divergence_pct / 100.0 * width / (focal * inv_depth_near)


def convergence_shift_per_metre(convergence: float, focal: float, inv_depth_far: float, inv_depth_near: float) -> float:
    """Sensor shift (pixels per metre of baseline) that puts the chosen depth at zero disparity.

    Args:
        convergence: 0 puts the farthest content (``inv_depth_far``) at the screen plane,
            1 the nearest (``inv_depth_near``); linear in inverse depth between them.
    """
    return focal * (inv_depth_far + convergence * (inv_depth_near - inv_depth_far))
