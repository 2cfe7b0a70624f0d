"""Per-stream enhancer for the ``quality`` model (RestoreNet), full resolution.

Each frame: planes → float R'G'B' (chroma upsampled bilinearly) → padded by
reflection to a multiple of 8 → the network, with a constant denoise-strength
map → cropped, clipped → planes of the output depth, with the input's chroma
layout, range and matrix. The network is the whole enhancement (brightness,
colour, noise, blocking, blur); temporal work is ``engines.temporal``'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

import numpy as np

from engines.image import YuvImage, image_from_rgb_float, image_to_rgb_float
from engines.io_specs import IO_SPECS

# Padding target; from the torch-free contract, not the torch model, so the ONNX path needs no torch.
MULTIPLE = IO_SPECS["RestoreNet"].multiple


class RestoreEstimator(Protocol):
    """(rgb (N, 3, H, W), denoise (N, 1, H, W)) float32 → restored rgb (N, 3, H, W); H, W multiples of 8."""

    def __call__(self, rgb: np.ndarray, denoise: np.ndarray) -> np.ndarray: ...


@dataclass
class RestoreStats:
    """What the last frame did: frames so far, mean R'G'B' in [0, 1] before and after."""

    frames: int = 0
    mean_in: float = 0.0
    mean_out: float = 0.0


@dataclass
class RestoreEnhancer:
    """Stateless per frame (all temporal state lives in ``engines.temporal``).

    Attributes:
        estimator: RestoreNet behind any runtime.
        denoise: 0 keeps every grain, 1 removes noise fully (the network's conditioning).
        strength: 0 leaves frames untouched, 1 applies the model fully (a blend in R'G'B').
    """

    estimator: RestoreEstimator
    denoise: float = 0.5
    strength: float = 1.0
    stats: RestoreStats = field(default_factory=RestoreStats)

    def __post_init__(self) -> None:
        for name in ("denoise", "strength"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")

    def reset(self) -> None:
        """Nothing to forget: each frame is restored on its own."""

    def enhance(self, image: YuvImage, time_s: float | None = None, out_bits: int | None = None) -> YuvImage:
        """Restore one picture; ``time_s`` is unused (kept for the common enhancer interface)."""
        # Channels first throughout, as the network takes them: no transposed copies on the way.
        rgb = image_to_rgb_float(image, channels_first=True)
        np.clip(rgb, 0.0, 1.0, out=rgb)                  # in place: one full-resolution copy fewer per frame
        restored = restore_rgb(self.estimator, rgb, self.denoise)
        if self.strength < 1.0:
            restored = rgb + self.strength * (restored - rgb)
        self.stats.frames += 1
        self.stats.mean_in = float(rgb.mean())
        self.stats.mean_out = float(restored.mean())
        bits = out_bits or image.bit_depth
        return image_from_rgb_float(restored, bits, image.full_range, image.matrix, image.u.shape, channels_first=True)


def restore_rgb(estimator: RestoreEstimator, rgb: np.ndarray, denoise: float) -> np.ndarray:
    """float R'G'B' (3, H, W) in [0, 1] → restored (3, H, W) in [0, 1], any H, W ≥ 2."""
    height, width = rgb.shape[1:]
    pad_h, pad_w = -height % MULTIPLE, -width % MULTIPLE
    x = np.pad(rgb, ((0, 0), (0, pad_h), (0, pad_w)), mode="reflect" if min(height, width) > MULTIPLE else "edge")
    x = x[None].astype(np.float32, copy=False)          # np.pad's result is already contiguous
    out = estimator(x, _denoise_map(x.shape[2], x.shape[3], float(denoise)))[0, :, :height, :width]
    return np.clip(out, 0.0, 1.0)


@lru_cache(maxsize=4)
def _denoise_map(height: int, width: int, denoise: float) -> np.ndarray:
    """The constant conditioning map (1, 1, H, W) float32, made once per size (shared: do not write to it)."""
    return np.full((1, 1, height, width), denoise, np.float32)
