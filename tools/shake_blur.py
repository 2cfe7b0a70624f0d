"""Camera-shake blur kernels from random trajectories, and applying them to batches.

A hand-held or vibrating camera moves during a long (low-light) exposure; the
picture is the scene integrated along that path. Following Boracchi & Foi
("Modeling the performance of image restoration from motion blur", 2012), the
path is a random walk with inertia: velocity keeps most of its direction,
gets Gaussian nudges and occasional jerks. It is scaled so that its extent is
``length_px`` pixels and rasterised with bilinear splatting into a normalised
kernel (sum 1) centred on its centroid, so blurring does not shift the picture.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

KERNEL_SIZE = 17          # odd; holds paths up to ~15 px
PATH_SAMPLES = 96


def shake_kernel(rng: np.random.Generator, length_px: float, size: int = KERNEL_SIZE) -> np.ndarray:
    """One blur kernel, float32 (size, size), non-negative, sum 1.

    The path's extent is ``length_px`` (at most size − 2), shortened where a
    lopsided path would otherwise leave the window around its centroid.
    """
    if length_px < 0.5:
        kernel = np.zeros((size, size), np.float32)
        kernel[size // 2, size // 2] = 1.0
        return kernel
    angle = rng.uniform(0, 2 * np.pi)
    velocity = np.array([np.cos(angle), np.sin(angle)])
    points = np.zeros((PATH_SAMPLES, 2))
    for i in range(1, PATH_SAMPLES):
        velocity = 0.9 * velocity + 0.35 * rng.standard_normal(2)
        if rng.random() < 0.03:                       # a jerk: the hand corrects
            velocity = -velocity + rng.standard_normal(2)
        points[i] = points[i - 1] + velocity
    extent = float(np.max(np.ptp(points, axis=0)))
    points = points - points.mean(axis=0)
    # Scale to the asked extent, but never beyond the window around the centroid (no clipped path samples).
    reach = float(np.abs(points).max())
    scale = min(min(length_px, size - 2) / max(extent, 1e-6), (size // 2 - 1) / max(reach, 1e-6))
    points = points * scale + size // 2
    kernel = np.zeros((size + 1, size + 1), np.float64)
    x0, y0 = np.floor(points[:, 0]).astype(int), np.floor(points[:, 1]).astype(int)
    fx, fy = points[:, 0] - x0, points[:, 1] - y0
    x0, y0 = np.clip(x0, 0, size - 1), np.clip(y0, 0, size - 1)
    np.add.at(kernel, (y0, x0), (1 - fx) * (1 - fy))
    np.add.at(kernel, (y0, x0 + 1), fx * (1 - fy))
    np.add.at(kernel, (y0 + 1, x0), (1 - fx) * fy)
    np.add.at(kernel, (y0 + 1, x0 + 1), fx * fy)
    kernel = kernel[:size, :size]
    return (kernel / kernel.sum()).astype(np.float32)


def blur_batch(images: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Blur each image with its own kernel: (N, C, H, W) and (N, k, k) → (N, C, H, W), reflect-padded."""
    n, c, h, w = images.shape
    k = kernels.shape[-1]
    padded = F.pad(images.reshape(1, n * c, h, w), (k // 2,) * 4, mode="reflect")
    # conv2d correlates; flipping makes it a true convolution with the kernel (the path's direction).
    weight = kernels.flip(-1, -2).repeat_interleave(c, dim=0).unsqueeze(1).to(images)
    return F.conv2d(padded, weight, groups=n * c).reshape(n, c, h, w)
