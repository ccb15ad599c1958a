"""Stereo layouts: packing a left and a right eye into the frames a player expects.

Layouts (:data:`LAYOUTS`), for eyes of ``H x W``:

=============  ==============  ===============================================================
name           output size     content
=============  ==============  ===============================================================
``sbs``        H x 2W          full side-by-side, left eye on the left (the default)
``half-sbs``   H x 2(W//2)     each eye squeezed to half width (cv2.INTER_AREA); H.264
                               frame-packing SEI type 3 for 3D TVs
``tb``         2H x W          full top-bottom (over-under), left eye on top
``half-tb``    2(H//2) x W     each eye squeezed to half height; SEI type 4
``anaglyph``   H x W           red-cyan, Dubois least-squares matrices
``cross``      H x 2W          cross-eyed free viewing: the *right* eye on the left
``lr``         H x W, twice    two files, one per eye
=============  ==============  ===============================================================

Headset layouts (:data:`HEADSET_LAYOUTS`), written with the metadata players read:

=============  ==============  ===============================================================
``vr180``      N x 2N          side-by-side half-equirectangular eyes (:mod:`s2vg.io.vr180`),
                               tagged with Spherical Video V2 boxes (:mod:`s2vg.io.mp4boxes`)
``mv-hevc``    H x W, 2 layers Apple spatial video: one multiview HEVC stream (base layer =
                               left eye) in a QuickTime file; needs a multiview x265
                               (:mod:`s2vg.io.mvhevc`), else an OptionError says what to get
=============  ==============  ===============================================================

Anaglyph and gamma: Dubois' matrices project linear light intensities, so frames are
decoded from sRGB to linear, projected, clipped to [0, 1] and encoded back to sRGB.
Because every row of ``DUBOIS_LEFT + DUBOIS_RIGHT`` sums to 1 (within 0.001), two
identical grey eyes give the same grey back.

Frames may be numpy arrays or torch tensors ``(T, H, W, 3)`` float32 in [0, 1]; the
result has the same type (and device). Half layouts on torch tensors use area
interpolation (adaptive average pooling), the same as INTER_AREA for even sizes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from s2vg.config import OutputConfig
from s2vg.errors import InputError, OptionError
from s2vg.io.info import IMAGE_SUFFIXES
from s2vg.io.mp4boxes import VR180, SphericalMetadata

Layout = Literal["sbs", "half-sbs", "tb", "half-tb", "anaglyph", "cross", "lr"]
LAYOUTS: tuple[str, ...] = ("sbs", "half-sbs", "tb", "half-tb", "anaglyph", "cross", "lr")
DEFAULT_LAYOUT: Layout = OutputConfig.layout  # type: ignore[assignment]

#: Layouts for headsets that carry their own container metadata; they come after
#: :data:`LAYOUTS` in :data:`ALL_LAYOUTS`.
HEADSET_LAYOUTS: tuple[str, ...] = ("vr180", "mv-hevc")
ALL_LAYOUTS: tuple[str, ...] = LAYOUTS + HEADSET_LAYOUTS

#: File-name suffixes that VR players (DeoVR, Skybox, 4XVR, Pigasus ...) match to pick a
#: stereo mode; "lr" gives two files, one per eye.
PLAYER_SUFFIXES: dict[str, tuple[str, ...]] = {
    "sbs": ("_LRF_Full_SBS",),
    "half-sbs": ("_LRF_Half_SBS",),
    "tb": ("_LRF_Full_TB",),
    "half-tb": ("_LRF_Half_TB",),
    "anaglyph": ("_anaglyph",),
    "cross": ("_cross",),  # not "SBS": a player would show the eyes swapped
    "lr": ("_L", "_R"),
    "vr180": ("_180_LR",),  # DeoVR/Skybox/HereSphere naming; the st3d/sv3d boxes say the same
    "mv-hevc": ("_spatial",),
}

#: Dubois' red-cyan least-squares projection (E. Dubois, "A projection method to generate
#: anaglyph stereo images", ICASSP 2001; matrices of his 2009 note), rows = output R, G, B.
DUBOIS_LEFT = np.array(
    [[0.437, 0.449, 0.164], [-0.062, -0.062, -0.024], [-0.048, -0.050, -0.017]], np.float32
)
DUBOIS_RIGHT = np.array(
    [[-0.011, -0.032, -0.007], [0.377, 0.761, 0.009], [-0.026, -0.093, 1.234]], np.float32
)


def check_layout(layout: str) -> None:
    """Raise OptionError for a name that is not in :data:`ALL_LAYOUTS`."""
    if layout not in ALL_LAYOUTS:
        raise OptionError(f"layout must be one of {', '.join(ALL_LAYOUTS)}; got {layout!r}")


def spherical_metadata_for(layout: str) -> SphericalMetadata | None:
    """The Spherical Video V2 metadata a layout's video carries (VR180 for ``"vr180"``), else None."""
    check_layout(layout)
    return VR180 if layout == "vr180" else None


def frame_packing_for(layout: str) -> str | None:
    """The H.264 frame-packing arrangement a layout declares: ``"sbs"`` for half
    side-by-side, ``"tb"`` for half top-bottom, None otherwise (full-size layouts are
    read by their file name, not by an SEI)."""
    check_layout(layout)
    return {"half-sbs": "sbs", "half-tb": "tb"}.get(layout)


def output_size(width: int, height: int, layout: str, *, focal: float | None = None) -> tuple[int, int]:
    """(width, height) of one output frame for eyes of ``width x height``.

    ``focal`` (pixels, the rig's; defaults to the rig's default for this width) matters
    only for ``vr180``, whose eye size follows it (:func:`s2vg.io.vr180.vr180_eye_size`).
    """
    check_layout(layout)
    if layout == "vr180":
        from s2vg.io.vr180 import vr180_eye_size

        n = vr180_eye_size(width, focal)
        return 2 * n, n
    if layout in ("sbs", "cross"):
        return 2 * width, height
    if layout == "half-sbs":
        return 2 * (width // 2), height
    if layout == "tb":
        return width, 2 * height
    if layout == "half-tb":
        return width, 2 * (height // 2)
    return width, height


def _is_torch(x: Any) -> bool:
    return type(x).__module__.split(".")[0] == "torch"


def _check_pair(left: Any, right: Any) -> None:
    if tuple(left.shape) != tuple(right.shape) or len(left.shape) != 4 or left.shape[-1] != 3:
        raise InputError(
            f"left and right eyes must both be (T, H, W, 3) with the same shape; got {tuple(left.shape)} "
            f"and {tuple(right.shape)}"
        )
    if _is_torch(left) != _is_torch(right):
        raise InputError("left and right eyes must both be numpy arrays or both torch tensors")


def _concat(parts: list[Any], axis: int) -> Any:
    if _is_torch(parts[0]):
        import torch

        return torch.cat(parts, dim=axis)
    return np.concatenate(parts, axis=axis)


def _resize(frames: Any, width: int, height: int) -> Any:
    """Area-resize ``(T, H, W, 3)`` frames to ``(T, height, width, 3)``."""
    if _is_torch(frames):
        import torch.nn.functional as F

        chw = frames.permute(0, 3, 1, 2)
        return F.interpolate(chw, size=(height, width), mode="area").permute(0, 2, 3, 1).contiguous()
    frames = np.asarray(frames, dtype=np.float32)
    out = np.empty((frames.shape[0], height, width, 3), np.float32)
    for i, frame in enumerate(frames):
        out[i] = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    return out


def srgb_to_linear(x: Any) -> Any:
    """sRGB-encoded values in [0, 1] -> linear light (IEC 61966-2-1)."""
    if _is_torch(x):
        import torch

        return torch.where(x <= 0.04045, x / 12.92, ((x.clamp(min=0) + 0.055) / 1.055) ** 2.4)
    x = np.asarray(x, np.float32)
    return np.where(x <= 0.04045, x / np.float32(12.92), ((np.maximum(x, 0) + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(x: Any) -> Any:
    """Linear light in [0, 1] -> sRGB-encoded values (IEC 61966-2-1)."""
    if _is_torch(x):
        import torch

        return torch.where(x <= 0.0031308, x * 12.92, 1.055 * x.clamp(min=0) ** (1 / 2.4) - 0.055)
    x = np.asarray(x, np.float32)
    return np.where(x <= 0.0031308, x * np.float32(12.92), 1.055 * np.maximum(x, 0) ** (1 / 2.4) - 0.055).astype(
        np.float32
    )


def anaglyph(left: Any, right: Any) -> Any:
    """Red-cyan anaglyph of two ``(T, H, W, 3)`` sRGB eyes, computed in linear light with
    Dubois' matrices (:data:`DUBOIS_LEFT`, :data:`DUBOIS_RIGHT`); returns sRGB in [0, 1]."""
    _check_pair(left, right)
    if _is_torch(left):
        import torch

        ml = torch.as_tensor(DUBOIS_LEFT, dtype=left.dtype, device=left.device)
        mr = torch.as_tensor(DUBOIS_RIGHT, dtype=left.dtype, device=left.device)
        linear = srgb_to_linear(left) @ ml.T + srgb_to_linear(right) @ mr.T
        return linear_to_srgb(linear.clamp(0.0, 1.0))
    linear = srgb_to_linear(left) @ DUBOIS_LEFT.T + srgb_to_linear(right) @ DUBOIS_RIGHT.T
    return linear_to_srgb(np.clip(linear, 0.0, 1.0))


def compose_streams(left: Any, right: Any, layout: str, *, focal: float | None = None) -> list[Any]:
    """Pack two eyes into the frames of each output file of ``layout``.

    Args:
        left, right: ``(T, H, W, 3)`` float32 in [0, 1], numpy or torch, same shape.
        layout: one of :data:`ALL_LAYOUTS`.
        focal: the rig's focal length in pixels, used by ``vr180`` only (the field of
            view of the picture on the sphere); defaults to None (the rig's default).

    Returns:
        One ``(T, H', W', 3)`` array per output file, in the order of
        :func:`output_paths` (two for ``"lr"``, one otherwise); ``H', W'`` as in
        :func:`output_size`.

    Raises:
        OptionError: for ``"mv-hevc"``, whose two eyes are layers of one stream: give them
            to :meth:`s2vg.io.mvhevc.MultiviewWriter.write` (a frame-per-file pipeline
            would silently keep one eye).
    """
    check_layout(layout)
    _check_pair(left, right)
    _, height, width, _ = left.shape
    if layout == "mv-hevc":
        raise OptionError("layout mv-hevc packs no frames: write both eyes with s2vg.io.mvhevc.MultiviewWriter.write(left, right)")
    if layout == "lr":
        return [left, right]
    if layout == "vr180":
        from s2vg.io.vr180 import to_half_equirect

        return [_concat([to_half_equirect(left, focal), to_half_equirect(right, focal)], axis=2)]
    if layout == "sbs":
        return [_concat([left, right], axis=2)]
    if layout == "cross":
        return [_concat([right, left], axis=2)]
    if layout == "tb":
        return [_concat([left, right], axis=1)]
    if layout == "half-sbs":
        half = max(width // 2, 1)
        return [_concat([_resize(left, half, height), _resize(right, half, height)], axis=2)]
    if layout == "half-tb":
        half = max(height // 2, 1)
        return [_concat([_resize(left, width, half), _resize(right, width, half)], axis=1)]
    return [anaglyph(left, right)]


def compose(left: Any, right: Any, layout: str, *, focal: float | None = None) -> Any:
    """Pack two eyes into the frames of a single-file layout (every layout but ``"lr"``,
    for which use :func:`compose_streams`, and ``"mv-hevc"``, see
    :class:`s2vg.io.mvhevc.MultiviewWriter`). Shapes as in :func:`compose_streams`."""
    if layout == "lr":
        raise OptionError("layout 'lr' writes two files; use compose_streams(left, right, 'lr')")
    return compose_streams(left, right, layout, focal=focal)[0]


def output_paths(input_path: str | Path, output: str | Path | None, layout: str, suffix: str | None = None) -> list[Path]:
    """Where the files of a layout go.

    * ``output`` names a file (it has a suffix and is not an existing folder): that name
      is kept; for ``"lr"`` it becomes ``name_L.ext`` and ``name_R.ext``.
    * ``output`` is a folder (existing, or a path without suffix) or None (the input's
      folder): ``<input stem><player suffix><ext>`` inside it, e.g.
      ``clip_LRF_Full_SBS.mp4``, ``clip_LRF_Half_SBS.mp4``, ``clip_LRF_Full_TB.mp4``,
      ``clip_anaglyph.mp4``, ``clip_L.mp4`` + ``clip_R.mp4`` (:data:`PLAYER_SUFFIXES`).

    Args:
        input_path: the input video, image folder or image.
        output: the user's output path, or None.
        layout: one of :data:`ALL_LAYOUTS`.
        suffix: extension for generated names; defaults to None: ``.png`` for an image
            input, ``.mov`` for ``mv-hevc`` (QuickTime, as Apple players expect), ``.mp4``
            otherwise.

    Returns:
        One path per output file, in the order of :func:`compose_streams` (one for
        ``mv-hevc``, whose two eyes are layers of one stream).

    Raises:
        OptionError: ``mv-hevc`` without a multiview HEVC encoder (the message says what
            is missing and how to get it), or for an image input.
    """
    check_layout(layout)
    input_path = Path(input_path)
    if layout == "mv-hevc" and input_path.suffix.lower() in IMAGE_SUFFIXES:
        raise OptionError(f"layout mv-hevc writes video; for the image {input_path.name!r} choose sbs, tb or anaglyph")
    if layout == "mv-hevc":
        from s2vg.io.mvhevc import require_multiview_encoder

        require_multiview_encoder()
    tags = PLAYER_SUFFIXES[layout]
    if output is not None:
        output = Path(output)
        if output.suffix and not output.is_dir():
            if layout == "lr":
                return [output.with_name(f"{output.stem}{tag}{output.suffix}") for tag in tags]
            return [output]
        folder = output
    else:
        folder = input_path.parent
    if suffix is None:
        suffix = ".png" if input_path.suffix.lower() in IMAGE_SUFFIXES else (".mov" if layout == "mv-hevc" else ".mp4")
    stem = input_path.stem if input_path.suffix else input_path.name
    return [folder / f"{stem}{tag}{suffix}" for tag in tags]
