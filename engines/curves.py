"""Light-enhancement curves: the maths shared by training, torch and the CPU path.

The ``fast`` model follows Zero-DCE++: a network predicts, at thumbnail
resolution, a per-pixel parameter ``alpha`` in [-1, 1] for the quadratic curve

    LE(x) = x + alpha * x * (1 - x)        (x in [0, 1])

applied ``iterations`` times. LE maps 0 → 0 and 1 → 1 and is monotone for
|alpha| ≤ 1, so it lifts shadows without ever pushing a pixel past white.

nocturne applies the curve to luma only and scales chroma by the curve's gain
(measured on the thumbnail), which keeps hue and lets the full-resolution work
be one 2-D table lookup per luma sample plus a multiply per chroma sample.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from engines.image import chroma_centre_span, luma_black_white

# Rows of the lookup tables. Fine enough that the nearest row is within half a code value of
# the exact curve (so no interpolation between rows is needed), odd so alpha = 0 is a row.
ALPHA_LEVELS = 1025         # alpha from -1 to +1
GAIN_LEVELS = 1025          # chroma gain from 0 to CHROMA_GAIN_MAX
DEFAULT_ITERATIONS = 8
CHROMA_GAIN_MAX = 5.0       # limits chroma noise amplification in near-black areas
_EPS = 1.0 / 255.0


def apply_curve(x: Any, alpha: Any, iterations: int = DEFAULT_ITERATIONS) -> Any:
    """Iterate LE(x) = x + alpha x (1 - x). Works for numpy arrays and torch tensors.

    Args:
        x: values in [0, 1].
        alpha: broadcastable to ``x``, in [-1, 1].
    """
    for _ in range(iterations):
        x = x + alpha * x * (1.0 - x)
    return x


def chroma_gain(y_thumb: Any, alpha_thumb: Any, iterations: int = DEFAULT_ITERATIONS) -> Any:
    """Per-thumbnail-pixel chroma gain: curve(y) / y, clamped to [0, CHROMA_GAIN_MAX].

    Scaling Cb/Cr by the same factor as Y' is what scaling R'G'B' by a common
    gain does, so hue and saturation are kept. Measured on the (area-averaged)
    thumbnail so chroma noise of single pixels is not amplified by their own
    darkness.
    """
    y_safe = y_thumb * (y_thumb > _EPS) + _EPS * (y_thumb <= _EPS)
    gain = apply_curve(y_safe, alpha_thumb, iterations) / y_safe
    if hasattr(gain, "clamp"):
        return gain.clamp(0.0, CHROMA_GAIN_MAX)
    return np.clip(gain, 0.0, CHROMA_GAIN_MAX)


def alpha_to_row(alpha: np.ndarray) -> np.ndarray:
    """Map alpha in [-1, 1] to a (fractional) row of ``luma_lut`` in [0, ALPHA_LEVELS - 1]."""
    return (np.clip(alpha, -1.0, 1.0) + 1.0) * ((ALPHA_LEVELS - 1) / 2.0)


def gain_to_row(gain: np.ndarray) -> np.ndarray:
    """Map a chroma gain in [0, CHROMA_GAIN_MAX] to a (fractional) row of ``chroma_lut``."""
    return np.clip(gain, 0.0, CHROMA_GAIN_MAX) * ((GAIN_LEVELS - 1) / CHROMA_GAIN_MAX)


@lru_cache(maxsize=16)
def luma_lut(
    in_bits: int,
    out_bits: int,
    full_range: bool,
    iterations: int = DEFAULT_ITERATIONS,
) -> np.ndarray:
    """Table T[row, code_in] = code_out of the curve for every alpha row and input code.

    Input and output use the same range convention (limited or full); the bit
    depth may change (10-bit in → 8-bit out costs nothing extra here).

    Returns:
        array of shape (ALPHA_LEVELS, 2**in_bits), uint8 if out_bits == 8 else uint16.
        Read-only: it is cached and shared.
    """
    in_black, in_white = luma_black_white(in_bits, full_range)
    out_black, out_white = luma_black_white(out_bits, full_range)
    codes = np.arange(1 << in_bits, dtype=np.float64)
    x = np.clip((codes - in_black) / (in_white - in_black), 0.0, 1.0)
    alphas = np.linspace(-1.0, 1.0, ALPHA_LEVELS)[:, None]
    y = apply_curve(x[None, :], alphas, iterations)
    out = np.rint(out_black + y * (out_white - out_black))
    table = np.clip(out, 0, (1 << out_bits) - 1).astype(np.uint8 if out_bits == 8 else np.uint16)
    table.setflags(write=False)
    return table


@lru_cache(maxsize=16)
def chroma_lut(in_bits: int, out_bits: int, full_range: bool) -> np.ndarray:
    """Table T[row, code_in] = centre_out + gain(row) * (code_in - centre_in) * span_out / span_in.

    Returns:
        array of shape (GAIN_LEVELS, 2**in_bits), uint8 if out_bits == 8 else uint16, read-only.
    """
    centre_in, span_in = chroma_centre_span(in_bits, full_range)
    centre_out, span_out = chroma_centre_span(out_bits, full_range)
    codes = np.arange(1 << in_bits, dtype=np.float64)
    gains = np.linspace(0.0, CHROMA_GAIN_MAX, GAIN_LEVELS)[:, None]
    out = np.rint(centre_out + gains * (codes[None, :] - centre_in) * (span_out / span_in))
    table = np.clip(out, 0, (1 << out_bits) - 1).astype(np.uint8 if out_bits == 8 else np.uint16)
    table.setflags(write=False)
    return table
