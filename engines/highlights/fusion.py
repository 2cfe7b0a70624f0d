"""Filling clipped pixels: the tone of recovered highlights and the classical fill.

A recovered highlight is brighter than white — a lamp's surroundings at 1.5×
or 3× the clip level. It must be shown below white to show anything, so the
fill passes through a highlight roll-off (``roll_off``): identity up to
``KNEE`` (linear), then logarithmic up to ``WHITE`` times the clip level,
with the same slope at the knee (no visible kink) and 1.0 at ``WHITE``. Two
stops above clipping keep about 25 code values of structure in 8 bits; the
price is that the picture's near-white pixels within the fill's feathered
edge are rolled off too, as a camera's highlight curve would.

``classical_fill`` is the fallback (and the fusion network's starting
point): the exposure-matched, aligned reference, rolled off, blended in with
the feathered, confidence-weighted mask. Where the weight is 0 the output is
the input, bit for bit.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

KNEE = 0.6
WHITE = 4.0


@lru_cache(maxsize=4)
def _roll_off_scale(knee: float, white: float) -> float:
    """s such that k + (1 − k)·log(1 + (x − k)/s)/log(1 + (W − k)/s) has slope 1 at x = k (bisection)."""
    low, high = 1e-4, 10.0
    for _ in range(60):
        s = 0.5 * (low + high)
        slope = (1.0 - knee) / (s * np.log1p((white - knee) / s))
        low, high = (s, high) if slope > 1.0 else (low, s)
    return 0.5 * (low + high)


def roll_off(linear: np.ndarray, knee: float = KNEE, white: float = WHITE) -> np.ndarray:
    """Linear light, any shape, ≥ 0 (may exceed 1) → linear light in [0, 1]: identity below ``knee``."""
    s = _roll_off_scale(knee, white)
    linear = np.asarray(linear, np.float32)
    over = np.maximum(linear - np.float32(knee), 0.0) * np.float32(1.0 / s) + np.float32(1.0)
    # OpenCV's log (vectorised, several times faster than numpy's here: this runs on every fill box).
    scale = np.float32((1.0 - knee) / np.log1p((white - knee) / s))
    compressed = cv2.log(over.reshape(-1, 1)).reshape(over.shape) * scale
    return np.where(linear > knee, np.minimum(compressed + np.float32(knee), 1.0), linear).astype(np.float32)


def classical_fill(current: np.ndarray, source: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Blend ``source`` into ``current`` by ``weight``.

    Args:
        current: (H, W, 3) R'G'B' in [0, 1], the stage's input.
        source: (H, W, 3) R'G'B' in [0, 1], the aligned, exposure-matched, rolled-off reference.
        weight: (H, W) in [0, 1], feathered mask × confidence.

    Returns:
        (H, W, 3) float32; equal to ``current`` wherever ``weight`` is 0.
    """
    w = weight[..., None]
    return (current + w * (source - current)).astype(np.float32)
