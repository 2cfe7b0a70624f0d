"""RestoreNet: the ``quality`` model — brighten, correct colour, denoise, deblock, deblur.

Input:  ``rgb``     (N, 3, H, W) R'G'B' in [0, 1], H and W multiples of ``MULTIPLE`` (8);
        ``denoise`` (N, 1, H, W) in [0, 1]: how much of the noise to remove at each
        pixel (0 keeps every grain, 1 removes it fully) — the FFDNet-style
        conditioning map, usually constant, scaled per pixel where useful.
Output: (N, 3, H, W) R'G'B', nominally [0, 1] (not clamped: callers clamp), full resolution.

Why this shape:
- the work happens at half resolution after a lossless ``PixelUnshuffle(2)``
  and comes back with ``PixelShuffle(2)``: a quarter of the pixels for the
  convolutions, yet nothing is resized — every output pixel is computed from
  its own input pixel, so no interpolation blur enters the picture;
- a fixed exposure normalisation first (mean linear light scaled toward mid
  grey, gain capped) gives the net an input of roughly the right brightness,
  so its capacity goes to the local part — noise, blocks, blur, colour — and
  the output is a residual on top of that normalised picture; the log of the
  gain is an input plane too (it says how much the noise was amplified);
- a three-level U-Net with a global-context term at the bottom (the mean of
  the features over the picture): colour casts and exposure are global facts;
- the only non-linearities are the LeakyReLUs inside the residual blocks; the
  stem, the stride-2 convolutions and the transposed ones are linear. (A first
  version had ReLUs on the stem and between levels: the stem's units all died
  early in training, and the net collapsed to a constant residual.)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from engines.io_specs import IO_SPECS

MULTIPLE = IO_SPECS["RestoreNet"].multiple     # 8: PixelUnshuffle(2) then two stride-2 levels
MID_GREY_LINEAR = 0.18
MAX_GAIN = 64.0
NEGATIVE_SLOPE = 0.1


class ResBlock(nn.Module):
    """conv3×3 → LeakyReLU(0.1) → conv3×3, added to the input."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.leaky_relu(self.conv1(x), NEGATIVE_SLOPE))


def exposure_normalise(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale each picture's mean linear light toward mid grey (gain in [1, MAX_GAIN]).

    Returns (normalised R'G'B' (N, 3, H, W) clipped to [0, 1], log-gain (N, 1, 1, 1)
    divided by log(MAX_GAIN), so in [0, 1]). Gamma 2.2 stands in for the sRGB
    curve: only a rough starting point is needed, the net corrects the rest.
    """
    linear = rgb.clamp(0.0, 1.0) ** 2.2
    mean = linear.mean(dim=(1, 2, 3), keepdim=True)
    gain = (MID_GREY_LINEAR / (mean + 1e-4)).clamp(1.0, MAX_GAIN)
    normalised = (linear * gain).clamp(0.0, 1.0) ** (1.0 / 2.2)
    return normalised, torch.log(gain) / math.log(MAX_GAIN)


class RestoreNet(nn.Module):
    """See the module docstring. ``widths`` are the channels at 1/2, 1/4 and 1/8 resolution."""

    def __init__(self, widths: tuple[int, int, int] = (16, 32, 64)) -> None:
        super().__init__()
        self.widths = tuple(widths)
        c1, c2, c3 = self.widths
        self.unshuffle = nn.PixelUnshuffle(2)
        self.shuffle = nn.PixelShuffle(2)
        self.stem = nn.Conv2d(4 * 8, c1, 3, padding=1)      # 2×2 blocks of rgb, normalised rgb, denoise, log-gain
        self.enc1 = ResBlock(c1)
        self.down1 = nn.Conv2d(c1, c2, 2, stride=2)
        self.enc2 = ResBlock(c2)
        self.down2 = nn.Conv2d(c2, c3, 2, stride=2)
        self.mid1 = ResBlock(c3)
        self.context = nn.Conv2d(c3, c3, 1)
        self.mid2 = ResBlock(c3)
        self.up2 = nn.ConvTranspose2d(c3, c2, 2, stride=2)
        self.dec2 = ResBlock(c2)
        self.up1 = nn.ConvTranspose2d(c2, c1, 2, stride=2)
        self.dec1 = ResBlock(c1)
        self.head = nn.Conv2d(c1, 4 * 3, 3, padding=1)

    def forward(self, rgb: torch.Tensor, denoise: torch.Tensor) -> torch.Tensor:
        normalised, log_gain = exposure_normalise(rgb)
        x = torch.cat([rgb, normalised, denoise, log_gain.expand_as(denoise)], dim=1)
        e1 = self.enc1(self.stem(self.unshuffle(x)))
        e2 = self.enc2(self.down1(e1))
        m = self.mid1(self.down2(e2))
        # Global context: exposure and colour cast are properties of the whole picture.
        m = self.mid2(m + self.context(m.mean(dim=(2, 3), keepdim=True)))
        d2 = self.dec2(self.up2(m) + e2)
        d1 = self.dec1(self.up1(d2) + e1)
        return normalised + self.shuffle(self.head(d1))
