"""tools.eval on tiny generated images: metrics, baselines, the YUV round trip, the sheet."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engines.curve_enhancer import CurveEnhancer
from tools.eval import (DevPair, clahe, clipped_fraction, contact_sheet, enhancer_method, gamma_lift,
                        image_metrics, mean_luma, rgb_to_yuv_image, yuv_image_to_rgb)


def smooth_image(height: int = 48, width: int = 64, scale: float = 1.0) -> np.ndarray:
    """uint8 RGB (H, W, 3) with slowly varying colour (4:2:0 loses nothing visible on it)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([0.3 + 0.4 * xx / width, 0.3 + 0.4 * yy / height, 0.5 + 0.2 * np.sin(xx / 40.0)], axis=-1)
    return np.round(255.0 * scale * rgb).astype(np.uint8)


def zero_estimator(rgb: np.ndarray) -> np.ndarray:
    """alpha = 0 everywhere: the curve is the identity."""
    return np.zeros((rgb.shape[0], 1, rgb.shape[2], rgb.shape[3]), np.float32)


@pytest.mark.filterwarnings("ignore:divide by zero")  # skimage's PSNR of equal images
def test_identity_metrics() -> None:
    image = smooth_image()
    metrics = image_metrics(image, image)
    assert math.isinf(metrics["psnr"])
    assert metrics["ssim"] > 0.999
    assert metrics["clipped"] == 0.0
    assert image_metrics(image // 2, image)["psnr"] < 20.0


def test_clipped_fraction_counts_blown_pixels() -> None:
    image = np.zeros((4, 4, 3), np.uint8)
    image[0, :, 1] = 255
    assert clipped_fraction(image) == 0.25


def test_baselines_brighten_a_dark_image() -> None:
    dark = smooth_image(scale=0.15)
    for method in (gamma_lift, clahe):
        out = method(dark)
        assert out.shape == dark.shape and out.dtype == np.uint8
        assert mean_luma(out) > mean_luma(dark) + 0.15


def test_yuv_round_trip_within_two_codes() -> None:
    image = smooth_image()
    yuv = rgb_to_yuv_image(image)
    assert yuv.u.shape == (24, 32) and not yuv.full_range and yuv.matrix == "bt709"
    assert 16 <= yuv.y.min() and yuv.y.max() <= 235
    back = yuv_image_to_rgb(yuv)
    assert np.abs(back.astype(int) - image.astype(int)).max() <= 2


def test_identity_enhancer_keeps_the_picture() -> None:
    image = smooth_image()
    method = enhancer_method(CurveEnhancer(zero_estimator))
    first, second = method(image), method(image)
    assert np.abs(first.astype(int) - image.astype(int)).max() <= 2
    assert np.array_equal(first, second)


def test_contact_sheet_layout() -> None:
    pairs = [DevPair(f"p{i}", smooth_image(scale=0.2), smooth_image()) for i in range(3)]
    outputs = {"input": [p.dark for p in pairs], "gamma": [gamma_lift(p.dark) for p in pairs]}
    sheet = contact_sheet(pairs, outputs, rows=2)
    assert sheet.shape == (28 + 2 * 192, 3 * 256, 3)
