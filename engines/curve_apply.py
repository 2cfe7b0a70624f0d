"""Apply thumbnail-resolution curve maps to full-resolution planes on the CPU.

Every output sample is one lookup in a 2-D table, T[row(x), code(x)]: the row
comes from the curve map upsampled bilinearly to the plane (alpha for luma,
chroma gain for Cb/Cr), the column is the sample's own input code. The tables
(``engines.curves.luma_lut`` / ``chroma_lut``) hold the exact curve for 1025
rows, so the nearest row is within about half a code of the exact result. The
lookup itself is ``cv2.remap`` (SIMD, multi-threaded). The picture is never
resized: no blur, every output pixel comes from its own input pixel.
"""

from __future__ import annotations

import cv2
import numpy as np

from engines.curves import alpha_to_row, chroma_lut, gain_to_row, luma_lut
from engines.image import YuvImage


def lookup_2d(table: np.ndarray, codes: np.ndarray, rows_thumb: np.ndarray) -> np.ndarray:
    """out[y, x] = table[nearest(rows(y, x)), codes[y, x]], rows upsampled from ``rows_thumb``.

    Args:
        table: (R, 2**bits) uint8/uint16.
        codes: (H, W) uint8/uint16 input plane.
        rows_thumb: (h, w) fractional rows in [0, R - 1] at thumbnail resolution.

    Returns:
        (H, W) array of the table's dtype.
    """
    height, width = codes.shape
    rows = cv2.resize(rows_thumb.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.remap(table, codes.astype(np.float32), rows, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)


def apply_curve_maps(
    image: YuvImage,
    alpha_thumb: np.ndarray,
    gain_thumb: np.ndarray,
    out_bits: int | None = None,
    iterations: int = 8,
) -> YuvImage:
    """Enhance ``image`` with per-thumbnail-pixel curve parameters.

    Args:
        image: the input picture (any size, 4:2:0/4:2:2/4:4:4, 8 or 10 bit).
        alpha_thumb: (h, w) float32 curve parameters in [-1, 1].
        gain_thumb: (h, w) float32 chroma gains (see ``engines.curves.chroma_gain``).
        out_bits: output bit depth (defaults to the input's).

    Returns:
        A new ``YuvImage`` of the same size, range and matrix, ``out_bits`` deep.
    """
    out_bits = out_bits or image.bit_depth
    luma_table = luma_lut(image.bit_depth, out_bits, image.full_range, iterations)
    y = lookup_2d(luma_table, image.y, alpha_to_row(alpha_thumb))
    chroma_table = chroma_lut(image.bit_depth, out_bits, image.full_range)
    gain_rows = gain_to_row(gain_thumb)
    u = lookup_2d(chroma_table, image.u, gain_rows)
    v = lookup_2d(chroma_table, image.v, gain_rows)
    return YuvImage(y, u, v, out_bits, image.full_range, image.matrix)
