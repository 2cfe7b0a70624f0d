"""tools.train --model quality end to end on a tiny generated pool: weights, manifest, settings."""

from __future__ import annotations

import argparse

import cv2
import numpy as np
import pytest

from engines.registry import load_model, model_info
from tools.train_quality import train_quality


@pytest.mark.parametrize("workers", [0, 1])
def test_two_steps_write_loadable_weights(tmp_path, workers: int) -> None:
    data = tmp_path / "clean" / "pool"
    data.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(2):
        image = cv2.GaussianBlur(rng.integers(60, 250, (340, 480, 3), dtype=np.uint8), (0, 0), 2)
        cv2.imwrite(str(data / f"{i}.png"), image)
    args = argparse.Namespace(data=tmp_path / "clean", out=tmp_path / "weights", model="quality", name=None,
                              steps=2, batch=2, lr=1e-3, patch=32, blur_probability=0.5, seed=0, init=None,
                              device="cpu", max_minutes=0, workers=workers)
    train_quality(args)
    info = model_info("quality", tmp_path / "weights")
    assert info.architecture == "RestoreNet" and info.settings["steps"] == 2
    assert info.settings["blur_probability"] == 0.5
    model, _ = load_model("quality", tmp_path / "weights")
    assert sum(p.numel() for p in model.parameters()) <= 1_000_000
