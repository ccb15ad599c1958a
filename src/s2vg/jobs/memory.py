"""The peak-memory bound of a streamed conversion: what it depends on, and a formula for it.

Nothing in a job holds more than a window of frames: the depth pass keeps at most
``2N + w`` frames (the chunk being estimated, the chunk waiting for its stabilisation, and
``w`` frames of context), the render pass one sliding window of ``N + 2C`` frames of the
frame matrix (:mod:`s2vg.jobs.window`; the source view is the frames themselves, each
frame is warped once) and the fill's work arrays for the chunk's own ``N`` frames (only
they are filled; the output is packed and encoded one frame at a time). So the peak
depends on the chunk size ``N``, the context ``C``, the stabilisation window ``w``, the
views ``V`` and the frame size ``H x W``, never on the length of the video.

Bytes per pixel, fitted to the peak RSS of real conversions (heuristic depth, classical
fill, V = 2, C = 4, w = 3, SBS; ``benchmarks/resolutions.py``, the 4x longer clip where
measured): 576x320 at N = 32 1,110 MiB, 1280x720 at N = 22 3,004 MiB, 1920x1080 at N = 7
3,096 MiB, 3840x2160 at N = 1 5,814 MiB. A least-squares fit gives about 31 B/px per
window frame and 80 per filled frame; the table rounds the window up to the frame
matrix's own 17 B/px per view and the fixed part up, so the model lies 2-11 % above every
measurement:

======================  ==========================================================
every frame size        40 B/px whatever N (the decoder's and encoder's frame
                        buffers, memory the allocator keeps after the depth pass),
                        plus 12 B/px per output pixel (the packed frame)
depth pass, per frame   24 B/px for each of ``2N + w`` frames
render window, per      ``17 V`` B/px for each of ``N + 2C`` frames: the frame
frame                   matrix (colours 12, depth 4, known 1 per view)
fill, per filled frame  80 B/px for each of the ``N + C`` frames filled (the chunk
                        and at most ``C`` frames of history before it, see
                        ``ClassicalFillConfig.stable_history``): the source flows, the
                        diffusion, its blend weights and masks, the band filters
======================  ==========================================================

On top of that a job holds about 80 MiB of fixed native buffers (x264's look-ahead and
frame threads, PyAV, OpenCV and torch thread pools), and below everything the
interpreter with its libraries (about 260 MiB of RSS here) and a model's weights when one
is used.
"""

from __future__ import annotations

#: Bytes per pixel held whatever the chunk size (see the module table).
FIXED_BYTES_PER_PX = 40
#: Bytes per pixel of one frame held by the depth pass.
DEPTH_PASS_BYTES_PER_PX = 24
#: Bytes per pixel per view of one frame of the render window.
MATRIX_BYTES_PER_PX_VIEW = 17
#: Bytes per pixel of one frame the fill fills (the chunk's frames and up to C frames before).
FILL_BYTES_PER_PX = 80
#: Fixed native buffers of a running job (encoder, thread pools), measured.
FIXED_BYTES = 80 * 2**20

FORMULA = (
    "peak RSS <= base + 80 MiB + H*W * (40 + 12*R + max(24*(2N + w), 17*V*(N + 2C) + 80*(N + C))) bytes "
    "(N chunk frames, C context frames, w stabilisation window, V views, R output pixels per input pixel; "
    "base = the interpreter with its libraries and any model weights); independent of the length"
)


def memory_bound(
    height: int,
    width: int,
    *,
    views: int,
    chunk_frames: int,
    context_frames: int,
    window: int,
    output_pixels_ratio: float = 2.0,
) -> dict:
    """Bytes the frame buffers of a streamed job need at their peak, by the table above.

    Args:
        height, width: frame size in pixels.
        views: views V of the frame matrix.
        chunk_frames: chunk size N.
        context_frames: context C on each side of a render chunk.
        window: stabilisation window w on each side (0 when not stabilising).
        output_pixels_ratio: output pixels per input pixel (2 for side-by-side or
            top-bottom, 1 for anaglyph and the half layouts).

    Returns:
        ``{"bytes": int, "mib": float, "depth_pass_bytes": int, "render_pass_bytes": int,
        "fixed_bytes": int, "formula": str}``: ``bytes`` is the larger pass plus the fixed
        part (per-pixel and native buffers); the base (interpreter, libraries, weights) is
        not included.
    """
    pixels = height * width
    # Output frames are packed and encoded one at a time: their size adds to the fixed part.
    fixed = int((FIXED_BYTES_PER_PX + 12 * output_pixels_ratio) * pixels) + FIXED_BYTES
    depth_pass = DEPTH_PASS_BYTES_PER_PX * pixels * (2 * chunk_frames + window)
    render_pass = pixels * (
        MATRIX_BYTES_PER_PX_VIEW * views * (chunk_frames + 2 * context_frames)
        + FILL_BYTES_PER_PX * (chunk_frames + context_frames)
    )
    peak = max(depth_pass, render_pass) + fixed
    return {
        "bytes": int(peak),
        "mib": round(peak / 2**20, 1),
        "depth_pass_bytes": int(depth_pass),
        "render_pass_bytes": int(render_pass),
        "fixed_bytes": fixed,
        "formula": FORMULA,
    }


# ------------------------------------------------------------------ choosing the chunk from a budget

#: The largest chunk a budget may choose (the fixed default before budgets; more buys little speed).
MAX_CHUNK_FRAMES = 32
#: Resident memory below the frame buffers: the interpreter, NumPy, torch, OpenCV, PyAV (measured
#: about 260 MiB here), rounded up. A model's weights come on top (``base_bytes``).
BASE_BYTES = 300 * 2**20
#: Share of the available memory the default budget may take: other programs (and, on a
#: shared machine, other jobs) keep the rest.
DEFAULT_BUDGET_FRACTION = 0.5
#: The default budget where more memory is free: enough for the largest chunk at 576x320
#: and for N = 6 at 1920x1080. Larger chunks only trim the context overhead
#: ((N + 2C) / N frames rendered per frame kept); give --memory-budget to spend more.
DEFAULT_BUDGET_BYTES = 3 * 2**30
#: Share of the available memory the default budget may take so a large frame (4K) still
#: converts, one frame per chunk.
MINIMUM_BUDGET_FRACTION = 0.8
#: Default budget where the available memory cannot be read.
FALLBACK_BUDGET_BYTES = 4 * 2**30

_UNITS = {"": 1, "B": 1, "K": 2**10, "KB": 2**10, "KIB": 2**10, "M": 2**20, "MB": 2**20, "MIB": 2**20,
          "G": 2**30, "GB": 2**30, "GIB": 2**30, "T": 2**40, "TB": 2**40, "TIB": 2**40}


def parse_size(text: str | int) -> int:
    """Bytes of a size such as ``3G``, ``3000M``, ``1.5GiB`` or ``3221225472`` (binary units).

    Raises:
        OptionError: not a positive size.
    """
    import re

    from s2vg.errors import OptionError

    if isinstance(text, int) and not isinstance(text, bool):
        value, unit = float(text), ""
    else:
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", str(text))
        if match is None or match.group(2).upper() not in _UNITS:
            raise OptionError(f"memory size {text!r} is not a size; give bytes or a number with K, M, G or T (e.g. 3G, 3000M)")
        value, unit = float(match.group(1)), match.group(2).upper()
    size = int(value * _UNITS[unit])
    if size < 1:
        raise OptionError(f"memory size {text!r} must be positive; give e.g. 3G")
    return size


def format_size(size: float) -> str:
    """``1.2 GiB`` / ``200 MiB``: a byte count for messages."""
    return f"{size / 2**30:.1f} GiB" if size >= 2**30 else f"{size / 2**20:.0f} MiB"


def available_memory() -> int | None:
    """Bytes the system can give a new process without swapping (MemAvailable), or None if unknown."""
    try:
        import psutil  # optional; covers macOS and Windows

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def default_memory_budget(minimum: int = 0) -> int:
    """The budget when none is given: 3 GiB (at most half of the available memory), or
    ``minimum`` (what one frame per chunk needs) where that is more and fits in 80 % of the
    available memory; 4 GiB stands for half of it when it cannot be read."""
    available = available_memory()
    half = int(available * DEFAULT_BUDGET_FRACTION) if available else FALLBACK_BUDGET_BYTES
    most = int(available * MINIMUM_BUDGET_FRACTION) if available else FALLBACK_BUDGET_BYTES
    budget = min(DEFAULT_BUDGET_BYTES, half)
    return max(budget, minimum) if minimum <= most else budget


def job_peak_bytes(height: int, width: int, *, views: int, chunk_frames: int, context_frames: int, window: int,
                   output_pixels_ratio: float = 2.0, base_bytes: int = BASE_BYTES) -> int:
    """Peak resident bytes of a whole job process: ``base_bytes`` plus :func:`memory_bound`."""
    bound = memory_bound(height, width, views=views, chunk_frames=chunk_frames, context_frames=context_frames,
                         window=window, output_pixels_ratio=output_pixels_ratio)
    return base_bytes + bound["bytes"]


def choose_chunk_frames(height: int, width: int, *, views: int, context_frames: int, window: int, budget: int,
                        output_pixels_ratio: float = 2.0, base_bytes: int = BASE_BYTES,
                        most: int = MAX_CHUNK_FRAMES) -> int:
    """The largest chunk ``1 <= N <= most`` whose :func:`job_peak_bytes` fits ``budget``.

    Raises:
        OptionError: even one frame per chunk needs more than ``budget``; names the minimum.
    """
    from s2vg.errors import OptionError

    def peak(n: int) -> int:
        return job_peak_bytes(height, width, views=views, chunk_frames=n, context_frames=context_frames,
                              window=window, output_pixels_ratio=output_pixels_ratio, base_bytes=base_bytes)

    minimum = peak(1)
    if minimum > budget:
        gib = -(-minimum * 10 // 2**30) / 10  # rounded up to 0.1 GiB, so the suggestion fits
        raise OptionError(
            f"memory budget {format_size(budget)} is below the {format_size(minimum)} this {width}x{height} V={views} "
            f"job needs for one frame per chunk; give --memory-budget {gib:.1f}G or more"
        )
    # The peak grows with N, so the answer is the last N that fits (at most `most` steps).
    chosen = 1
    for n in range(2, most + 1):
        if peak(n) > budget:
            break
        chosen = n
    return chosen
