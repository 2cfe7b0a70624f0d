"""Thumbnails: the reduced-resolution view the curve estimator looks at.

The thumbnail's long side is about ``TARGET_LONG_SIDE`` whatever the frame size,
so the estimator costs the same at 720p and 4K; the curves it predicts are
applied at full resolution. The reduction factor is even so that 4:2:0 chroma
planes reduce by an integer factor too (OpenCV's INTER_AREA fast path, and
the same block average as ``torch.nn.functional.avg_pool2d`` in training).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

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
    """The thumbnail of one picture: luma always, R'G'B' only when asked for.

    ``y`` is (h, w) float32 in [0, 1], needed on every frame (scene cuts,
    smoothing, chroma gain). ``rgb`` is (3, h, w) float32 in [0, 1], the
    estimator's input, computed on first access: on frames where the network
    does not run, the chroma planes are never reduced or converted.
    """

    y: np.ndarray
    image: YuvImage = field(repr=False)

    @cached_property
    def rgb(self) -> np.ndarray:
        h, w = self.y.shape
        centre, span = self.image.chroma_centre_span()
        cb, cr = ((cv2.resize(c, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) - centre) / span
                  for c in (self.image.u, self.image.v))
        r, g, b = yuv_to_rgb(self.y, cb, cr, self.image.matrix)
        return np.clip(np.stack([r, g, b]), 0.0, 1.0).astype(np.float32)


def make_thumbnail(image: YuvImage) -> Thumbnail:
    """Area-average the luma of ``image`` down to thumbnail size and normalise it (chroma on demand)."""
    h, w = thumbnail_size(image.height, image.width)
    y = cv2.resize(image.y, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    black, white = image.luma_black_white()
    return Thumbnail(np.clip((y - black) / (white - black), 0.0, 1.0), image)
