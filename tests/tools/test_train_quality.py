"""tools.train --model quality end to end on a tiny generated pool: weights, manifest, settings."""

from __future__ import annotations

import argparse
import random

import cv2
import numpy as np
import pytest
import torch

from engines.registry import load_model, model_info
from tools.lowlight_synth import RestorationRanges
from tools.train_quality import DegradedBatches, load_real_pairs, sample_real_batch, train_quality


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


def _write_pairs(root, names, size=(40, 48)) -> None:
    rng = np.random.default_rng(1)
    for folder in ("low", "high"):
        (root / "our485" / folder).mkdir(parents=True, exist_ok=True)
    for name in names:
        high = rng.integers(60, 250, (*size, 3), dtype=np.uint8)
        cv2.imwrite(str(root / "our485" / "high" / f"{name}.png"), high)
        cv2.imwrite(str(root / "our485" / "low" / f"{name}.png"), high // 8)


def test_real_pairs_are_found_aligned_and_eval15_is_left_out(tmp_path) -> None:
    _write_pairs(tmp_path, ["2", "22", "100"])               # 22 is a LOL-v1 eval15 image
    pairs = load_real_pairs(tmp_path)
    assert len(pairs) == 2
    for low, high in pairs:
        assert low.shape == high.shape and np.array_equal(low, high // 8)
    dark, target = sample_real_batch(pairs, 4, 32, random.Random(0))
    assert dark.shape == target.shape == (4, 3, 32, 32)
    assert torch.allclose(dark, torch.floor(target * 255 / 8) / 255, atol=1e-6)   # crops stay aligned (flips too)
    assert load_real_pairs(tmp_path / "missing") == []


def test_batches_mix_real_pairs_with_denoise_one() -> None:
    rng = np.random.default_rng(0)
    images = [rng.integers(60, 250, (64, 64, 3), dtype=np.uint8)]
    high = rng.integers(60, 250, (64, 64, 3), dtype=np.uint8)
    stream = iter(DegradedBatches(images, 2, 32, RestorationRanges(), seed=0, real_pairs=[(high // 8, high)]))
    kinds = set()
    for _ in range(20):
        dark, target, denoise = next(stream)
        real = bool(torch.allclose(dark, torch.floor(target * 255 / 8) / 255, atol=1e-6))
        kinds.add(real)
        if real:
            assert torch.equal(denoise, torch.ones(2, 1, 1, 1))
    assert kinds == {True, False}


def test_training_presets_load_as_option_defaults() -> None:
    import argparse as _argparse
    from pathlib import Path

    from tools.train import load_training_config

    parser = _argparse.ArgumentParser()
    for option in ("--model", "--steps", "--max-minutes", "--batch", "--patch", "--lr", "--blur-probability",
                   "--threads", "--seed", "--reversal"):
        parser.add_argument(option)
    configs = Path(__file__).resolve().parents[2] / "configs"
    quality = load_training_config(configs / "train-quality.yaml", parser)
    assert quality["model"] == "quality" and quality["blur_probability"] == 0.5
    assert load_training_config(configs / "train-fast.yaml", parser)["model"] == "fast"
