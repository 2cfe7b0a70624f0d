"""CurveNet: the ``fast`` model's curve-parameter estimator (Zero-DCE++ class).

Input: a thumbnail of the frame, R'G'B' in [0, 1], shape (N, 3, h, w), any h, w ≥ 1
(``engines.thumbnail``: long side ≤ 160 px; training used 32–112 px).
Output: alpha maps in [-1, 1], shape (N, 1, h, w), one curve parameter per
thumbnail pixel for the luma curve in ``engines.curves``.

Depthwise-separable convolutions as in Zero-DCE++, dilations to widen the
receptive field cheaply, and a global-context branch (mean over the picture) so
the net knows the overall exposure, not only the neighbourhood.
"""

from __future__ import annotations

import torch
from torch import nn


class SeparableConv(nn.Module):
    """Depthwise 3×3 (optionally dilated) followed by pointwise 1×1."""

    def __init__(self, in_channels: int, out_channels: int, dilation: int = 1) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(
            in_channels, in_channels, 3, padding=dilation, dilation=dilation,
            groups=in_channels,
        )
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class CurveNet(nn.Module):
    """Predict per-pixel curve parameters from a thumbnail. See module docstring."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.width = width
        self.stem = nn.Conv2d(3, width, 3, padding=1)
        self.enc2 = SeparableConv(width, width)
        self.enc3 = SeparableConv(width, width, dilation=2)
        self.enc4 = SeparableConv(width, width, dilation=4)
        self.context = nn.Conv2d(width, width, 1)
        self.dec3 = SeparableConv(2 * width, width, dilation=2)
        self.dec2 = SeparableConv(2 * width, width)
        self.head = SeparableConv(2 * width, 1)
        self.act = nn.ReLU(inplace=True)

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        e1 = self.act(self.stem(rgb))
        e2 = self.act(self.enc2(e1))
        e3 = self.act(self.enc3(e2))
        # Global exposure context, broadcast back over the picture.
        e4 = self.act(self.enc4(e3) + self.context(e3.mean(dim=(2, 3), keepdim=True)))
        d3 = self.act(self.dec3(torch.cat([e3, e4], dim=1)))
        d2 = self.act(self.dec2(torch.cat([e2, d3], dim=1)))
        return torch.tanh(self.head(torch.cat([e1, d2], dim=1)))
