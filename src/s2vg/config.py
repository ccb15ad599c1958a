"""Options of every stage, one frozen dataclass each; every default is written once, here.

The CLI takes its defaults from these classes, so Python callers and CLI users get the
same behaviour. ``__post_init__`` rejects impossible values with a one-line message.
Derived values (the focal length for a given width, the source view of a rig) are
computed by the stages, not configured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from s2vg.errors import OptionError

RigMode = Literal["left2right", "right2left", "middle2leftright", "circle"]
RIG_MODES: tuple[str, ...] = ("left2right", "right2left", "middle2leftright", "circle")

DepthKind = Literal["relative", "metric", "disparity"]
DEPTH_KINDS: tuple[str, ...] = ("relative", "metric", "disparity")

#: Focal length in pixels that the method uses for a 576-px-wide frame (about 39.6° hfov).
REFERENCE_FOCAL_PX = 800.0
REFERENCE_WIDTH_PX = 576


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise OptionError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def _check_positive(name: str, value: float | None, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if value is None or not math.isfinite(value) or value <= 0:
        raise OptionError(f"{name} must be a positive number; got {value!r}")


@dataclass(frozen=True)
class RigConfig:
    """The virtual cameras of the frame matrix (DESIGN.md section 2, "Cameras").

    Args:
        mode: where the source camera sits among the views; defaults to ``"left2right"``
            (the source is the left eye, the views move right).
        views: number of views V, source included; defaults to 8.
        baseline: largest distance B between the source and a view, in metres
            (for ``middle2leftright`` the outer views are at ±B/2); defaults to 0.08.
        focal: focal length in pixels; defaults to None, meaning 800 px scaled by
            width/576.
        circle_diameter: diameter D of the ``circle`` rig in metres; defaults to 0.075.
        circle_squash: vertical squash factor of the ``circle`` rig; defaults to 0.5.
    """

    mode: RigMode = "left2right"
    views: int = 8
    baseline: float = 0.08
    focal: float | None = None
    circle_diameter: float = 0.075
    circle_squash: float = 0.5

    def __post_init__(self) -> None:
        _check_choice("rig mode", self.mode, RIG_MODES)
        if not isinstance(self.views, int) or self.views < 2:
            raise OptionError(f"views must be an integer >= 2 (the source and at least one new view); got {self.views!r}")
        if self.mode == "circle" and self.views % 2:
            raise OptionError(f"the circle rig needs an even number of views; got {self.views}")
        if self.mode == "circle":
            _check_positive("circle diameter", self.circle_diameter)
            if not math.isfinite(self.circle_squash) or self.circle_squash < 0:
                raise OptionError(f"circle squash must be >= 0; got {self.circle_squash!r}")
        else:
            _check_positive("baseline", self.baseline)
        _check_positive("focal", self.focal, allow_none=True)


@dataclass(frozen=True)
class DepthConfig:
    """How depth input becomes metric-like depth (DESIGN.md section 2, "Depth normalisation").

    Args:
        kind: ``"relative"`` inverse depth (larger = nearer, normalised over the whole clip),
            ``"metric"`` depth in metres, or ``"disparity"`` in pixels of shift between the
            source and a view at the rig's baseline; defaults to ``"relative"``.
        far: depth in metres of the farthest content for relative input; defaults to 10.
        near: optional divisor of the normalised inverse depth, moving the nearest content
            to 1/(1/near + 1/far) metres; defaults to None (nearest at about 0.9 m).
    """

    kind: DepthKind = "relative"
    far: float | None = 10.0
    near: float | None = None

    def __post_init__(self) -> None:
        _check_choice("depth kind", self.kind, DEPTH_KINDS)
        _check_positive("far depth", self.far, allow_none=True)
        _check_positive("near depth", self.near, allow_none=True)


@dataclass(frozen=True)
class CleanupConfig:
    """Multi-plane cleanup of warped views (DESIGN.md section 2, "Multi-plane cleanup").

    Args:
        planes: number of depth planes P; defaults to 4. 1 disables the plane split
            (isolated points and cracks are still handled on the whole view).
        enabled: run the cleanup at all; defaults to True.
        crack_rule: ``"two-sided"`` (default: a plane closes only pixels it has on two
            opposite sides, so edges are not grown into disocclusions) or ``"reference"``
            (the authors' code); see :mod:`s2vg.geometry.cleanup`.
    """

    planes: int = 4
    enabled: bool = True
    crack_rule: str = "two-sided"

    def __post_init__(self) -> None:
        if not isinstance(self.planes, int) or self.planes < 1:
            raise OptionError(f"planes must be an integer >= 1; got {self.planes!r}")
        _check_choice("crack rule", self.crack_rule, ("two-sided", "reference"))


FlowPreset = Literal["ultrafast", "fast", "medium"]
FLOW_PRESETS: tuple[str, ...] = ("ultrafast", "fast", "medium")
FillMotion = Literal["flow", "static"]
FILL_MOTIONS: tuple[str, ...] = ("flow", "static")


@dataclass(frozen=True)
class ClassicalFillConfig:
    """The classical (weight-free) inpainter of the frame matrix (DESIGN.md section 3a).

    Args:
        temporal: copy real pixels of the same view from other timestamps first;
            defaults to True.
        temporal_window: largest number of frames a real pixel may travel; defaults to 30.
        motion: how the background moves between frames: ``"flow"`` (optical flow of the
            source video) or ``"static"`` (same pixel position); defaults to ``"flow"``.
        flow_preset: OpenCV DIS preset for ``"flow"``: ``"ultrafast"``, ``"fast"`` or
            ``"medium"``; defaults to ``"fast"``.
        colour_tolerance: largest mean absolute colour difference in [0, 1] of the
            background beside a hole between two frames for a temporal copy to be
            trusted; defaults to 0.01 (2.5 levels). Looser let wrong copies of moving
            surfaces through on real clips (round trips, mean of 3: 21.94 dB at 0.06, 22.41
            at 0.02, 22.67 at 0.01; water 23.05 -> 23.56 from 0.02 to 0.01) with the eval
            scenes no better (25.09 at 0.02, 25.11 at 0.01); 0.005 lost on one clip.
        interior_lead: frames by which a real pixel with no hole beside it may lie farther
            in time than one beside a hole and still be copied first (the cleanup's
            reference crack rule grows every depth plane into the holes with blended
            colours); 0 copies the nearest in time first; defaults to 1 (measured with the
            reference rule: +1.3 dB on the eval scenes, -0.07 dB on the real round trips,
            against 0; with the two-sided rule +0.01 and -0.07 dB).
        views: fill inner views from their filled outer neighbour so that all views show
            the same background; defaults to True.
        depth_tolerance: relative depth margin: a pixel at least (1 - margin) times as far
            as a hole's background counts as that background; defaults to 0.1.
        same_surface_ratio: hole runs whose two ends differ in depth by at most this
            fraction are cracks of one surface and are interpolated; defaults to 0.05.
        edge_skip: background pixels next to a hole that are not averaged into the fill
            colour (raise it where warped depth edges carry foreground colour); defaults to 0.
        background_window: background pixels averaged, after the skipped ones, for the
            fill colour; defaults to 1 (the nearest background pixel: the best predictor
            on the rendered and real round-trip tests, once smoothed across rows).
        seam_px: decay length in pixels of the blend from the hole's background edge pixel
            to that average; 0 turns it off; defaults to 0.
        smooth_sigma: standard deviation in pixels of the smoothing across rows inside
            filled regions; 0 turns it off; defaults to 3.
        border_skip: columns skipped next to a hole run that reaches the frame's border
            (the strip beyond the source's edge): the source's outermost columns often carry
            encoder or scaler artefacts, so where the end colour differs from the columns
            behind it by more than ``border_tolerance`` those are used; defaults to 2.
        border_window: columns averaged after those for such runs; defaults to 4.
        border_tolerance: mean absolute RGB difference (in [0, 1]) between the end column
            and the columns behind it above which the end column counts as an artefact;
            defaults to 0.1.
        spatial_weight: weight in [0, 1] of the background-side Telea diffusion
            (:mod:`s2vg.inpaint.classical.spatial`) blended into the row fill of pixels no
            frame or view saw; 0 turns it off; defaults to 0.5.
        spatial_radius: Telea radius in pixels of that diffusion; defaults to 9.
        spatial_band: pixels around a hole within which nearer (foreground) pixels are
            hidden from the diffusion; defaults to 8.
        spatial_ramp_px: the diffusion's weight rises as 1 - exp(-d / ramp) with the
            distance d from the hole's background end (the row fill is the better guess
            next to it); 0 gives the full weight everywhere; defaults to 8.
        mean_weight: weight in [0, 1] of the background's mean at the scale of the
            distance (a push-pull pyramid that reads only pixels as far as the hole's
            background, :func:`s2vg.inpaint.classical.spatial.background_mean_fill`) blended
            into the row fill and diffusion of disocclusions (not cracks, not the strip
            beyond the border): where the texture beyond a hole cannot be predicted, the
            local mean is the least-squares guess; 0 turns it off; defaults to 0.5.
        border_weight: weight in [0, 1] of the frame's edge continued
            (:mod:`s2vg.inpaint.classical.border`) blended into the row fill and diffusion
            of the strip beyond the source's border (hole runs that reach the end of the
            row, where no foreground edge lies beside the hole); 0 turns it off; defaults
            to 0.5.
        exemplar_weight: largest weight in [0, 1] of the exemplar continuation of the
            background (:mod:`s2vg.inpaint.classical.exemplar`: the pixels at the same
            distance beyond nearby patches that match the hole's background edge), times
            the matches' confidence (0 where they are no closer than unrelated texture),
            blended into disocclusions and the strip beyond the border (there before the
            edge continuation); 0 turns it off; defaults to 0.7 (on the real pairs and
            round trips 0.5 and 1.0 did no better, 1.0 flickered more; the rendered scenes,
            whose textures repeat, gain most at 1.0).
        border_spread: growth per pixel of distance of the half-height of the box averaged
            behind the edge for that strip; 0 repeats the edge pixel; defaults to 1.5.
        edge_coverage: blend into the first invented pixel beside a foreground edge the
            foreground's share of it (:mod:`s2vg.inpaint.classical.coverage`: where the
            nearest-pixel warp put the edge, plus the softness of the frame's edges);
            defaults to True (real pairs +0.05-0.12 dB, real round trips +0.25 dB, the
            hard-edged eval scenes -0.03 dB).
        stable_weight: weight in [0, 1] of the previous frame's invented value, carried
            along the background motion, in an invented pixel of a hole that persists
            (:mod:`s2vg.inpaint.classical.stable`; only with ``temporal``); 0 turns it
            off; defaults to 0.8.
        stable_history: frames before the first frame asked for (a streamed chunk's own
            frames) that are filled too, so that the carried values of a persisting hole
            have a history at a chunk's start (0.8**4 = 0.4 of the weight comes from
            before them); defaults to 4, the default context of a chunk.
    """

    temporal: bool = True
    temporal_window: int = 30
    motion: FillMotion = "flow"
    flow_preset: FlowPreset = "fast"
    colour_tolerance: float = 0.01
    interior_lead: int = 1
    views: bool = True
    depth_tolerance: float = 0.1
    same_surface_ratio: float = 0.05
    edge_skip: int = 0
    background_window: int = 1
    seam_px: float = 0.0
    smooth_sigma: float = 3.0
    border_skip: int = 2
    border_window: int = 4
    border_tolerance: float = 0.1
    spatial_weight: float = 0.5
    spatial_radius: int = 9
    spatial_band: int = 8
    spatial_ramp_px: float = 8.0
    mean_weight: float = 0.5
    border_weight: float = 0.5
    exemplar_weight: float = 0.7
    border_spread: float = 1.5
    edge_coverage: bool = True
    stable_weight: float = 0.8
    stable_history: int = 4

    def __post_init__(self) -> None:
        _check_choice("fill motion", self.motion, FILL_MOTIONS)
        _check_choice("flow preset", self.flow_preset, FLOW_PRESETS)
        for name in ("temporal", "views", "edge_coverage"):
            # A switch given as text ("false" from a key=value option) would read as on.
            if not isinstance(getattr(self, name), bool):
                raise OptionError(f"{name.replace('_', ' ')} must be True or False; got {getattr(self, name)!r}")
        for name in ("temporal_window", "background_window", "border_window", "spatial_radius"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise OptionError(f"{name.replace('_', ' ')} must be an integer >= 1; got {value!r}")
        for name in ("edge_skip", "border_skip", "spatial_band", "interior_lead", "stable_history"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise OptionError(f"{name.replace('_', ' ')} must be an integer >= 0; got {value!r}")
        for name in ("colour_tolerance", "depth_tolerance", "same_surface_ratio", "border_tolerance", "spatial_weight",
                     "mean_weight", "border_weight", "exemplar_weight", "stable_weight"):
            value = getattr(self, name)
            if not math.isfinite(value) or not 0 <= value <= 1:
                raise OptionError(f"{name.replace('_', ' ')} must be in [0, 1]; got {value!r}")
        for name in ("seam_px", "smooth_sigma", "spatial_ramp_px", "border_spread"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise OptionError(f"{name.replace('_', ' ')} must be >= 0; got {value!r}")


DiffusionScheduler = Literal["auto", "ddpm", "ddim", "native"]
DIFFUSION_SCHEDULERS: tuple[str, ...] = ("auto", "ddpm", "ddim", "native")


@dataclass(frozen=True)
class DiffusionConfig:
    """The diffusion frame-matrix sampler (DESIGN.md section 3b); every number of the method.

    Timestep thresholds are in the units of ``scheduler.timesteps`` (0..1000 for the DDPM
    family; sigma x 1000 for flow matching) and are compared with those values, never with
    a loop index.

    Args:
        steps: denoising steps; defaults to 50.
        scheduler: ``"ddpm"``, ``"ddim"`` (both built from the model's scheduler config),
            ``"native"`` (the model's own scheduler) or ``"auto"`` (DDPM for DDPM-family
            models, the native scheduler for flow matching); defaults to ``"auto"``.
        eta: DDIM noise weight; defaults to 0.0.
        guidance_scale: classifier-free guidance weight; 1 switches guidance off (no
            unconditional evaluation); defaults to 7.5.
        negative_prompt: prompt of the unconditional branch; defaults to
            ``"low-quality, blurry, flickering, ghost"``.
        resample: frame-matrix resamples R per step (columns, rows 0->V-1, columns,
            rows V-1->0, ...); defaults to 6.
        frame_matrix_end: after the timestep falls to this value only the target views are
            denoised; defaults to 500.
        target_resample: resamples per step of the target views after ``frame_matrix_end``
            (and of the exclusive target pass of the multi-view second stage); defaults to 2.
        reinject: disocclusion boundary re-injection; defaults to True.
        reinject_end: re-inject while the timestep is above this value; defaults to 0.
        mask_erode: side in pixels of the square kernel that erodes the known-mask first
            (3 removes a one-pixel band at depth edges); defaults to 3.
        mask_threshold: box-filtered known fraction above which a pixel counts as known;
            defaults to 0.7.
        soft_mask_kernel: side of the Gaussian that softens the latent mask (odd, 1 = hard
            mask); defaults to 5.
        multiview: denoise every view to the end with the second stage (for the spatial
            video) instead of only the target views after ``frame_matrix_end``; defaults to False.
        stage2_begin: multi-view second stage starts when the timestep falls to this value;
            defaults to 600.
        stage2_resample: resamples per step in the second stage; defaults to 4.
        stage2_time_every: in the second stage every n-th resample runs along time
            (columns), the others along views (rows, alternating direction); defaults to 3.
        window_overlap: frames shared by consecutive windows when a column or row is longer
            than the model takes at once; defaults to 4.
        batch_frames: memory budget of one model call, in frames x batch (guidance
            included); None puts a whole pass in one call; defaults to None.
        vae_batch_frames: frames per VAE encode or decode call; defaults to 16.
        paste_known: paste the real (eroded) known pixels of every view over the result;
            the source view is always pasted; defaults to True.
        seed: seed of every random draw of the sampler; defaults to 42.
    """

    steps: int = 50
    scheduler: DiffusionScheduler = "auto"
    eta: float = 0.0
    guidance_scale: float = 7.5
    negative_prompt: str = "low-quality, blurry, flickering, ghost"
    resample: int = 6
    frame_matrix_end: float = 500.0
    target_resample: int = 2
    reinject: bool = True
    reinject_end: float = 0.0
    mask_erode: int = 3
    mask_threshold: float = 0.7
    soft_mask_kernel: int = 5
    multiview: bool = False
    stage2_begin: float = 600.0
    stage2_resample: int = 4
    stage2_time_every: int = 3
    window_overlap: int = 4
    batch_frames: int | None = None
    vae_batch_frames: int = 16
    paste_known: bool = True
    seed: int = 42

    def __post_init__(self) -> None:
        _check_choice("diffusion scheduler", self.scheduler, DIFFUSION_SCHEDULERS)
        for name, low in (("steps", 1), ("resample", 0), ("target_resample", 0), ("stage2_resample", 0),
                          ("stage2_time_every", 1), ("window_overlap", 0), ("vae_batch_frames", 1), ("mask_erode", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise OptionError(f"{name.replace('_', ' ')} must be an integer >= {low}; got {value!r}")
        if not isinstance(self.soft_mask_kernel, int) or self.soft_mask_kernel < 1 or self.soft_mask_kernel % 2 == 0:
            raise OptionError(f"soft mask kernel must be an odd integer >= 1; got {self.soft_mask_kernel!r}")
        if self.batch_frames is not None and (not isinstance(self.batch_frames, int) or self.batch_frames < 1):
            raise OptionError(f"batch frames must be an integer >= 1 or None; got {self.batch_frames!r}")
        if not math.isfinite(self.guidance_scale) or self.guidance_scale < 1:
            raise OptionError(f"guidance scale must be >= 1 (1 switches guidance off); got {self.guidance_scale!r}")
        if not math.isfinite(self.eta) or not 0 <= self.eta <= 1:
            raise OptionError(f"eta must be in [0, 1]; got {self.eta!r}")
        if not 0 < self.mask_threshold <= 1:
            raise OptionError(f"mask threshold must be in (0, 1]; got {self.mask_threshold!r}")
        for name in ("frame_matrix_end", "reinject_end", "stage2_begin"):
            if not math.isfinite(getattr(self, name)):
                raise OptionError(f"{name.replace('_', ' ')} must be a finite timestep; got {getattr(self, name)!r}")


@dataclass(frozen=True)
class DepthStageConfig:
    """Depth estimation, temporal stabilisation and the robust range of :mod:`s2vg.depth`.

    Args:
        estimator: ``"auto"`` (Depth Anything V2 when its weights are cached or
            ``model_path`` is given, else the weight-free ``"heuristic"`` with a warning)
            or a registry name from ``s2vg.depth.available_depth_estimators()``;
            defaults to ``"auto"``.
        model_path: local folder (or hub id) of a Depth Anything model, CLI
            ``--depth-model``; defaults to None.
        device: torch device of a learned estimator; defaults to None (CUDA when available).
        batch_size: frames per model call; defaults to None (8 on CUDA, 2 on the CPU).
        stabilize: smooth inverse depth over time with optical flow (skipped for estimators
            that are temporally consistent by design); defaults to True.
        window: stabilisation neighbours on each side, in frames; defaults to 3.
        decay: standard deviation, in frames, of a neighbour's weight; defaults to 2.
        colour_tolerance: warped-colour mismatch (mean absolute RGB in [0, 1]) at which a
            neighbour's weight falls to 1/e; defaults to 0.06.
        depth_tolerance: warped inverse-depth mismatch, as a fraction of the clip's
            2-98 % range, at which a neighbour's weight falls to 1/e; defaults to 0.1.
        guided_radius: radius in pixels of the guided filter on the colour frame that
            follows the temporal smoothing; 0 turns it off; defaults to 2.
        guided_eps: its regulariser in squared colour units of [0, 1]; defaults to 1e-4.
        flow_scale: resolution factor of the stabilisation's optical flow; defaults to 0.5.
        detect_cuts: detect shot cuts so that smoothing and the range restart at each;
            defaults to True.
        cut_min_distance: smallest colour-histogram (Bhattacharyya) distance between
            consecutive frames that can be a cut; defaults to 0.3.
        low_pct: low percentile of each frame's inverse depth for the range; defaults to 2.
        high_pct: high percentile; defaults to 98.
        range_smoothing: standard deviation in frames of the smoothing of the range along
            time inside a shot; 0 = per frame, None = one range per shot; defaults to 12.
    """

    estimator: str = "auto"
    model_path: str | None = None
    device: str | None = None
    batch_size: int | None = None
    stabilize: bool = True
    window: int = 3
    decay: float = 2.0
    colour_tolerance: float = 0.06
    depth_tolerance: float = 0.1
    guided_radius: int = 2
    guided_eps: float = 1e-4
    flow_scale: float = 0.5
    detect_cuts: bool = True
    cut_min_distance: float = 0.3
    low_pct: float = 2.0
    high_pct: float = 98.0
    range_smoothing: float | None = 12.0

    def __post_init__(self) -> None:
        if not isinstance(self.estimator, str) or not self.estimator:
            raise OptionError(f"depth estimator must be a name such as auto or heuristic; got {self.estimator!r}")
        for name, low in (("window", 0), ("guided_radius", 0)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise OptionError(f"depth {name.replace('_', ' ')} must be an integer >= {low}; got {value!r}")
        if self.batch_size is not None and (not isinstance(self.batch_size, int) or self.batch_size < 1):
            raise OptionError(f"depth batch size must be an integer >= 1 or None; got {self.batch_size!r}")
        for name in ("decay", "colour_tolerance", "depth_tolerance", "guided_eps", "flow_scale", "cut_min_distance"):
            _check_positive(f"depth {name.replace('_', ' ')}", getattr(self, name))
        if not 0.0 <= self.low_pct < self.high_pct <= 100.0:
            raise OptionError(f"depth percentiles must satisfy 0 <= low < high <= 100; got low={self.low_pct}, high={self.high_pct}")
        if self.range_smoothing is not None and (not math.isfinite(self.range_smoothing) or self.range_smoothing < 0):
            raise OptionError(f"depth range smoothing must be None or a number of frames >= 0; got {self.range_smoothing!r}")


@dataclass(frozen=True)
class OutputConfig:
    """How the stereo result is packed and encoded (``s2vg.io.layouts``, ``s2vg.io.writer``).

    Args:
        layout: one of ``sbs``, ``half-sbs``, ``tb``, ``half-tb``, ``anaglyph``, ``cross``,
            ``lr``, ``vr180`` (half-equirectangular side-by-side with spherical metadata),
            ``mv-hevc`` (Apple spatial video; needs a multiview x265); defaults to ``"sbs"``
            (full side-by-side, left eye on the left).
        codec: ``"h264"`` (libx264) or ``"hevc"`` (libx265); defaults to ``"h264"``.
        crf: x264/x265 constant rate factor, 0 (lossless) to 51; defaults to 18 (visually
            near-lossless).
        preset: x264/x265 speed preset; defaults to ``"medium"`` (``"veryfast"`` encodes
            about twice as fast for slightly larger files).
        png_sequence: write lossless numbered PNG frames into a folder per output instead
            of a video file; defaults to False.
    """

    layout: str = "sbs"
    codec: str = "h264"
    crf: int = 18
    preset: str = "medium"
    png_sequence: bool = False

    def __post_init__(self) -> None:
        _check_choice("layout", self.layout, ("sbs", "half-sbs", "tb", "half-tb", "anaglyph", "cross", "lr", "vr180", "mv-hevc"))
        _check_choice("codec", self.codec, ("h264", "hevc"))
        if not isinstance(self.crf, int) or not 0 <= self.crf <= 51:
            raise OptionError(f"crf must be an integer in [0, 51]; got {self.crf!r}")
        _check_choice(
            "preset",
            self.preset,
            ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"),
        )


@dataclass(frozen=True)
class StereoConfig:
    """Effect strength of ``s2vg convert`` in viewers' terms (see :mod:`s2vg.geometry.stereo`).

    Args:
        divergence: disparity of the nearest content between the two eyes, in percent of
            the width; sets the baseline for relative depth unless a baseline is given;
            defaults to 2.5 (inside the 2-3 % comfort range of headsets).
        convergence: which depth sits at the screen plane, 0 (farthest) to 1 (nearest);
            defaults to None (parallel cameras: infinity at the screen, as VR180 wants).
    """

    divergence: float = 2.5
    convergence: float | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.divergence) or not 0 < self.divergence <= 20:
            raise OptionError(f"divergence must be a percent of the width in (0, 20]; got {self.divergence!r}")
        if self.convergence is not None and not 0.0 <= self.convergence <= 1.0:
            raise OptionError(f"convergence must be in [0, 1] (0 = farthest at the screen, 1 = nearest); got {self.convergence!r}")


@dataclass(frozen=True)
class ConvertConfig:
    """How ``s2vg convert`` runs the stages over a clip.

    Args:
        depth: a depth estimator name (``auto``, ``heuristic``, ``depth-anything-v2-small``
            ...) or the path of a depth file; defaults to ``"auto"``.
        inpainter: ``auto`` (the diffusion inpainter ``svg`` when a CUDA device and its
            weights are present, else ``classical``) or a registry name; defaults to ``"auto"``.
        chunk_frames: frames warped and filled at a time (bounds memory); defaults to None:
            the most (at most 32) whose estimated peak fits ``memory_budget``
            (:func:`s2vg.jobs.memory.choose_chunk_frames`). A given value wins over the budget.
        memory_budget: bytes the whole job may hold at its peak when the chunk is chosen;
            defaults to None: :func:`s2vg.jobs.memory.default_memory_budget` (3 GiB within
            half of the memory available when the job starts).
        context_frames: extra frames on each side of a chunk that the fill may read from,
            so chunk seams do not show; defaults to 4.
        max_frames: convert only the first N frames; defaults to None (all).
        outpaint: extend the source beyond the border a new view reveals before warping
            (DESIGN.md 3c), so that border strip shows continuation instead of a stretched
            edge; defaults to None: on for the diffusion inpainter, off otherwise.
        outpaint_method: ``auto`` (the video model with ``svg``, else classical),
            ``classical``, ``diffusion``, ``mirror`` or ``stretch``; defaults to ``"auto"``.
    """

    depth: str = "auto"
    inpainter: str = "auto"
    chunk_frames: int | None = None
    context_frames: int = 4
    max_frames: int | None = None
    outpaint: bool | None = None
    outpaint_method: str = "auto"
    memory_budget: int | None = None

    def __post_init__(self) -> None:
        if self.chunk_frames is not None and (not isinstance(self.chunk_frames, int) or self.chunk_frames < 1):
            raise OptionError(f"chunk frames must be an integer >= 1; got {self.chunk_frames!r}")
        if self.memory_budget is not None and (not isinstance(self.memory_budget, int) or self.memory_budget < 1):
            raise OptionError(f"memory budget must be a positive number of bytes (e.g. 3G); got {self.memory_budget!r}")
        if not isinstance(self.context_frames, int) or self.context_frames < 0:
            raise OptionError(f"context frames must be an integer >= 0; got {self.context_frames!r}")
        if self.max_frames is not None and (not isinstance(self.max_frames, int) or self.max_frames < 1):
            raise OptionError(f"max frames must be an integer >= 1; got {self.max_frames!r}")
        _check_choice("outpaint method", self.outpaint_method, OUTPAINT_METHODS)


@dataclass(frozen=True)
class ServeConfig:
    """The local web app of ``s2vg serve`` (:mod:`s2vg.web`).

    Args:
        host: address to bind; defaults to ``"127.0.0.1"`` (this machine only; any other
            address is served with a warning).
        port: TCP port, 0 for any free port; defaults to 7860.
        root: server-side folder whose videos the path picker may open (nothing outside
            it); defaults to None (picker off, uploads only).
        work_dir: the only folder the server writes to (uploads, previews, results);
            defaults to None (a new ``s2vg-serve-*`` folder in the system temp folder).
        max_upload_mb: largest upload in MiB; defaults to 2048.
        auth: ``"user:password"`` to require HTTP basic authentication; defaults to None.
        max_queued: most jobs waiting or running at once; defaults to 16.
    """

    host: str = "127.0.0.1"
    port: int = 7860
    root: str | None = None
    work_dir: str | None = None
    max_upload_mb: float = 2048.0
    auth: str | None = None
    max_queued: int = 16

    def __post_init__(self) -> None:
        if not isinstance(self.host, str) or not self.host:
            raise OptionError(f"host must be an address such as 127.0.0.1; got {self.host!r}")
        if not isinstance(self.port, int) or isinstance(self.port, bool) or not 0 <= self.port <= 65535:
            raise OptionError(f"port must be an integer in [0, 65535]; got {self.port!r}")
        _check_positive("max upload (MiB)", self.max_upload_mb)
        if self.auth is not None and (":" not in self.auth or not self.auth.split(":", 1)[0] or not self.auth.split(":", 1)[1]):
            raise OptionError("auth must be user:password with both parts non-empty; got a value without them")
        if not isinstance(self.max_queued, int) or self.max_queued < 1:
            raise OptionError(f"max queued must be an integer >= 1; got {self.max_queued!r}")


#: Kinds of :func:`s2vg.metrics.scenes.make_scene`, in the order of the default evaluation set.
SCENE_KINDS: tuple[str, ...] = ("cards", "pan", "fence", "crossing", "terraces", "border", "occluder", "pan-reveal")


@dataclass(frozen=True)
class EvalConfig:
    """What ``s2vg eval`` measures (:func:`s2vg.metrics.eval.run_eval`).

    Args:
        scenes: rendered ground-truth scene kinds (see ``SCENE_KINDS``); defaults to all six.
        height, width: size of the rendered scenes in pixels; defaults to 256 x 448.
        frames: frames per scene and per real clip; defaults to 16.
        seed: seed of the scenes; defaults to 0.
        divergence: disparity of the nearest content between the source and the target
            view, in percent of the width (scenes and round trips); defaults to 3.0.
        views: views of every frame matrix, source included; defaults to None (as
            ``s2vg convert`` chooses per inpainter: 8 for ``svg``, 2 otherwise).
        methods: inpainters to compare, each a registry name optionally followed by
            options, ``name:key=value,key=value`` (``classical:smooth_sigma=0``); names
            whose weights are missing are skipped; defaults to the three baselines, the
            classical and the diffusion inpainter.
        clips: real clips for the round-trip protocol, each ``VIDEO`` (depth from
            ``clip_depth``) or ``VIDEO=DEPTH_FILE`` (relative inverse depth,
            ``file.npz:key`` allowed); defaults to None: the sample clips of a development
            checkout (``../shared/samples`` beside the repository) when present, else none.
        clip_depth: depth estimator for clips given without a depth file; defaults to
            ``"heuristic"`` (no weights needed).
        clip_max_width: wider clips are downscaled to this width for speed; defaults to 576.
        figure: write the PNG figure of example crops and bar charts; defaults to True.
        no_reference: also compute the measures that need no truth (flicker with flow
            estimated on the output, left-right consistency) for every fill; defaults to False.
    """

    scenes: tuple[str, ...] = SCENE_KINDS
    height: int = 256
    width: int = 448
    frames: int = 16
    seed: int = 0
    divergence: float = 3.0
    views: int | None = None
    methods: tuple[str, ...] = ("black", "telea", "nearest-background", "classical", "svg")
    clips: tuple[str, ...] | None = None
    clip_depth: str = "heuristic"
    clip_max_width: int = 576
    figure: bool = True
    no_reference: bool = False

    def __post_init__(self) -> None:
        for kind in self.scenes:
            _check_choice("scene", kind, SCENE_KINDS)
        for name in ("height", "width", "clip_max_width"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 16:
                raise OptionError(f"eval {name.replace('_', ' ')} must be an integer >= 16 pixels; got {value!r}")
        if not isinstance(self.frames, int) or self.frames < 2:
            raise OptionError(f"eval frames must be an integer >= 2 (flicker needs two); got {self.frames!r}")
        if not math.isfinite(self.divergence) or not 0 < self.divergence <= 20:
            raise OptionError(f"eval divergence must be a percent of the width in (0, 20]; got {self.divergence!r}")
        if self.views is not None and (not isinstance(self.views, int) or self.views < 2):
            raise OptionError(f"eval views must be an integer >= 2 or None; got {self.views!r}")
        if not self.methods:
            raise OptionError("eval needs at least one method (inpainter name); got none")
        if not self.scenes and self.clips == ():
            raise OptionError("eval has nothing to measure: no scenes and no clips; give --scenes or --clip")


@dataclass(frozen=True)
class DemoConfig:
    """What ``s2vg demo`` renders and converts (:func:`s2vg.metrics.demo.run_demo`).

    Args:
        scene: scene kind (see ``SCENE_KINDS``); defaults to ``"pan"``.
        height, width: frame size in pixels; defaults to 256 x 448.
        frames: frames of the clip; defaults to 24.
        seed: seed of the scene; defaults to 0.
        divergence: disparity of the nearest content between the eyes in percent of the
            width, for the true rig and the estimated-depth conversion; defaults to 2.5
            (the conversion's default).
        estimated: also convert with the default depth estimator (``auto``: Depth Anything
            when its weights are present, else the heuristic); defaults to True.
    """

    scene: str = "pan"
    height: int = 256
    width: int = 448
    frames: int = 24
    seed: int = 0
    divergence: float = 2.5
    estimated: bool = True

    def __post_init__(self) -> None:
        _check_choice("demo scene", self.scene, SCENE_KINDS)
        for name in ("height", "width"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 16:
                raise OptionError(f"demo {name} must be an integer >= 16 pixels; got {value!r}")
        if not isinstance(self.frames, int) or self.frames < 1:
            raise OptionError(f"demo frames must be an integer >= 1; got {self.frames!r}")
        if not math.isfinite(self.divergence) or not 0 < self.divergence <= 20:
            raise OptionError(f"demo divergence must be a percent of the width in (0, 20]; got {self.divergence!r}")


Executor = Literal["local", "ray"]
EXECUTORS: tuple[str, ...] = ("local", "ray")


@dataclass(frozen=True)
class JobConfig:
    """How a conversion job runs (:mod:`s2vg.jobs`, :mod:`s2vg.executors`); none of it changes the output.

    Args:
        resume: continue an interrupted job from its state folder next to the output
            (``.<output name>.s2vg-job``); a state folder made for another input or other
            options is refused. Without it a leftover state folder is discarded; defaults
            to False.
        keep_state: keep the state folder (depth chunks, segments, manifest) after the
            output is complete; defaults to False (it is removed).
        executor: ``"local"`` (this process) or ``"ray"`` (Ray tasks); defaults to ``"local"``.
        ray_address: address of the Ray cluster; defaults to None (``RAY_ADDRESS``, else a
            local Ray instance).
        ray_gpus: GPUs each task that runs a learned model requests from Ray; defaults to
            None (1 when the cluster has GPUs, else 0).
    """

    resume: bool = False
    keep_state: bool = False
    executor: Executor = "local"
    ray_address: str | None = None
    ray_gpus: float | None = None

    def __post_init__(self) -> None:
        _check_choice("executor", self.executor, EXECUTORS)
        if self.ray_gpus is not None and (not math.isfinite(self.ray_gpus) or self.ray_gpus < 0):
            raise OptionError(f"ray GPUs per task must be a number >= 0; got {self.ray_gpus!r}")


@dataclass(frozen=True)
class BatchConfig:
    """How ``s2vg convert`` treats several inputs (:mod:`s2vg.batch`).

    Args:
        recursive: look for videos in the subfolders of input folders too (outputs keep
            the relative folder); defaults to False.
        overwrite: convert again when the outputs exist; defaults to False (skipped).
        keep_going: go on with the other inputs when one fails; defaults to False (stop
            at the first failure).
    """

    recursive: bool = False
    overwrite: bool = False
    keep_going: bool = False


DeformationKind = Literal["hexplane", "frequency", "none"]
DEFORMATION_KINDS: tuple[str, ...] = ("hexplane", "frequency", "none")
SPATIAL_PATHS: tuple[str, ...] = ("stereo", "dolly", "orbit")


@dataclass(frozen=True)
class SpatialFitConfig:
    """Fitting dynamic 3D Gaussians to a frame matrix (:mod:`s2vg.spatial.fit`).

    Args:
        iterations: optimisation steps, one (view, frame) image each; defaults to 600
            (about five passes over a 16-frame, 8-view matrix; on rendered scenes the
            PSNR stops improving after about five passes).
        seed: seed of the image order, the deformation's initial values and splits; the
            same seed gives the same scene; defaults to 0.
        sh_degree: spherical-harmonics degree of the colours, 0 or 1; defaults to 0.
        init_stride: lift every n-th pixel of the source view (and the filled pixels of
            the other views) to a point; defaults to 1.
        voxel_px: size of the de-duplication voxel in source-image pixels (it grows when
            more than ``init_gaussians`` voxels remain); defaults to 1.0.
        init_gaussians: most Gaussians the point cloud gives; defaults to 150000.
        max_gaussians: most Gaussians densification may reach; defaults to 200000.
        init_opacity: opacity of the initial Gaussians; defaults to 0.9.
        deformation: ``"hexplane"`` (factorised grid + small MLP), ``"frequency"``
            (positional encoding + MLP) or ``"none"``; defaults to ``"hexplane"``.
        warmup: fraction of the iterations fitted without deformation; defaults to 0.3.
        ssim_weight: weight of D-SSIM against L1 in the loss; defaults to 0.2.
        filled_weight: weight of formerly unknown (filled) pixels in the loss, in [0, 1];
            defaults to 0.25.
        densify_every: iterations between densification steps; defaults to 100.
        densify_start, densify_stop: fractions of the iterations between which
            densification and pruning run; default to 0.1 and 0.6.
        grad_threshold: mean screen-space gradient of a Gaussian's mean (in pixels, of the
            loss summed over the image's pixels, so independent of the image size) above
            which it is cloned or split; defaults to 1.0 (3DGS's 0.0002 in NDC at one
            megapixel is about 0.4; the pixel-dense initialisation needs less growth).
        split_px: Gaussians larger than this many pixels (largest standard deviation at
            their depth) are split, smaller ones cloned; defaults to 2.0.
        prune_opacity: Gaussians below this opacity are removed; defaults to 0.005.
        lr_means: step of the means as a fraction of the median depth, decayed 100x over
            the fit; defaults to 1.6e-4 (about 0.1 px at f = 622).
        lr_scales, lr_quats, lr_opacity, lr_sh, lr_time: Adam steps of the log-scales,
            quaternions, opacity logits, colours (higher SH bands at 1/20) and temporal
            visibility; default to 5e-3, 1e-3, 0.05, 2.5e-3 and 0.01.
        lr_planes, lr_head: Adam steps of the deformation grid and its MLP; default to
            2e-3 and 5e-4.
        time_smoothness: weight of the second-difference penalty along time of the
            deformation grid; defaults to 1e-3.
        tile_size: tile edge of the CPU rasteriser in pixels; defaults to 4 (fastest
            measured for Gaussians of a few pixels).
        device: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``; defaults to ``"auto"``.
        backend: rasteriser, ``"auto"`` (gsplat on CUDA when installed), ``"torch"`` or
            ``"gsplat"``; defaults to ``"auto"``.
        threads: CPU threads torch uses during the fit (restored afterwards); on a machine
            shared with other busy processes 1 is often several times faster than more,
            because torch's threads wait for each other; defaults to None (torch's setting).
    """

    iterations: int = 600
    seed: int = 0
    sh_degree: int = 0
    init_stride: int = 1
    voxel_px: float = 1.0
    init_gaussians: int = 150_000
    max_gaussians: int = 200_000
    init_opacity: float = 0.9
    deformation: DeformationKind = "hexplane"
    warmup: float = 0.3
    ssim_weight: float = 0.2
    filled_weight: float = 0.25
    densify_every: int = 100
    densify_start: float = 0.1
    densify_stop: float = 0.6
    grad_threshold: float = 1.0
    split_px: float = 2.0
    prune_opacity: float = 0.005
    lr_means: float = 1.6e-4
    lr_scales: float = 5e-3
    lr_quats: float = 1e-3
    lr_opacity: float = 0.05
    lr_sh: float = 2.5e-3
    lr_time: float = 0.01
    lr_planes: float = 2e-3
    lr_head: float = 5e-4
    time_smoothness: float = 1e-3
    tile_size: int = 4
    device: str = "auto"
    backend: str = "auto"
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise OptionError(f"threads must be an integer >= 1; got {self.threads!r}")
        for name in ("iterations", "init_stride", "init_gaussians", "max_gaussians", "densify_every", "tile_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise OptionError(f"{name.replace('_', ' ')} must be an integer >= 1; got {value!r}")
        if not isinstance(self.seed, int):
            raise OptionError(f"seed must be an integer; got {self.seed!r}")
        if self.sh_degree not in (0, 1):
            raise OptionError(f"SH degree must be 0 or 1; got {self.sh_degree!r}")
        _check_choice("deformation", self.deformation, DEFORMATION_KINDS)
        _check_choice("device", self.device, ("auto", "cpu", "cuda"))
        _check_choice("rasteriser backend", self.backend, ("auto", "torch", "gsplat"))
        for name in ("warmup", "ssim_weight", "filled_weight", "densify_start", "densify_stop"):
            value = getattr(self, name)
            if not math.isfinite(value) or not 0.0 <= value <= 1.0:
                raise OptionError(f"{name.replace('_', ' ')} must be in [0, 1]; got {value!r}")
        if not 0 < self.init_opacity < 1:
            raise OptionError(f"init opacity must be in (0, 1); got {self.init_opacity!r}")
        for name in ("voxel_px", "grad_threshold", "split_px", "prune_opacity", "lr_means", "lr_scales", "lr_quats",
                     "lr_opacity", "lr_sh", "lr_time", "lr_planes", "lr_head"):
            _check_positive(name.replace("_", " "), getattr(self, name))
        if not math.isfinite(self.time_smoothness) or self.time_smoothness < 0:
            raise OptionError(f"time smoothness must be >= 0; got {self.time_smoothness!r}")


@dataclass(frozen=True)
class CameraPathConfig:
    """The cameras a spatial video is rendered from (:mod:`s2vg.spatial.paths`).

    Args:
        path: ``"stereo"`` (a fixed stereo pair centred on the rig), ``"dolly"`` (a
            horizontal move across the rig's range), ``"orbit"`` (a loop inside the rig's
            range looking at the scene's median depth) or the path of a JSON/CSV file with
            a position and a look-at point per frame; defaults to ``"stereo"``.
        stereo: render ``dolly``, ``orbit`` and file paths as stereo pairs around the path
            (``stereo`` always is one); defaults to False.
        divergence: eye separation as the disparity of the nearest content, in percent of
            the width; defaults to 2.5.
        baseline: eye separation in metres; overrides ``divergence``; defaults to None.
        convergence: which depth sits at the screen plane, 0 (farthest) to 1 (nearest);
            defaults to None (parallel eyes, infinity at the screen).
        look_at_depth: depth in metres the orbit looks at; defaults to None (the scene's
            median depth).
    """

    path: str = "stereo"
    stereo: bool = False
    divergence: float = 2.5
    baseline: float | None = None
    convergence: float | None = None
    look_at_depth: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.path, str) or not self.path:
            raise OptionError(f"path must be stereo, dolly, orbit or a JSON/CSV file; got {self.path!r}")
        if not math.isfinite(self.divergence) or not 0 < self.divergence <= 20:
            raise OptionError(f"divergence must be a percent of the width in (0, 20]; got {self.divergence!r}")
        _check_positive("baseline", self.baseline, allow_none=True)
        _check_positive("look-at depth", self.look_at_depth, allow_none=True)
        if self.convergence is not None and not 0.0 <= self.convergence <= 1.0:
            raise OptionError(f"convergence must be in [0, 1] (0 = farthest at the screen, 1 = nearest); got {self.convergence!r}")


@dataclass(frozen=True)
class SpatialConfig:
    """How ``s2vg spatial`` prepares the frame matrix of a video before fitting.

    Args:
        mode: rig of the frame matrix; defaults to ``"circle"`` (views around the source
            in x and y, so the fit sees vertical parallax too).
        views: views V of the matrix, source included, >= 2; defaults to 8.
        inpainter: inpainter name, or ``auto`` (``svg`` with CUDA and weights, else
            ``classical``); defaults to ``"auto"``.
        max_width: frames wider than this are scaled down to it before depth and fitting
            (the CPU fit's cost grows with the pixel count); None keeps the size; defaults to 448.
        max_frames: fit only the first N frames; defaults to None (all). The whole clip's
            frame matrix is held in memory (V x T frames, about 17 bytes a pixel) and the
            CPU fit takes about 6 minutes for 16 frames of 448x256 at 8 views, so long clips
            want this (or a GPU).
    """

    mode: RigMode = "circle"
    views: int = 8
    inpainter: str = "auto"
    max_width: int | None = 448
    max_frames: int | None = None

    def __post_init__(self) -> None:
        _check_choice("rig mode", self.mode, RIG_MODES)
        if not isinstance(self.views, int) or self.views < 2:
            raise OptionError(f"views must be an integer >= 2 (the source and at least one new view); got {self.views!r}")
        if self.mode == "circle" and self.views % 2:
            raise OptionError(f"the circle rig needs an even number of views; got {self.views}")
        if self.max_width is not None and (not isinstance(self.max_width, int) or self.max_width < 16):
            raise OptionError(f"max width must be an integer >= 16 pixels; got {self.max_width!r}")
        if self.max_frames is not None and (not isinstance(self.max_frames, int) or self.max_frames < 1):
            raise OptionError(f"max frames must be an integer >= 1; got {self.max_frames!r}")


@dataclass(frozen=True)
class GenerateConfig:
    """Text- or image-to-video generation (:mod:`s2vg.generate`); None means the model's own default.

    Args:
        model: hub id or local diffusers folder of the generator; its ``model_index.json``
            picks the family (Zeroscope/ModelScope, Wan, LTX-Video, CogVideoX, and their
            image-to-video pipelines); defaults to None: ``cerspense/zeroscope_v2_576w`` for
            a prompt, ``Lightricks/LTX-Video`` with an image.
        steps: denoising steps; defaults to None (the pipeline's default, 50 for all four).
        guidance: classifier-free guidance scale; defaults to None (the pipeline's: 9 for
            Zeroscope, 5 for Wan, 3 for LTX, 6 for CogVideoX).
        negative_prompt: defaults to None (the pipeline's, empty).
        height, width: frame size in pixels; defaults to None (the model's: 320x576
            Zeroscope, 480x832 Wan, 512x704 LTX, 480x720 CogVideoX; with an image, the
            model's pixel count at the image's aspect ratio). Sizes the model cannot take
            are generated larger and centre-cropped.
        frames: number of frames; defaults to None (16 Zeroscope, 81 Wan, 161 LTX, 49
            CogVideoX). Counts the VAE cannot take are generated longer and cut.
        fps: frame rate of the video; defaults to None (8 Zeroscope, 16 Wan, 25 LTX, 8 CogVideoX).
        seed: seed of the initial noise; defaults to 42.
        device: torch device; defaults to None (CUDA when available, else the CPU).
        dtype: ``float16``, ``bfloat16`` or ``float32``; defaults to None (float16 on CUDA,
            bfloat16 there for Wan/LTX/CogVideoX, float32 on the CPU).
        cpu_offload: keep modules on the CPU until used (diffusers model offload; CUDA
            only); defaults to False.
        vae_tiling: decode in spatial tiles (less memory); defaults to False.
    """

    model: str | None = None
    steps: int | None = None
    guidance: float | None = None
    negative_prompt: str | None = None
    height: int | None = None
    width: int | None = None
    frames: int | None = None
    fps: float | None = None
    seed: int = 42
    device: str | None = None
    dtype: str | None = None
    cpu_offload: bool = False
    vae_tiling: bool = False

    def __post_init__(self) -> None:
        for name in ("steps", "height", "width", "frames"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise OptionError(f"generate {name} must be an integer >= 1; got {value!r}")
        if self.guidance is not None and (not math.isfinite(self.guidance) or self.guidance < 1):
            raise OptionError(f"guidance must be >= 1 (1 switches guidance off); got {self.guidance!r}")
        _check_positive("fps", self.fps, allow_none=True)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise OptionError(f"seed must be an integer; got {self.seed!r}")
        if self.dtype is not None:
            _check_choice("dtype", self.dtype, ("float16", "bfloat16", "float32"))


SR_METHODS: tuple[str, ...] = ("classical", "learned")


@dataclass(frozen=True)
class SuperResolutionConfig:
    """Stereo super-resolution (:mod:`s2vg.sr`).

    The left eye is upscaled with a temporal condition (the previous upscaled frame,
    motion-compensated); the right eye with the temporal and a cross-view condition (the
    upscaled left frame warped into the right view with the stereo disparity). Each
    condition is used where it is reliable.

    Args:
        scale: 2 or 4; defaults to 2.
        method: ``"classical"`` (an interpolating upscaler plus the two conditions, no
            weights) or ``"learned"`` (a diffusers upscaler, the conditions entering as the
            known region); defaults to ``"classical"``.
        temporal: use the temporal condition; defaults to True.
        cross_view: use the cross-view condition for the right eye; defaults to True.
        cross_view_weight: share of the cross-view condition in the right eye's pixels that
            both eyes see (the rest is the right eye's own upscale: two observations of one
            surface, averaged); the fused value goes back into the left eye, so both eyes
            hold the same values there. 1 copies the left eye; defaults to 0.5.
        interpolation: ``"lanczos"`` (OpenCV Lanczos-4) or ``"cubic"``; defaults to ``"lanczos"``.
        sharpen: unsharp-mask amount on the interpolated frame (0 = off); defaults to 0.3.
        back_projection: iterations pulling each conditioned frame back to its own
            low-resolution frame (iterative back-projection; 0 = off); defaults to 1.
        flow_consistency: largest forward-backward optical-flow round trip, in
            low-resolution pixels, of a reliable motion vector; defaults to 0.5.
        colour_tolerance: largest mean absolute difference in [0, 1] between a condition
            (taken to low resolution) and the frame's own low-resolution pixels for it to
            be trusted; defaults to 0.03.
        disparity_tolerance: largest left-right disparity mismatch in low-resolution
            pixels of a pixel both eyes see; defaults to 1.0.
        max_disparity: search range of the disparity estimate in percent of the width;
            defaults to 8.
        mask_erode: pixels (at high resolution) removed from the edge of every reliable
            region, where flow and disparity are least accurate; defaults to 2.
        model: hub id or folder of the learned upscaler (``StableDiffusionUpscalePipeline``
            layout); defaults to None (``stabilityai/stable-diffusion-x4-upscaler``).
        steps: denoising steps of the learned upscaler; defaults to 20.
        guidance: its classifier-free guidance; defaults to 9.0 (the pipeline's).
        noise_level: noise added to its low-resolution input; defaults to 20 (the pipeline's).
        prompt: text for the learned upscaler; defaults to "".
        seed: seed of the learned upscaler's noise; defaults to 0.
        device, dtype: of the learned upscaler; default to None (CUDA float16 when
            available, else CPU float32).
    """

    scale: int = 2
    method: str = "classical"
    temporal: bool = True
    cross_view: bool = True
    cross_view_weight: float = 0.5
    interpolation: str = "lanczos"
    sharpen: float = 0.3
    back_projection: int = 1
    flow_consistency: float = 0.5
    colour_tolerance: float = 0.03
    disparity_tolerance: float = 1.0
    max_disparity: float = 8.0
    mask_erode: int = 2
    model: str | None = None
    steps: int = 20
    guidance: float = 9.0
    noise_level: int = 20
    prompt: str = ""
    seed: int = 0
    device: str | None = None
    dtype: str | None = None

    def __post_init__(self) -> None:
        if self.scale not in (2, 4) or isinstance(self.scale, bool):
            raise OptionError(f"scale must be 2 or 4; got {self.scale!r}")
        _check_choice("super-resolution method", self.method, SR_METHODS)
        _check_choice("interpolation", self.interpolation, ("lanczos", "cubic"))
        for name in ("back_projection", "mask_erode", "noise_level"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise OptionError(f"{name.replace('_', ' ')} must be an integer >= 0; got {value!r}")
        if not isinstance(self.steps, int) or self.steps < 1:
            raise OptionError(f"upscaler steps must be an integer >= 1; got {self.steps!r}")
        if not math.isfinite(self.sharpen) or self.sharpen < 0:
            raise OptionError(f"sharpen must be >= 0; got {self.sharpen!r}")
        if not math.isfinite(self.cross_view_weight) or not 0 < self.cross_view_weight <= 1:
            raise OptionError(f"cross-view weight must be in (0, 1]; got {self.cross_view_weight!r}")
        for name in ("flow_consistency", "colour_tolerance", "disparity_tolerance", "max_disparity"):
            _check_positive(name.replace("_", " "), getattr(self, name))
        if not math.isfinite(self.guidance) or self.guidance < 1:
            raise OptionError(f"upscaler guidance must be >= 1; got {self.guidance!r}")
        if self.dtype is not None:
            _check_choice("dtype", self.dtype, ("float16", "bfloat16", "float32"))


OutpaintMethod = Literal["auto", "classical", "diffusion", "mirror", "stretch"]
OUTPAINT_METHODS: tuple[str, ...] = ("auto", "classical", "diffusion", "mirror", "stretch")


@dataclass(frozen=True)
class OutpaintConfig:
    """Outpaint, then inpaint (DESIGN.md 3c; :mod:`s2vg.inpaint.outpaint`).

    Args:
        method: how the source is extended beyond the border a view reveals: ``"auto"``
            (the diffusion model when one is loaded, else classical), ``"classical"``,
            ``"diffusion"``, ``"mirror"`` or ``"stretch"``; defaults to ``"auto"``.
        margin: pixels to extend by on each revealed side; None derives it from the depth
            at the border and the rig (the largest disparity there); defaults to None.
        min_margin: sides revealing fewer pixels than this are not extended; defaults to 2.
        border_band: columns at each border whose content counts as touching it; defaults to 4.
    """

    method: OutpaintMethod = "auto"
    margin: int | None = None
    min_margin: int = 2
    border_band: int = 4

    def __post_init__(self) -> None:
        _check_choice("outpaint method", self.method, OUTPAINT_METHODS)
        if self.margin is not None and (not isinstance(self.margin, int) or isinstance(self.margin, bool) or self.margin < 0):
            raise OptionError(f"outpaint margin must be an integer >= 0 pixels or None; got {self.margin!r}")
        for name in ("min_margin", "border_band"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise OptionError(f"outpaint {name.replace('_', ' ')} must be an integer >= 1; got {value!r}")
