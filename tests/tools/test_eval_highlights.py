"""tools.eval_highlights' measures and tools.train_fusion's samples, on generated pictures."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest
import torch

from engines.highlights.align import to_display
from engines.highlights.fusion import roll_off
from engines.image import image_from_rgb, image_to_rgb
from tools.eval_highlights import (PEAK_GAIN, RampClip, clipped_core, evaluate, lamp_kept, make_lamp_clip, nothing,
                                   outside_psnr, ramp_gains, stage, structure, telea)
from tools.train_fusion import CROP, fusion_loss, make_sample


def linear_scene(height: int = 96, width: int = 160, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    texture = cv2.GaussianBlur(rng.random((height, width)).astype(np.float32), (0, 0), 3)
    texture = (texture - texture.min()) / (texture.max() - texture.min())
    return np.repeat((0.03 + 0.45 * texture)[..., None], 3, axis=2).astype(np.float32)


def to_u8(linear: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(to_display(linear) * 255.0), 0, 255).astype(np.uint8)


def test_ramp_rises_to_the_peak_and_back():
    gains = ramp_gains(25.0)
    assert len(gains) == 2 * round(0.5 * 25) + 2 * 25 and gains[0] == gains[-1] == 1.0
    assert gains.max() == pytest.approx(PEAK_GAIN) and int(np.argmax(gains)) in range(36, 39)
    assert np.all(np.diff(gains[:37]) >= 0) and np.all(np.diff(gains[38:]) <= 0)


def test_structure_is_one_for_the_truth_and_zero_for_a_clipped_input():
    truth = linear_scene() * 3.0
    clipped = to_u8(truth)
    mask = clipped_core(clipped)
    assert mask.mean() > 0.05
    assert structure(to_u8(roll_off(truth)), truth, mask) > 0.9
    assert structure(clipped, truth, mask) == pytest.approx(0.0, abs=0.05)


def test_outside_psnr_ignores_the_mask_and_its_reach():
    picture = to_u8(linear_scene() * 2.2)
    mask = picture.max(axis=2) >= 230
    assert 0.01 < mask.mean() < 0.3
    changed = picture.copy()
    changed[mask] = 128
    assert outside_psnr(changed, picture, mask) == 99.0
    changed[~cv2.dilate(mask.astype(np.uint8), np.ones((31, 31), np.uint8)).astype(bool)] //= 2
    assert outside_psnr(changed, picture, mask) < 30


def test_stage_beats_nothing_and_telea_on_a_ramp_with_a_pan():
    base = linear_scene(96, 200)
    gains = [1.0, 1.0, 1.0, 1.6, 2.3, 3.0, 3.0]
    truth = np.stack([base[:, 2 * i:2 * i + 160] * g for i, g in enumerate(gains)])
    images = [image_from_rgb(to_u8(t)) for t in truth]
    clip = RampClip("pan", 25.0, images, np.stack([image_to_rgb(i) for i in images]), truth)
    results, peaks = evaluate([clip], {"nothing": nothing, "telea": telea, "stage": stage()})
    assert results["stage"]["structure"] > max(results["nothing"]["structure"], results["telea"]["structure"]) + 0.3
    assert results["stage"]["outside_psnr"] >= 45.0
    assert results["stage"]["age"] >= 2 and set(peaks) == {"nothing", "telea", "stage"}


def test_a_sweeping_headlight_stays_with_the_stage_and_vanishes_with_telea():
    base = linear_scene(96, 160)
    truth = np.stack([base] * 8)
    images = [image_from_rgb(to_u8(t)) for t in truth]
    clip, cores = make_lamp_clip(RampClip("still", 4.0, images, np.stack([image_to_rgb(i) for i in images]), truth))
    assert len(clip.images) == 8 and cores.any(axis=(1, 2)).all()
    assert lamp_kept(clip, cores, nothing) == 1.0
    assert lamp_kept(clip, cores, stage()) == 1.0
    assert lamp_kept(clip, cores, telea) < 0.2


def test_training_samples_come_from_the_stage_and_the_loss_sees_only_the_weight():
    rng = random.Random(0)
    scene = (to_display(linear_scene(CROP, CROP + 8)) * 255).astype(np.uint8)
    samples = (make_sample(scene[:, :CROP], scene[:, 4:CROP + 4], rng) for _ in range(20))
    sample = next((s for s in samples if s is not None), None)
    assert sample is not None, "the stage filled nothing in 20 random exposures"
    current, fill, weight, target = sample
    assert current.shape == fill.shape == target.shape and weight.shape == current.shape[:2]
    assert weight.max() > 0.5 and target.max() <= 1.0
    as_batch = lambda x: torch.from_numpy(np.ascontiguousarray(np.atleast_3d(x).transpose(2, 0, 1)[None]))  # noqa: E731
    out, aim, w = as_batch(current), as_batch(target), as_batch(weight)
    assert (w == 0).any() and (w > 0).any()            # the check below needs both kinds of pixel
    noise = torch.zeros_like(out)
    noise[w.expand_as(out) == 0] = 1.0                 # errors where the weight is 0 do not count
    assert fusion_loss(out + noise, aim, w) == pytest.approx(float(fusion_loss(out, aim, w)), abs=1e-6)
