"""The ``fast`` model's full forward pass in torch: differentiable, batched.

Used for training and wherever frames are torch tensors. It computes the same
thing as ``engines.curve_enhancer`` + ``engines.curve_apply`` do on the CPU with a
lookup table (the tests hold the two within a code value or two).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from engines.colour import yuv_to_rgb
from engines.curves import DEFAULT_ITERATIONS, apply_curve, chroma_gain


def thumbnail_planes(y: torch.Tensor, cb: torch.Tensor, cr: torch.Tensor, factor: int) -> tuple[torch.Tensor, ...]:
    """Block-average planes to thumbnail size.

    Args:
        y: (N, 1, H, W) luma in [0, 1]; H and W multiples of ``factor``.
        cb, cr: (N, 1, H/2, W/2) or (N, 1, H, W), in [-0.5, 0.5].
        factor: even reduction factor for luma.

    Returns:
        (y_t, rgb_t): (N, 1, h, w) luma and (N, 3, h, w) R'G'B' clipped to [0, 1].
    """
    y_t = F.avg_pool2d(y, factor)
    chroma_factor = factor * cb.shape[-1] // y.shape[-1]
    cb_t = F.avg_pool2d(cb, chroma_factor)
    cr_t = F.avg_pool2d(cr, chroma_factor)
    r, g, b = yuv_to_rgb(y_t, cb_t, cr_t, "bt709")
    return y_t, torch.cat([r, g, b], dim=1).clamp(0.0, 1.0)


def apply_curve_maps_torch(
    y: torch.Tensor,
    cb: torch.Tensor,
    cr: torch.Tensor,
    y_thumb: torch.Tensor,
    alpha_thumb: torch.Tensor,
    iterations: int = DEFAULT_ITERATIONS,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Apply thumbnail curve maps at full resolution (bilinear upsampling, half-pixel centres).

    Shapes as in ``thumbnail_planes``; ``alpha_thumb`` is (N, 1, h, w) in [-1, 1].
    Returns enhanced (y, cb, cr) with the input shapes, y in [0, 1].
    """
    alpha = F.interpolate(alpha_thumb, size=y.shape[-2:], mode="bilinear", align_corners=False)
    y_out = apply_curve(y.clamp(0.0, 1.0), alpha, iterations)
    gain = chroma_gain(y_thumb, alpha_thumb, iterations)
    gain = F.interpolate(gain, size=cb.shape[-2:], mode="bilinear", align_corners=False)
    return y_out, cb * gain, cr * gain
