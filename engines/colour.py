"""Y'CbCr ↔ R'G'B' arithmetic on normalised values.

Works on numpy arrays and torch tensors alike (plain arithmetic only), so the
same code serves the thumbnails (numpy) and training (torch).
Conventions: R'G'B' and Y' in [0, 1] (gamma-encoded, not linear light),
Cb/Cr in [-0.5, 0.5]. Code values ↔ normalised values are handled by
``YuvImage.luma_black_white`` / ``chroma_centre_span``.
"""

from __future__ import annotations

from typing import Any

# (Kr, Kb) luma coefficients, from ITU-R BT.601, BT.709 and BT.2020.
LUMA_COEFFICIENTS: dict[str, tuple[float, float]] = {
    "bt601": (0.299, 0.114),
    "bt709": (0.2126, 0.0722),
    "bt2020": (0.2627, 0.0593),
}


def yuv_to_rgb(y: Any, cb: Any, cr: Any, matrix: str = "bt709") -> tuple[Any, Any, Any]:
    """Convert normalised Y'CbCr (same shapes) to R', G', B' (unclipped)."""
    kr, kb = LUMA_COEFFICIENTS[matrix]
    kg = 1.0 - kr - kb
    r = y + 2.0 * (1.0 - kr) * cr
    b = y + 2.0 * (1.0 - kb) * cb
    g = (y - kr * r - kb * b) / kg
    return r, g, b


def rgb_to_yuv(r: Any, g: Any, b: Any, matrix: str = "bt709") -> tuple[Any, Any, Any]:
    """Convert R', G', B' in [0, 1] to normalised Y' in [0, 1] and Cb, Cr in [-0.5, 0.5]."""
    kr, kb = LUMA_COEFFICIENTS[matrix]
    y = kr * r + (1.0 - kr - kb) * g + kb * b
    cb = (b - y) / (2.0 * (1.0 - kb))
    cr = (r - y) / (2.0 * (1.0 - kr))
    return y, cb, cr


def srgb_to_linear(x: Any) -> Any:
    """sRGB transfer decode (IEC 61966-2-1), x in [0, 1]; works for numpy and torch."""
    low = x / 12.92
    high = ((x + 0.055) / 1.055) ** 2.4
    return low * (x <= 0.04045) + high * (x > 0.04045)


def linear_to_srgb(x: Any) -> Any:
    """sRGB transfer encode, x in [0, 1] (clip before if needed)."""
    low = x * 12.92
    high = 1.055 * (abs(x) + 1e-12) ** (1.0 / 2.4) - 0.055
    return low * (x <= 0.0031308) + high * (x > 0.0031308)
