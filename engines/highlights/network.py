"""The fusion network as the stage's ``fuse`` function, on any runtime."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from engines.highlights.recovery import Fuse
from engines.runtimes import Runtime

FUSION_MODEL = "highlights"       # the registry's name for the trained FusionNet


class FusionEstimator(Protocol):
    """(current (N, 3, H, W), fill (N, 3, H, W), weight (N, 1, H, W)) float32 → fused (N, 3, H, W)."""

    def __call__(self, current: np.ndarray, fill: np.ndarray, weight: np.ndarray) -> np.ndarray: ...


def network_fuse(estimator: FusionEstimator) -> Fuse:
    """Wrap a FusionNet estimator as ``(current, fill, weight) → fused``, on (H, W, 3) / (H, W) arrays."""
    def fuse(current: np.ndarray, fill: np.ndarray, weight: np.ndarray) -> np.ndarray:
        planar = lambda x: np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)    # noqa: E731
        out = estimator(planar(current), planar(fill), np.ascontiguousarray(weight[None, None], dtype=np.float32))
        return np.clip(out[0].transpose(1, 2, 0), 0.0, 1.0)
    return fuse


def open_fusion(runtime: Runtime, weights_dir: Path | None = None) -> Fuse:
    """The shipped (or ``weights_dir``'s) FusionNet on ``runtime``."""
    return network_fuse(runtime.open(FUSION_MODEL, weights_dir))
