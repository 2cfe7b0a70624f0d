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


def lamps(n: int, height: int, width: int, generator: torch.Generator, device: torch.device | str = "cpu",
          max_lamps: int = 3) -> torch.Tensor:
    """Linear radiance of 1–3 light sources per image (N, 3, H, W), far above 1 at the core.

    Parameters are drawn on the CPU from ``generator`` (deterministic whatever
    the device); the maps are computed on ``device``.
    """
    count = torch.randint(1, max_lamps + 1, (n, 1), generator=generator)
    used = (torch.arange(max_lamps).view(1, max_lamps) < count).float()           # (N, K)
    cy = torch.rand(n, max_lamps, generator=generator) * height
    cx = torch.rand(n, max_lamps, generator=generator) * width
    core = 2.0 + 10.0 * torch.rand(n, max_lamps, generator=generator)
    power = (2.0 + 18.0 * torch.rand(n, max_lamps, generator=generator)) * used
    green = 0.8 + 0.2 * torch.rand(n, max_lamps, generator=generator)
    colour = torch.stack([torch.ones_like(green), green, torch.full_like(green, 0.55)], dim=2)  # warm, (N, K, 3)
    to = lambda t: t.to(device).view(n, max_lamps, 1, 1)  # noqa: E731
    yy = torch.arange(height, device=device, dtype=torch.float32).view(1, 1, height, 1)
    xx = torch.arange(width, device=device, dtype=torch.float32).view(1, 1, 1, width)
    r2 = (yy - to(cy)) ** 2 + (xx - to(cx)) ** 2                                    # (N, K, H, W)
    glow = to(power) * (torch.exp(-r2 / (2 * to(core) ** 2)) + 0.05 * torch.exp(-r2 / (2 * (6 * to(core)) ** 2)))
    return torch.einsum("nkhw,nkc->nchw", glow, colour.to(device))


def degrade(clean: torch.Tensor, generator: torch.Generator, ranges: DegradationRanges = DegradationRanges()
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Make (dark input, target) from clean sRGB images (N, 3, H, W).

    The target is the clean picture with the same lamps lit (clipped at white);
    the input is the same scene at lower ambient exposure, with noise, 8-bit.
    """
    n, _, height, width = clean.shape
    device = clean.device
    linear = srgb_to_linear(clean)
    light = lamps(n, height, width, generator, device)
    has_lamp = (torch.rand(n, generator=generator) < ranges.lamp_probability).float().view(n, 1, 1, 1).to(device)
    light = light * has_lamp
    exposure = _log_uniform(*ranges.exposure, n, generator)
    keep = torch.rand(n, generator=generator) < ranges.keep_exposure_probability
    exposure = torch.where(keep, torch.ones_like(exposure), exposure).view(n, 1, 1, 1).to(device)

    target = linear_to_srgb((linear + light).clamp(0.0, 1.0))
    dark = exposure * linear + light
    shot = _log_uniform(*ranges.shot_noise, n, generator).view(n, 1, 1, 1).to(device)
    read = _log_uniform(*ranges.read_noise, n, generator).view(n, 1, 1, 1).to(device)
    sigma = torch.sqrt(shot * dark.clamp(0.0, 1.0) + read)
    dark = dark + sigma * torch.randn(dark.shape, generator=generator).to(device)
    dark = linear_to_srgb(dark.clamp(0.0, 1.0))
    dark = torch.round(dark * 255.0) / 255.0
    return dark, target
