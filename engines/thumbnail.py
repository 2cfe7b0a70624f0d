"""Thumbnails: the reduced-resolution view the curve estimator looks at.

The thumbnail's long side is about ``TARGET_LONG_SIDE`` whatever the frame size,
so the estimator costs the same at 720p and 4K; the curves it predicts are
applied at full resolution. The reduction factor is even so that 4:2:0 chroma
planes reduce by an integer factor too (OpenCV's INTER_AREA fast path, and
the same block average as ``torch.nn.functional.avg_pool2d`` in training).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from engines.colour import yuv_to_rgb
from engines.image import YuvImage

TARGET_LONG_SIDE = 160


def reduction_factor(height: int, width: int, target: int = TARGET_LONG_SIDE) -> int:
    """Even integer factor s so that max(height, width) / s ≤ target (s ≥ 2)."""
    s = max(2, math.ceil(max(height, width) / target))
    return s + (s % 2)


def thumbnail_size(height: int, width: int) -> tuple[int, int]:
    """(h, w) of the thumbnail for a frame of (height, width)."""
    s = reduction_factor(height, width)
    return max(1, math.ceil(height / s)), max(1, math.ceil(width / s))


@dataclass(frozen=True)
class Thumbnail:
    """Normalised planes at thumbnail size (h, w), float32.

    y in [0, 1]; cb, cr in [-0.5, 0.5]; rgb is (3, h, w) in [0, 1] (clipped).
    """

    y: np.ndarray
    cb: np.ndarray
    cr: np.ndarray
    rgb: np.ndarray


def make_thumbnail(image: YuvImage) -> Thumbnail:
    """Area-average the planes of ``image`` down to thumbnail size and normalise them."""
    h, w = thumbnail_size(image.height, image.width)
    y = cv2.resize(image.y, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    cb = cv2.resize(image.u, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    cr = cv2.resize(image.v, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    black, white = image.luma_black_white()
    centre, span = image.chroma_centre_span()
    y = np.clip((y - black) / (white - black), 0.0, 1.0)
    cb = (cb - centre) / span
    cr = (cr - centre) / span
    r, g, b = yuv_to_rgb(y, cb, cr, image.matrix)
    rgb = np.clip(np.stack([r, g, b]), 0.0, 1.0).astype(np.float32)
    return Thumbnail(y=y, cb=cb, cr=cr, rgb=rgb)
