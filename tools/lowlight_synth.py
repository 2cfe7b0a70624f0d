"""Synthetic low-light pairs from clean photos, for training and evaluation.

Physically motivated: work in linear light, scale the exposure down, add light
sources that do *not* scale with the ambient light (street lamps, headlights —
they are what a night scene must not blow out), add Poisson–Gaussian sensor
noise, encode back to sRGB and quantise to 8 bits.

All functions take and return torch tensors (N, 3, H, W), sRGB in [0, 1].
``degrade`` is the ``fast`` model's recipe; ``degrade_restoration`` the fuller
one the ``quality`` model trains on (colour cast, per-channel noise, camera
shake, compression).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from engines.colour import linear_to_srgb, srgb_to_linear
from tools.shake_blur import blur_batch, shake_kernel


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


@dataclass(frozen=True)
class RestorationRanges:
    """Ranges of the ``quality`` model's degradations, sampled per image.

    Exposure is the ambient light's scale (log-uniform); noise variances are per
    unit linear signal (shot) and constant (read), each channel scaled by its own
    gain (white balance amplifies red and blue noise); the colour cast is a
    per-channel linear gain on red and blue; shake blur is a random-trajectory
    kernel of the given extent in pixels; compression is JPEG at the given
    quality (8×8 DCT blocks, 4:2:0 — the blocking of dark H.264).
    """

    exposure: tuple[float, float] = (1 / 50, 1 / 4)
    keep_exposure_probability: float = 0.05
    lamp_probability: float = 0.4
    shot_noise: tuple[float, float] = (2e-4, 3e-3)
    read_noise: tuple[float, float] = (1e-6, 1e-4)
    channel_noise: tuple[float, float] = (0.8, 1.6)
    cast: tuple[float, float] = (0.75, 1.3)
    blur_probability: float = 0.5
    blur_length: tuple[float, float] = (1.5, 12.0)
    jpeg_probability: float = 0.6
    jpeg_quality: tuple[int, int] = (30, 90)


@dataclass(frozen=True)
class RestorationPair:
    """One degraded batch, all (N, 3, H, W) sRGB in [0, 1].

    ``dark``: what the camera delivered (8-bit, maybe JPEG-compressed).
    ``clean``: the target with all noise removed (denoise 1).
    ``grainy``: the target keeping the sensor grain, at the right exposure
    and colour and sharp, without compression artefacts (denoise 0).
    """

    dark: torch.Tensor
    clean: torch.Tensor
    grainy: torch.Tensor

    def target(self, denoise: torch.Tensor) -> torch.Tensor:
        """The target for denoise strengths (N, 1, 1, 1) or (N, 1, H, W) in [0, 1]: a blend in display space."""
        return self.clean + (1.0 - denoise) * (self.grainy - self.clean)


def jpeg_round_trip(rgb: np.ndarray, quality: int) -> np.ndarray:
    """uint8 RGB (H, W, 3) through OpenCV's JPEG encoder (4:2:0) and back."""
    ok, data = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.imdecode(data, cv2.IMREAD_COLOR)[:, :, ::-1]


def degrade_restoration(clean: torch.Tensor, generator: torch.Generator,
                        ranges: RestorationRanges = RestorationRanges()) -> RestorationPair:
    """Camera model for the ``quality`` model, on clean sRGB images (N, 3, H, W), CPU tensors.

    scene = clean (linear) + lamps; captured = cast · blur(exposure · ambient + lamps)
    + Poisson–Gaussian noise; → sRGB → 8 bits → maybe JPEG. Deterministic for a
    given ``generator`` state (the NumPy parts draw their seed from it).
    """
    n, _, height, width = clean.shape
    rng = np.random.default_rng(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
    linear = srgb_to_linear(clean)
    has_lamp = (torch.rand(n, generator=generator) < ranges.lamp_probability).float().view(n, 1, 1, 1)
    light = lamps(n, height, width, generator) * has_lamp
    exposure = _log_uniform(*ranges.exposure, n, generator)
    keep = torch.rand(n, generator=generator) < ranges.keep_exposure_probability
    exposure = torch.where(keep, torch.ones_like(exposure), exposure).view(n, 1, 1, 1)
    cast = torch.ones(n, 3, 1, 1)
    cast[:, 0::2] = ranges.cast[0] + (ranges.cast[1] - ranges.cast[0]) * torch.rand(n, 2, 1, 1, generator=generator)

    scene = exposure * linear + light
    blurred = torch.rand(n, generator=generator) < ranges.blur_probability
    lengths = rng.uniform(*ranges.blur_length, size=n) * blurred.numpy()
    kernels = torch.from_numpy(np.stack([shake_kernel(rng, float(length)) for length in lengths]))
    captured = cast * blur_batch(scene, kernels)
    shot = _log_uniform(*ranges.shot_noise, n, generator).view(n, 1, 1, 1)
    read = _log_uniform(*ranges.read_noise, n, generator).view(n, 1, 1, 1)
    low, high = ranges.channel_noise
    channel = low + (high - low) * torch.rand(n, 3, 1, 1, generator=generator)
    sigma = torch.sqrt(channel * (shot * captured.clamp(0.0, 1.0) + read))
    noise = sigma * torch.randn(captured.shape, generator=generator)
    dark = torch.round(linear_to_srgb((captured + noise).clamp(0.0, 1.0)) * 255.0)

    compress = rng.random(n) < ranges.jpeg_probability
    qualities = rng.integers(ranges.jpeg_quality[0], ranges.jpeg_quality[1] + 1, size=n)
    codes = dark.permute(0, 2, 3, 1).to(torch.uint8).numpy()
    for i in np.flatnonzero(compress):
        codes[i] = jpeg_round_trip(codes[i], int(qualities[i]))
    dark = torch.from_numpy(codes).permute(0, 3, 1, 2).float() / 255.0

    target_linear = linear + light
    # The grain as it would look at the target's exposure and colour: noise divided by the gains applied to the scene.
    grain = noise / (exposure * cast)
    return RestorationPair(dark=dark, clean=linear_to_srgb(target_linear.clamp(0.0, 1.0)),
                           grainy=linear_to_srgb((target_linear + grain).clamp(0.0, 1.0)))
