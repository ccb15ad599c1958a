"""A weight-free depth estimator from cues that need no training: parallax, position, occlusion, colour edges.

What it does, per frame, at a working resolution of about 320 px on the long side:

1. **Motion parallax.** DIS optical flow to the previous frame (the next one at the start
   of a shot). A similarity transform (rotation, zoom, pan) fitted to the flow with RANSAC
   models the dominant motion, i.e. camera rotation and the largest surface. What is left
   over, the residual flow, grows with inverse depth for a translating camera
   (``|residual| ~ baseline * |1/Z - 1/Z_dominant|``), and is large on things that move on
   their own, which are mostly foreground. Its magnitude, divided by a running scale of
   the clip's residuals, is the parallax cue in [0, 1]. Only textured pixels count (the
   smallest eigenvalue of the structure tensor): on flat sky, water or walls DIS
   propagates flow from elsewhere, which measured nothing.
2. **Occlusion.** Where forward and backward flow disagree, the pixel is being covered or
   uncovered; at a depth edge that is always the farther surface, so these pixels count as
   evidence for "far", not as parallax.
3. **Which layer is behind** (``reference="auto"``). The dominant motion is the background
   only when nothing lies behind it. For a translating camera the residual flow along its
   main axis (the *signed* parallax) is affine in inverse depth, with a sign flow cannot
   tell. Three votes decide the sign, accumulated over the shot: occlusions (at a pixel
   being covered or uncovered, the forward flow is its own surface's and the flow found
   back from the other frame is the occluder's, whose end of the axis is near), the
   position prior (the end that goes with lower rows is near) and figure/ground (a
   dominant layer seldom seen on the frame border is enclosed by the rest, so in front of
   it: the moving pixels' end is far). When most moving pixels lie behind the dominant
   layer (a camera-tracked near subject), or the sign is clear, parallax is measured from
   the far end of the axis instead of from the dominant motion. When the evidence trusts
   neither reference (the dominant layer is neither clearly ground nor clearly in front, or
   the far end is called for with an unsure sign), the effect strength
   (:attr:`HeuristicState.strength`, applied by the depth stage through
   :func:`~s2vg.depth.weaken_range`) shrinks toward a quarter, the confidence drops, and a
   one-line warning says so: a weak effect rather than a strong wrong one.
4. **Time.** Evidence and its confidence are accumulated recursively along the flow (an
   exponential window of about ``1 / evidence_rate`` frames), so an object that stops
   moving keeps its depth for a while and the output does not flicker; accumulation
   restarts at every shot cut.
5. **Colour edges.** A normalised guided filter (evidence and confidence filtered with the
   colour frame as guide, then divided) spreads the sparse evidence over regions of
   similar colour, so depth edges follow colour edges.
6. **Image position.** Where there is no parallax evidence (a still camera on a still
   scene, or before enough motion has been seen), inverse depth falls back to a prior that
   grows from the top of the frame to the bottom (ground nearer than sky), flattened a
   little over regions of similar colour so that objects get one depth rather than a ramp.

What it cannot do: it sees no depth in a still image or a still shot beyond "lower is
nearer"; it cannot tell whether an independently moving object is near or far (it assumes
near); a near object that fills most of the frame *and* touches the border as much as the
background does, with too few occlusions to vote, can still come out behind (the effect is
then weakened, not corrected); forward motion (zoom-like parallax) is partly absorbed by the zoom of
the similarity model. Expect a plausible, stable, layered effect, not measured depth. A
learned model (``--depth depth-anything-v2-small``) is much better wherever it is available.

Streaming: :meth:`HeuristicDepthEstimator.estimate` takes and returns a
:class:`HeuristicState`, so a long video can be processed chunk by chunk with the same
results as one call on the whole clip (exactly the same, except when a shot starts on a
chunk's last frame: that frame then cannot look ahead and starts from the prior alone).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import cv2
import numpy as np

from s2vg.depth._checks import check_frames
from s2vg.depth._flow import DenseFlow, pixel_grid, to_gray_u8, warp_to
from s2vg.depth._guided import GuidedFilter, guided_filter
from s2vg.depth.shots import ShotCutDetector
from s2vg.errors import OptionError
from s2vg.progress import SILENT, Progress

# Residual flow below this many pixels (at working resolution) is DIS noise, not parallax.
_NOISE_PX = 0.25
# Residual flow at which the parallax cue of a frame is fully trusted.
_TRUSTED_PX = 1.0
# Forward-backward flow disagreement (pixels) above which a pixel counts as occluded.
_OCCLUSION_PX = 1.0
# Spacing (pixels at working resolution) of the flow samples the dominant motion is fitted to.
_SAMPLE_STEP = 6
# Smallest eigenvalue of the 5x5 structure tensor (luma in [0, 1], 3x3 Sobel) at which a
# pixel's flow counts half: below it the flow is mostly propagated from elsewhere (sky,
# water, walls), not measured. Sample clips: 25 % (street) to 75 % (dolphins) of pixels are below.
_TEXTURE = 1e-4
# Signed parallax (residual flow along its main axis) is affine in inverse depth for a
# translating camera; these decide which end is near and whether the dominant layer is behind.
# |corr| of the signed parallax with the image row at which the position prior's vote counts fully.
_PRIOR_CORR = 0.5
# Occluded pixels (share of the frame) at which the occlusion vote counts fully.
_OCCLUSION_SHARE = 0.01
# Evidence in [-1, 1] that the dominant layer is near, from which (0) to which (1) the far
# end of the signed parallax replaces the dominant motion as the reference.
_NEAR_FROM, _NEAR_TO = 0.1, 0.4
# |order evidence| at which the near/far order is fully trusted (below it the effect shrinks).
_ORDER_TRUSTED = 0.3
# Figure evidence at or below which the dominant layer counts as the ground (the background).
_GROUND = -0.5
# Evidence that the dominant layer is near, below minus this, at which the dominant motion is trusted as the background.
_DOMINANT_TRUSTED = 0.2
# Mean parallax confidence at which a frame's effect strength fully follows the order's trust.
_PRESENT = 0.3
# Width of the frame-border ring (share of the short side) for the figure/ground cue, and the
# difference (area share - border share) of the dominant layer at which that cue counts fully.
_BORDER_RING, _FIGURE_FULL = 0.06, 0.3
# Residual flow (pixels) below which a pixel moves with the dominant layer.
_DOMINANT_PX = 0.5
#: Smallest effect strength the estimator asks for (a weak effect, never a flat one).
MIN_STRENGTH = 0.25
#: Mean confidence below which the estimator warns (one line) that its depth is mostly a guess.
LOW_CONFIDENCE = 0.25


@dataclass
class HeuristicState:
    """What the heuristic estimator carries from one chunk to the next (all at working resolution).

    Attributes:
        gray: ``(h, w)`` uint8 luma of the last frame seen, or None before the first frame.
        evidence: ``(h, w)`` float32 accumulated confidence-weighted parallax cue.
        confidence: ``(h, w)`` float32 accumulated confidence in [0, 1].
        residual_scale: running scale (pixels) of the residual flow of the current shot.
        detector: shot-cut detector state, indices counted from the first frame of the video.
        order: running evidence in [-1, 1] on which end of the signed parallax axis is near
            (+1: larger signed parallax is nearer), weighted by parallax trust, current shot.
        behind: running share in [0, 1] of the moving pixels that lie on the far side of
            the dominant motion (high: the dominant layer is near, e.g. a tracked subject).
        figure: running evidence in [-1, 1] that the dominant layer is a figure (enclosed by
            the rest, seldom on the frame border, so near) rather than the ground around it.
        order_weight: running weight of the three, for normalisation.
        strength: per frame of the video so far, the share in (0, 1] of the full 3D effect
            the depth deserves: below 1 where the parallax calls for a near/far order that
            the evidence does not settle (see :func:`s2vg.depth.weaken_range`).
        confidence_sum, confidence_frames: sum and count of the per-frame confidence (the
            video's mean is :attr:`HeuristicDepthEstimator.confidence`).
        warned: whether the low-confidence warning was given.
    """

    gray: np.ndarray | None = None
    evidence: np.ndarray | None = None
    confidence: np.ndarray | None = None
    residual_scale: float | None = None
    detector: ShotCutDetector = field(default_factory=ShotCutDetector)
    order: float = 0.0
    behind: float = 0.0
    figure: float = 0.0
    order_weight: float = 0.0
    strength: list[float] = field(default_factory=list)
    confidence_sum: float = 0.0
    confidence_frames: int = 0
    warned: bool = False


class HeuristicDepthEstimator:
    """Weight-free inverse depth from motion parallax, occlusion, colour edges and image position.

    Args:
        work_size: long side in pixels of the working resolution; defaults to 320.
        evidence_rate: weight of the newest frame in the recursive accumulation of
            parallax evidence (0..1; smaller = steadier and slower); defaults to 0.25.
        parallax_weight: largest share of the output taken by the parallax cue (the rest
            stays with the position prior); defaults to 0.8.
        smooth_radius: radius in pixels (working resolution) of the guided filter that
            spreads evidence over similar colours; defaults to 12.
        smooth_eps: its regulariser, squared colour units of [0, 1]; defaults to 1e-2.
        edge_radius: radius in pixels (full resolution) of the final guided filter that
            puts depth edges on colour edges; 0 skips it; defaults to 4.
        reference: what the parallax is measured against. ``"auto"``: the dominant motion,
            unless most moving pixels lie behind it on the signed parallax axis (a tracked
            near subject), then the far end of that axis; near/far on the axis is decided
            from occlusions, the position prior and figure/ground; evidence that settles
            neither reference weakens the effect (:attr:`frame_strength`) and lowers
            :attr:`confidence`. ``"dominant"``: always the dominant motion, full strength (the
            estimator before the far-layer reference; kept for comparison); defaults to ``"auto"``.
    """

    name = "heuristic"
    # The recursive accumulation along the flow removes most flicker, and stabilisation
    # still halves what is left (sample clips), so it is not skipped.
    temporally_consistent = False

    def __init__(
        self,
        work_size: int = 320,
        evidence_rate: float = 0.25,
        parallax_weight: float = 0.8,
        smooth_radius: int = 12,
        smooth_eps: float = 1e-2,
        edge_radius: int = 4,
        reference: str = "auto",
    ) -> None:
        if not isinstance(work_size, int) or work_size < 16:
            raise OptionError(f"heuristic depth work size must be an integer >= 16; got {work_size!r}")
        if not 0.0 < evidence_rate <= 1.0:
            raise OptionError(f"heuristic depth evidence rate must be in (0, 1]; got {evidence_rate!r}")
        if not 0.0 <= parallax_weight <= 1.0:
            raise OptionError(f"heuristic depth parallax weight must be in [0, 1]; got {parallax_weight!r}")
        if reference not in ("auto", "dominant"):
            raise OptionError(f"heuristic depth reference must be auto or dominant; got {reference!r}")
        self.work_size = work_size
        self.evidence_rate = float(evidence_rate)
        self.parallax_weight = float(parallax_weight)
        self.smooth_radius = int(smooth_radius)
        self.smooth_eps = float(smooth_eps)
        self.edge_radius = int(edge_radius)
        self.reference = reference
        self._flow = DenseFlow()
        self._last_state: HeuristicState | None = None

    @property
    def frame_strength(self) -> np.ndarray | None:
        """``(T,)`` float64 effect strength per frame of the last video estimated (see :attr:`HeuristicState.strength`)."""
        return None if self._last_state is None else np.asarray(self._last_state.strength, np.float64)

    @property
    def confidence(self) -> float | None:
        """Mean per-frame confidence in [0, 1] of the last video estimated (None before any).

        A frame's confidence is the share of its depth that comes from parallax evidence with
        a trusted near/far order (0: the position prior alone, as on a still image)."""
        state = self._last_state
        if state is None or state.confidence_frames == 0:
            return None
        return state.confidence_sum / state.confidence_frames

    def __call__(self, frames: np.ndarray, progress: Progress = SILENT) -> np.ndarray:
        """Relative inverse depth of a whole clip.

        Args:
            frames: ``(T, H, W, 3)`` float32 RGB in [0, 1].
            progress: progress sink; stage ``"depth"``, one update per frame.

        Returns:
            ``inv_depth`` ``(T, H, W)`` float32 in [0, 1], larger = nearer.
        """
        inv_depth, _ = self.estimate(frames, None, progress)
        return inv_depth

    def estimate(self, frames: np.ndarray, state: HeuristicState | None = None, progress: Progress = SILENT) -> tuple[np.ndarray, HeuristicState]:
        """Inverse depth of the next chunk of a video, continuing from ``state``.

        Args:
            frames: ``(T, H, W, 3)`` float32 RGB in [0, 1], the frames after those already seen.
            state: what the previous chunk returned; None for the first chunk.
            progress: progress sink; stage ``"depth"``, one update per frame.

        Returns:
            ``(inv_depth, state)``: ``(T, H, W)`` float32 in [0, 1] (larger = nearer), and the
            state to pass with the next chunk.
        """
        frames = check_frames(frames)
        state = state if state is not None else HeuristicState()
        num, height, width = frames.shape[:3]
        scale = min(1.0, self.work_size / max(height, width))
        hs, ws = (max(8, round(height * scale)), max(8, round(width * scale))) if scale < 1.0 else (height, width)
        small = np.stack([cv2.resize(f, (ws, hs), interpolation=cv2.INTER_AREA) for f in frames]) if scale < 1.0 else frames
        gray = to_gray_u8(small)
        first_index = state.detector.frames_seen
        cuts = set(state.detector.update(frames))
        grid = pixel_grid(hs, ws)
        prior = self._position_prior(hs, ws)
        out = np.empty((num, height, width), np.float32)
        with progress.stage("depth", total=num, unit="frame") as bar:
            for t in range(num):
                new_shot = state.gray is None or (first_index + t) in cuts
                if new_shot:
                    state.evidence = np.zeros((hs, ws), np.float32)
                    state.confidence = np.zeros((hs, ws), np.float32)
                    state.residual_scale = None
                    state.order = state.behind = state.figure = state.order_weight = 0.0
                    # The first frame of a shot looks ahead to the next frame when it has one in this chunk.
                    has_next = t + 1 < num and (first_index + t + 1) not in cuts
                    if has_next:
                        self._accumulate(state, gray[t], gray[t + 1], grid, previous=False)
                else:
                    self._accumulate(state, gray[t], state.gray, grid, previous=True)
                state.gray = gray[t]
                inv_small = self._combine(small[t], state, prior)
                inv = cv2.resize(inv_small, (width, height), interpolation=cv2.INTER_LINEAR) if scale < 1.0 else inv_small
                if self.edge_radius > 0:
                    inv = guided_filter(frames[t], inv, self.edge_radius, 1e-3)
                out[t] = np.clip(inv, 0.0, 1.0)
                bar.update(1)
        self._last_state = state
        if not state.warned and state.confidence_frames and state.confidence_sum / state.confidence_frames < LOW_CONFIDENCE:
            state.warned = True
            warnings.warn(
                f"weight-free depth has low confidence ({state.confidence_sum / state.confidence_frames:.2f} of 1): little parallax "
                "or an unclear near/far order, so the depth is mostly 'lower is nearer' (the effect is weakened where the order is unclear); "
                "a depth model (--depth depth-anything-v2-small) gives real depth",
                stacklevel=2,
            )
        return out, state

    def _accumulate(self, state: HeuristicState, gray_t: np.ndarray, gray_other: np.ndarray, grid: np.ndarray, previous: bool) -> None:
        """Add frame ``t``'s parallax and occlusion evidence; ``previous`` says the other frame is ``t - 1`` (else ``t + 1``)."""
        flow = self._flow(gray_t, gray_other)
        back = self._flow(gray_other, gray_t)
        back_at, inside = warp_to(back, flow, grid)
        mismatch = np.linalg.norm(flow + back_at, axis=-1)
        occluded = (mismatch > _OCCLUSION_PX + 0.05 * np.linalg.norm(flow, axis=-1)) | ~inside
        visible = ~occluded
        texture = cv2.cornerMinEigenVal(gray_t.astype(np.float32) / 255.0, 5, 3)
        measured = texture / (texture + _TEXTURE)  # 0 on flat regions, 1 on strong texture
        reliable = visible & (texture > _TEXTURE)
        residual_vec = flow - self._dominant_flow(flow, reliable, grid)
        residual = np.linalg.norm(residual_vec, axis=-1)
        strength = float(np.percentile(residual[reliable], 95)) if reliable.sum() > 16 else 0.0
        trust = float(np.clip((strength - _NOISE_PX) / (_TRUSTED_PX - _NOISE_PX), 0.0, 1.0))
        if trust > 0.0:
            state.residual_scale = strength if state.residual_scale is None else 0.8 * state.residual_scale + 0.2 * strength
        scale = max(state.residual_scale or _TRUSTED_PX, _TRUSTED_PX)
        cue = np.clip(residual / scale, 0.0, 1.0) * visible  # occluded pixels: evidence for "far" (0)
        weight = (trust * measured * np.where(visible, 1.0, 0.5)).astype(np.float32)
        rate = self.evidence_rate
        if self.reference == "auto" and trust > 0.0:
            # The signed axis must mean the same in every frame: flows to the next frame are turned around.
            turn = 1.0 if previous else -1.0
            signed = self._update_order(state, turn * residual_vec, turn * flow, turn * back_at, occluded & inside, reliable, grid, trust)
            if signed is not None:
                beta = self._behind_share(state)
                cue = (1.0 - beta) * cue + beta * signed * visible
        if previous:
            # Bring the accumulated evidence from the previous frame onto this frame along the flow.
            evidence, _ = warp_to(state.evidence, flow, grid)
            confidence, _ = warp_to(state.confidence, flow, grid)
            evidence *= inside
            confidence *= inside
        else:
            evidence, confidence = np.zeros_like(cue, dtype=np.float32), np.zeros_like(cue, dtype=np.float32)
        state.evidence = ((1.0 - rate) * evidence + rate * weight * cue).astype(np.float32)
        state.confidence = ((1.0 - rate) * confidence + rate * weight).astype(np.float32)

    def _update_order(self, state: HeuristicState, residual_vec: np.ndarray, flow: np.ndarray, back_at: np.ndarray,
                      occluded: np.ndarray, reliable: np.ndarray, grid: np.ndarray, trust: float) -> np.ndarray | None:
        """Accumulate which end of the signed parallax axis is near; return this frame's far-referenced cue ``(h, w)`` in [0, 1].

        For a camera translating sideways the residual flow along its main axis is affine in
        inverse depth, with a sign that flow alone cannot tell. Three votes decide it:
        occlusions (at a pixel being covered or uncovered, the forward flow is its own,
        farther surface's and the flow found back from the other frame is the occluder's: the
        occluder's end of the axis is near), the position prior (the end that correlates
        with lower image rows is near) and figure/ground (when the dominant layer is enclosed
        by the moving pixels, their end is far). Also accumulates how many moving pixels lie
        behind the dominant layer. Returns None when too few pixels are reliable.
        """
        samples = residual_vec[reliable]
        if len(samples) < 16:
            return None
        cov = np.cov(samples.T.astype(np.float64))
        if not np.isfinite(cov).all():
            return None
        axis = np.linalg.eigh(cov)[1][:, -1]
        axis = axis if (axis[0] > 0 or (axis[0] == 0 and axis[1] > 0)) else -axis  # one orientation for every frame
        signed = residual_vec @ axis.astype(np.float32)
        values = signed[reliable]
        rows = grid[..., 1][reliable]
        spread = float(values.std()) * float(rows.std())
        corr = float(np.mean((values - values.mean()) * (rows - rows.mean())) / spread) if spread > 0 else 0.0
        prior_vote = float(np.clip(corr / _PRIOR_CORR, -1.0, 1.0))
        along = ((-back_at - flow) @ axis.astype(np.float32))[occluded]
        near_up, near_down = int((along > _NOISE_PX).sum()), int((along < -_NOISE_PX).sum())
        votes = near_up + near_down
        occlusion_vote = (near_up - near_down) / votes * min(1.0, votes / (_OCCLUSION_SHARE * signed.size)) if votes else 0.0
        # Figure/ground: a dominant layer seldom seen on the frame border is enclosed by the
        # rest, so it is in front of it; then the moving pixels' end of the axis is far.
        h, w = signed.shape
        ring = max(1, round(_BORDER_RING * min(h, w)))
        border = np.zeros((h, w), bool)
        border[:ring], border[-ring:], border[:, :ring], border[:, -ring:] = True, True, True, True
        dominant = np.abs(signed) < _DOMINANT_PX
        moving = reliable & (np.abs(signed) > _NOISE_PX)
        figure = 0.0
        if (reliable & border).sum() > 16:
            figure = float(np.clip((dominant[reliable].mean() - dominant[reliable & border].mean()) / _FIGURE_FULL, -1.0, 1.0))
        movers_side = float(np.sign(signed[moving]).mean()) if moving.sum() > 16 else 0.0
        figure_vote = -movers_side * max(figure, 0.0)  # only a figure says where the movers are; ground says nothing new
        evidence = float(np.clip((prior_vote + occlusion_vote + 2.0 * figure_vote) / 2.0, -1.0, 1.0))
        rate = self.evidence_rate
        state.order = (1.0 - rate) * state.order + rate * trust * evidence
        state.figure = (1.0 - rate) * state.figure + rate * trust * figure
        order = state.order / max((1.0 - rate) * state.order_weight + rate * trust, 1e-6)
        near_sign = 1.0 if order >= 0.0 else -1.0
        oriented = near_sign * signed  # larger = nearer
        behind = float((oriented[moving] < 0.0).mean()) if moving.sum() > 16 else 0.0
        state.behind = (1.0 - rate) * state.behind + rate * trust * behind
        state.order_weight = (1.0 - rate) * state.order_weight + rate * trust
        lo = float(np.percentile(oriented[reliable], 2))
        span = max(float(np.percentile(oriented[reliable], 98)) - lo, _TRUSTED_PX)
        return np.clip((oriented - lo) / span, 0.0, 1.0).astype(np.float32)

    @staticmethod
    def _decision(state: HeuristicState) -> tuple[float, float]:
        """``(beta, strength)``: how much the far end of the signed axis replaces the dominant
        motion as reference, and how far that choice is trusted (both in [0, 1])."""
        if state.order_weight <= 0.0:
            return 0.0, 1.0
        behind = state.behind / state.order_weight
        figure = state.figure / state.order_weight
        sure = HeuristicDepthEstimator._order_sure(state)
        # The dominant layer is near when the moving pixels lie behind it under a trusted order,
        # or it is a figure; ground (negative figure) keeps the dominant motion as reference.
        near = 0.4 * (2.0 * behind - 1.0) * sure + 0.6 * figure
        # A trusted order alone also calls for the far reference (with a translating camera the
        # far end of the axis is the background even when the dominant layer is in the middle),
        # unless the dominant layer is clearly the ground around everything else.
        not_ground = float(np.clip((figure - _GROUND) / 0.4, 0.0, 1.0))
        beta = float(max(np.clip((near - _NEAR_FROM) / (_NEAR_TO - _NEAR_FROM), 0.0, 1.0), sure * not_ground))
        # The far reference is trusted as far as the order is; the dominant one as far as the
        # evidence says the dominant layer is not near. In between (neither), the effect shrinks.
        dominant_ok = float(np.clip(-near / _DOMINANT_TRUSTED, 0.0, 1.0))
        return beta, beta * sure + (1.0 - beta) * dominant_ok

    @staticmethod
    def _behind_share(state: HeuristicState) -> float:
        """How much the far end of the signed axis replaces the dominant motion as reference, in [0, 1]."""
        return HeuristicDepthEstimator._decision(state)[0]

    def _order_strength(self, state: HeuristicState) -> tuple[float, float]:
        """``(mix, trusted)`` in [0, 1]: the factor on the parallax share (below 1 only when the far
        reference is used with an unsure order) and how far the choice of reference is trusted
        (what the effect strength and the confidence follow); both 1 for ``reference="dominant"``."""
        if self.reference != "auto" or state.order_weight <= 0.0:
            return 1.0, 1.0
        beta, trusted = self._decision(state)
        return (1.0 - beta) + beta * self._order_sure(state), trusted

    @staticmethod
    def _order_sure(state: HeuristicState) -> float:
        """Trust in [0, 1] in the sign of the near/far order: 0 up to half of ``_ORDER_TRUSTED``, 1 from it on."""
        evidence = abs(state.order / state.order_weight) if state.order_weight > 0.0 else 0.0
        return float(np.clip((evidence - _ORDER_TRUSTED / 2) / (_ORDER_TRUSTED / 2), 0.0, 1.0))

    @staticmethod
    def _dominant_flow(flow: np.ndarray, valid: np.ndarray, grid: np.ndarray) -> np.ndarray:
        """Flow ``(h, w, 2)`` of the similarity transform that best explains ``flow`` (RANSAC)."""
        step = _SAMPLE_STEP
        src = grid[::step, ::step][valid[::step, ::step]]
        if len(src) < 8:
            return np.broadcast_to(np.median(flow.reshape(-1, 2), axis=0), flow.shape)
        dst = src + flow[::step, ::step][valid[::step, ::step]]
        matrix, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=0.5, maxIters=500, confidence=0.99, refineIters=5)
        if matrix is None:
            return np.broadcast_to(np.median(dst - src, axis=0), flow.shape)
        return (grid @ matrix[:, :2].T.astype(np.float32) + matrix[:, 2].astype(np.float32)) - grid

    @staticmethod
    def _position_prior(h: int, w: int) -> np.ndarray:
        """``(h, w)`` float32 inverse-depth prior: 0 at the top row, 1 at the bottom row."""
        return np.repeat(np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None], w, axis=1)

    def _combine(self, frame_small: np.ndarray, state: HeuristicState, prior: np.ndarray) -> np.ndarray:
        """Blend the spread parallax evidence with the colour-flattened position prior, ``(h, w)`` float32."""
        spread = GuidedFilter(frame_small, self.smooth_radius, self.smooth_eps)
        spread_conf = np.clip(spread(state.confidence), 0.0, None)
        spread_evidence = np.clip(spread(state.evidence), 0.0, None)
        parallax = spread_evidence / np.maximum(spread_conf, 1e-3)
        mix, trusted = self._order_strength(state)
        # Only parallax that is there can be wrong: without it the effect is the prior's, at full strength.
        present = float(np.clip(spread_conf.mean() / _PRESENT, 0.0, 1.0))
        state.strength.append(max(1.0 - present * (1.0 - trusted), MIN_STRENGTH))
        share = self.parallax_weight * np.clip(spread_conf, 0.0, 1.0) * mix
        state.confidence_sum += float(np.clip(spread_conf, 0.0, 1.0).mean()) * mix * trusted
        state.confidence_frames += 1
        flat_prior = spread(prior)
        return ((1.0 - share) * flat_prior + share * np.clip(parallax, 0.0, 1.0)).astype(np.float32)
