"""The peak-memory bound of a streamed conversion: what it depends on, and a formula for it.

Nothing in a job holds more than a window of frames: the depth pass keeps at most
``2N + w`` frames (the chunk being estimated, the chunk waiting for its stabilisation, and
``w`` frames of context), the render pass ``N + 2C`` frames and their frame matrix. So the
peak depends on the chunk size ``N``, the context ``C``, the stabilisation window ``w``, the
views ``V`` and the frame size ``H x W``, never on the length of the video.

Bytes per pixel of one buffered frame (float32 unless said):

=====================  ===============================================================
depth pass, per frame  frames 12, raw + stabilised inverse depth 8, stabilisation's
                       colour+depth stack 16 and output 4, grey 1, decode/stack copies 12
                       -> about 53 B/px for each of ``2N + w`` frames
render pass, per frame frames 12, depth 4 x 3 (inverse, normalised, metres), frame matrix
                       per view 17 (colours 12, depth 4, known 1) held about 4 times
                       (matrix, the inpainter's NumPy copies, its output, torch ``where``)
                       -> about ``24 + 68 V`` B/px for each of ``N + 2C`` frames, plus the
                       composed output of ``N`` frames (24 B/px for side-by-side)
=====================  ===============================================================

On top of the frame buffers a job holds about 80 MiB of fixed native buffers (x264's
look-ahead and frame threads, PyAV, OpenCV and torch thread pools), and below everything
the interpreter with its libraries (about 260 MiB of RSS here) and a model's weights when
one is used. Measured peak RSS above that base (``benchmarks/long_video.py``, heuristic
depth, classical fill, C = 4, w = 3), against the bound this module computes:

=========  ==  =  ============  ===========
size       N   V  measured MiB  bound MiB
=========  ==  =  ============  ===========
64x96      8   2   62            103
128x192    4   2  125            141
128x192    8   2  149            172
128x192   16   2  180            233
128x192    8   4  175            223
256x384    8   2  375            446
=========  ==  =  ============  ===========
"""

from __future__ import annotations

#: Bytes per pixel of one frame held by the depth pass (see the module table).
DEPTH_PASS_BYTES_PER_PX = 53
#: Bytes per pixel of one frame of the render window, before the per-view terms.
RENDER_BYTES_PER_PX = 24
#: Bytes per pixel per view of one frame of the frame matrix, as held at the peak.
MATRIX_BYTES_PER_PX_VIEW = 68
#: Bytes per output pixel buffered by the composition and the encoder.
OUTPUT_BYTES_PER_PX = 24 + 60
#: Fixed native buffers of a running job (encoder, thread pools), measured.
FIXED_BYTES = 80 * 2**20

FORMULA = (
    "peak RSS <= base + 80 MiB + H*W * max(53*(2N + w), (24 + 68*V)*(N + 2C) + 84*N*out_px_ratio) bytes "
    "(N chunk frames, C context frames, w stabilisation window, V views, out_px_ratio output/input pixels; "
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
        native buffers; the base (interpreter, libraries, weights) is not included.
    """
    pixels = height * width
    depth_pass = DEPTH_PASS_BYTES_PER_PX * pixels * (2 * chunk_frames + window)
    render_pass = (RENDER_BYTES_PER_PX + MATRIX_BYTES_PER_PX_VIEW * views) * pixels * (chunk_frames + 2 * context_frames)
    render_pass += int(OUTPUT_BYTES_PER_PX * pixels * chunk_frames * output_pixels_ratio)
    peak = max(depth_pass, render_pass) + FIXED_BYTES
    return {
        "bytes": int(peak),
        "mib": round(peak / 2**20, 1),
        "depth_pass_bytes": int(depth_pass),
        "render_pass_bytes": int(render_pass),
        "fixed_bytes": FIXED_BYTES,
        "formula": FORMULA,
    }
