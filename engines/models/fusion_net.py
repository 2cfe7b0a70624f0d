"""FusionNet: blends an aligned reference into a frame's clipped highlights, seamlessly.

Inputs (N, C, H, W) float32, any H and W:
    current (3): the frame as the stage received it, R'G'B' in [0, 1] (clipped where blown);
    fill (3):    the aligned, exposure-matched, rolled-off reference (``engines.highlights``);
    weight (1):  feathered clipping mask × alignment confidence, in [0, 1].
Output: fused R'G'B' (3), ``current + weight · (fill + correction − current)``.

The network only predicts ``correction`` — where the reference's seams,
misalignment fringes and colour disagree with the frame around them — from
a context of about 31 px (dilated convolutions). The product with ``weight``
is outside the learned part, so pixels the mask does not cover are returned
exactly as they came: the network can refine a fill, never invent one.
8,035 parameters at width 16.
"""

from __future__ import annotations

import torch
from torch import nn


class FusionNet(nn.Module):
    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(7, width, 3, padding=1), nn.LeakyReLU(0.1),
            nn.Conv2d(width, width, 3, padding=2, dilation=2), nn.LeakyReLU(0.1),
            nn.Conv2d(width, width, 3, padding=4, dilation=4), nn.LeakyReLU(0.1),
            nn.Conv2d(width, width, 3, padding=8, dilation=8), nn.LeakyReLU(0.1),
            nn.Conv2d(width, 3, 1),
        )
        nn.init.zeros_(self.body[-1].weight)      # starts as the classical fill exactly
        nn.init.zeros_(self.body[-1].bias)

    def forward(self, current: torch.Tensor, fill: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        correction = self.body(torch.cat([current, fill, weight], dim=1))
        return current + weight * (fill + correction - current)
