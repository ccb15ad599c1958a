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
    """

    planes: int = 4
    enabled: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.planes, int) or self.planes < 1:
            raise OptionError(f"planes must be an integer >= 1; got {self.planes!r}")


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
            trusted; defaults to 0.06.
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
    """

    temporal: bool = True
    temporal_window: int = 30
    motion: FillMotion = "flow"
    flow_preset: FlowPreset = "fast"
    colour_tolerance: float = 0.06
    views: bool = True
    depth_tolerance: float = 0.1
    same_surface_ratio: float = 0.05
    edge_skip: int = 0
    background_window: int = 1
    seam_px: float = 0.0
    smooth_sigma: float = 3.0

    def __post_init__(self) -> None:
        _check_choice("fill motion", self.motion, FILL_MOTIONS)
        _check_choice("flow preset", self.flow_preset, FLOW_PRESETS)
        for name in ("temporal_window", "background_window"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise OptionError(f"{name.replace('_', ' ')} must be an integer >= 1; got {value!r}")
        if not isinstance(self.edge_skip, int) or self.edge_skip < 0:
            raise OptionError(f"edge skip must be an integer >= 0; got {self.edge_skip!r}")
        for name in ("colour_tolerance", "depth_tolerance", "same_surface_ratio"):
            value = getattr(self, name)
            if not math.isfinite(value) or not 0 <= value <= 1:
                raise OptionError(f"{name.replace('_', ' ')} must be in [0, 1]; got {value!r}")
        for name in ("seam_px", "smooth_sigma"):
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
            ``lr``; defaults to ``"sbs"`` (full side-by-side, left eye on the left).
        codec: ``"h264"`` (libx264) or ``"hevc"`` (libx265); defaults to ``"h264"``.
        crf: x264/x265 constant rate factor, 0 (lossless) to 51; defaults to 18 (visually
            near-lossless).
        preset: x264/x265 speed preset; defaults to ``"medium"`` (``"veryfast"`` encodes
            about twice as fast for slightly larger files).
    """

    layout: str = "sbs"
    codec: str = "h264"
    crf: int = 18
    preset: str = "medium"

    def __post_init__(self) -> None:
        _check_choice("layout", self.layout, ("sbs", "half-sbs", "tb", "half-tb", "anaglyph", "cross", "lr"))
        _check_choice("codec", self.codec, ("h264", "hevc"))
        if not isinstance(self.crf, int) or not 0 <= self.crf <= 51:
            raise OptionError(f"crf must be an integer in [0, 51]; got {self.crf!r}")
        _check_choice(
            "preset",
            self.preset,
            ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"),
        )


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
            ``lr``; defaults to ``"sbs"`` (full side-by-side, left eye on the left).
        codec: ``"h264"`` (libx264) or ``"hevc"`` (libx265); defaults to ``"h264"``.
        crf: x264/x265 constant rate factor, 0 (lossless) to 51; defaults to 18 (visually
            near-lossless).
        preset: x264/x265 speed preset; defaults to ``"medium"`` (``"veryfast"`` encodes
            about twice as fast for slightly larger files).
    """

    layout: str = "sbs"
    codec: str = "h264"
    crf: int = 18
    preset: str = "medium"

    def __post_init__(self) -> None:
        _check_choice("layout", self.layout, ("sbs", "half-sbs", "tb", "half-tb", "anaglyph", "cross", "lr"))
        _check_choice("codec", self.codec, ("h264", "hevc"))
        if not isinstance(self.crf, int) or not 0 <= self.crf <= 51:
            raise OptionError(f"crf must be an integer in [0, 51]; got {self.crf!r}")
        _check_choice(
            "preset",
            self.preset,
            ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"),
        )
