"""Learning-rate schedules shared by the training loops (``tools.train``, ``train_quality``, ``train_fusion``)."""

from __future__ import annotations

import math

import torch


def set_cosine_lr(optimiser: torch.optim.Optimizer, peak_lr: float, progress: float) -> None:
    """Cosine decay: ``peak_lr`` at progress 0, 0 at progress 1 (steps or wall time, whichever is further)."""
    for group in optimiser.param_groups:
        group["lr"] = peak_lr * 0.5 * (1.0 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))
