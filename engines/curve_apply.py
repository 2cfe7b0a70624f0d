"""Apply thumbnail-resolution curve maps to full-resolution planes on the CPU.

Luma: one 2-D table lookup per sample, T[alpha_row(x), Y(x)], done by
``cv2.remap`` over the table from ``engines.curves.luma_lut`` (rows: alpha,
columns: input code). The alpha map is upsampled bilinearly and the lookup
interpolates between alpha rows, so there is no resize of the picture itself:
no blur, every output pixel comes from its own input pixel.
Chroma: centre + gain(x) * (C - centre), gain upsampled to the chroma plane.
"""

from __future__ import annotations

import cv2
import numpy as np

from engines.curves import alpha_to_row, luma_lut
from engines.image import YuvImage


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
    height, width = image.y.shape
    rows = cv2.resize(alpha_to_row(alpha_thumb).astype(np.float32), (width, height),
                      interpolation=cv2.INTER_LINEAR)
    table = luma_lut(image.bit_depth, out_bits, image.full_range, iterations)
    y_out = cv2.remap(table, image.y.astype(np.float32), rows, cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_REPLICATE)

    out_like = YuvImage(y_out, y_out[:1, :1], y_out[:1, :1], out_bits, image.full_range, image.matrix)
    centre_in, span_in = image.chroma_centre_span()
    centre_out, span_out = out_like.chroma_centre_span()
    chroma_h, chroma_w = image.u.shape
    gain = cv2.resize(gain_thumb.astype(np.float32), (chroma_w, chroma_h), interpolation=cv2.INTER_LINEAR)
    gain *= span_out / span_in
    out_dtype = np.uint8 if out_bits == 8 else np.uint16
    planes = []
    for plane in (image.u, image.v):
        c = plane.astype(np.float32)
        c -= centre_in
        c *= gain
        c += centre_out + 0.5          # +0.5: round to nearest on the truncating cast below
        np.clip(c, 0, (1 << out_bits) - 1, out=c)
        planes.append(c.astype(out_dtype))
    return YuvImage(y_out, planes[0], planes[1], out_bits, image.full_range, image.matrix)
