"""Clipped-highlight masks: soft, per channel, dilated and feathered.

Values are R'G'B' (gamma-encoded) floats in [0, 1]. A channel counts as
clipped from ``CLIP_LOW`` and fully from ``CLIP_HIGH``: the ramp between them
(a smoothstep) keeps the mask soft, so a highlight that grows by one code does
not switch a pixel from untouched to replaced. Camera clipping rarely lands
exactly on code 255 (JPEG/H.264 ringing, the encoder's limited range, white
balance applied after the sensor clipped), hence the margin below 1.
"""

from __future__ import annotations

import cv2
import numpy as np

CLIP_LOW = 0.90
CLIP_HIGH = 0.98
# A source pixel is well exposed while its clipping mask stays below this (every channel
# under about R' 0.915): a bright white wall at 0.9 is still a perfectly good source.
WELL_EXPOSED_MASK = 0.1
# For measuring (exposure ratio, residuals) a margin more: near clipping, 4:2:0 chroma and the
# encoder's rounding bend the values.
MEASURABLE_MAX = 0.8


def clipped_mask(rgb: np.ndarray) -> np.ndarray:
    """Per-channel clipping: (H, W, 3) R'G'B' → (H, W, 3) float32 in [0, 1] (1 = clipped)."""
    t = np.clip((rgb.astype(np.float32, copy=False) - CLIP_LOW) / (CLIP_HIGH - CLIP_LOW), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def channel_max(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) → (H, W): the largest channel (elementwise maxima: several times faster than ``max(axis=2)``)."""
    return np.maximum(np.maximum(rgb[..., 0], rgb[..., 1]), rgb[..., 2])


def clipped_any(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) R'G'B' → (H, W) float32: the most clipped channel of each pixel.

    The smoothstep is monotone, so this is the mask of the largest channel.
    """
    return clipped_mask(channel_max(rgb)[..., None])[..., 0]


def well_exposed(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) R'G'B' → (H, W) bool: no channel clipped (usable as a source)."""
    return clipped_any(rgb) < WELL_EXPOSED_MASK


def measurable(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) R'G'B' → (H, W) bool: every channel comfortably below clipping (usable for measuring)."""
    return channel_max(rgb) < MEASURABLE_MAX


def dilation_radius(width: int) -> int:
    """Dilation (and feather) radius in pixels for a picture ``width`` wide: 0.4 % of it, at least 2.

    Blooming and the encoder's ringing reach a few pixels past the clipped
    core; 5 px at 1280 wide covers what we saw on the development clips.
    """
    return max(2, round(0.004 * width))


def feathered(mask: np.ndarray, radius: int) -> np.ndarray:
    """(H, W) soft mask → dilated by ``radius`` px, then feathered over about ``radius`` px.

    The result is never below the input mask (the core stays fully covered) and
    falls smoothly to exactly 0 at ``2·radius`` px outside it, so a fill has no seam.
    """
    if radius <= 0:
        return mask.astype(np.float32, copy=False)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    grown = cv2.dilate(mask.astype(np.float32, copy=False), kernel)
    soft = cv2.GaussianBlur(grown, (2 * radius + 1, 2 * radius + 1), sigmaX=radius / 2.0)   # reach: 2·radius
    return np.maximum(soft, mask).astype(np.float32)


def stage_reach(width: int) -> int:
    """How far past a clipped pixel the stage may change anything, in pixels (dilation + feather tail)."""
    return 2 * dilation_radius(width)
