"""tools.eval_video's measures on tiny generated clips: each must move the right way."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from tools.eval_video import darken, video_metrics

# skimage's PSNR of identical pictures divides by zero (→ inf, which the tests expect).
pytestmark = pytest.mark.filterwarnings("ignore:divide by zero")


def moving_texture(frames: int = 6, height: int = 64, width: int = 96, step: int = 2) -> np.ndarray:
    """uint8 RGB (T, H, W, 3): a smooth random texture panning ``step`` px per frame."""
    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur(rng.random((height, width + frames * step, 3), dtype=np.float32), (0, 0), 1.5)
    base = (base - base.min()) / np.ptp(base)
    clip = [base[:, t * step:t * step + width] for t in range(frames)]
    return np.round(40 + 170 * np.stack(clip)).astype(np.uint8)


def test_the_clean_clip_is_its_own_reference() -> None:
    clean = moving_texture()
    m = video_metrics(clean, clean)
    assert math.isinf(m["psnr"]) and m["detail"] == pytest.approx(1.0)
    assert m["flicker"] < 2.0                                   # only the interpolation error of the warp


def test_flicker_rises_when_brightness_jumps_between_frames() -> None:
    clean = moving_texture()
    flickering = clean.astype(np.int16)
    flickering[1::2] += 20
    flickering = np.clip(flickering, 0, 255).astype(np.uint8)
    assert video_metrics(flickering, clean)["flicker"] > video_metrics(clean, clean)["flicker"] + 10


def test_blur_lowers_detail_noise_raises_noise_but_not_detail() -> None:
    clean = moving_texture()
    blurred = np.stack([cv2.GaussianBlur(f, (0, 0), 2.0) for f in clean])
    noisy = np.clip(clean + np.random.default_rng(1).normal(0, 12, clean.shape), 0, 255).astype(np.uint8)
    base, soft, grainy = (video_metrics(x, clean) for x in (clean, blurred, noisy))
    assert soft["detail"] < 0.7
    assert grainy["noise"] > base["noise"] + 5 and abs(grainy["detail"] - 1.0) < 0.1


def test_darkened_clip_is_dark_noisy_and_fresh_noise_per_frame() -> None:
    still = np.repeat(moving_texture(1), 3, axis=0)
    dark = darken(still)
    assert dark.shape == still.shape and dark.mean() < 0.5 * still.mean()
    assert not np.array_equal(dark[0], dark[1])                 # a new noise draw for every frame
    assert abs(float(dark[0].mean()) - float(dark[1].mean())) < 1.0     # same exposure and cast


def test_a_darker_output_is_compared_at_the_clean_brightness() -> None:
    clean = moving_texture()
    darker = (clean * 0.5).astype(np.uint8)
    m = video_metrics(darker, clean)
    assert abs(m["detail"] - 1.0) < 0.05 and m["flicker"] < 2.0
