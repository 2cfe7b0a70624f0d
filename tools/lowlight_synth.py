"""Synthetic low-light pairs from clean photos, for training and evaluation.

Physically motivated: work in linear light, scale the exposure down, add light
sources that do *not* scale with the ambient light (street lamps, headlights —
they are what a night scene must not blow out), add Poisson–Gaussian sensor
noise, encode back to sRGB and quantise to 8 bits.

All functions take and return torch tensors (N, 3, H, W), sRGB in [0, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from engines.colour import linear_to_srgb, srgb_to_linear


@dataclass(frozen=True)
class DegradationRanges:
    """Ranges sampled per image. Exposure is log-uniform within its range."""

    exposure: tuple[float, float] = (1 / 40, 1 / 3)
    keep_exposure_probability: float = 0.12      # some well-lit pictures: the model must leave them be
    lamp_probability: float = 0.5
    shot_noise: tuple[float, float] = (1e-4, 3e-3)   # variance per unit linear signal
    read_noise: tuple[float, float] = (1e-6, 1e-4)   # variance


def _log_uniform(low: float, high: float, n: int, generator: torch.Generator) -> torch.Tensor:
    u = torch.rand(n, generator=generator)
    return torch.exp(math.log(low) + u * (math.log(high) - math.log(low)))


def lamps(n: int, height: int, width: int, generator: torch.Generator) -> torch.Tensor:
    """Linear radiance of 1–3 light sources per image (N, 3, H, W); zero where none."""
    yy = torch.arange(height).view(1, height, 1).float()
    xx = torch.arange(width).view(1, 1, width).float()
    out = torch.zeros(n, 3, height, width)
    for i in range(n):
        for _ in range(int(torch.randint(1, 4, (1,), generator=generator))):
            cy = float(torch.rand(1, generator=generator)) * height
            cx = float(torch.rand(1, generator=generator)) * width
            core = 2.0 + 10.0 * float(torch.rand(1, generator=generator))
            power = 2.0 + 18.0 * float(torch.rand(1, generator=generator))
            r2 = (yy - cy) ** 2 + (xx - cx) ** 2
            glow = power * torch.exp(-r2 / (2 * core**2)) + 0.05 * power * torch.exp(-r2 / (2 * (6 * core) ** 2))
            warm = torch.tensor([1.0, 0.8 + 0.2 * float(torch.rand(1, generator=generator)), 0.55]).view(3, 1, 1)
            out[i] += glow[0] * warm
    return out


def degrade(clean: torch.Tensor, generator: torch.Generator, ranges: DegradationRanges = DegradationRanges()
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Make (dark input, target) from clean sRGB images (N, 3, H, W).

    The target is the clean picture with the same lamps lit (clipped at white);
    the input is the same scene at lower ambient exposure, with noise, 8-bit.
    """
    n, _, height, width = clean.shape
    linear = srgb_to_linear(clean)
    light = lamps(n, height, width, generator)
    has_lamp = (torch.rand(n, generator=generator) < ranges.lamp_probability).float().view(n, 1, 1, 1)
    light = light * has_lamp
    exposure = _log_uniform(*ranges.exposure, n, generator)
    keep = torch.rand(n, generator=generator) < ranges.keep_exposure_probability
    exposure = torch.where(keep, torch.ones_like(exposure), exposure).view(n, 1, 1, 1)

    target = linear_to_srgb((linear + light).clamp(0.0, 1.0))
    dark = exposure * linear + light
    shot = _log_uniform(*ranges.shot_noise, n, generator).view(n, 1, 1, 1)
    read = _log_uniform(*ranges.read_noise, n, generator).view(n, 1, 1, 1)
    sigma = torch.sqrt(shot * dark.clamp(0.0, 1.0) + read)
    dark = dark + sigma * torch.randn(dark.shape, generator=generator)
    dark = linear_to_srgb(dark.clamp(0.0, 1.0))
    dark = torch.round(dark * 255.0) / 255.0
    return dark, target
