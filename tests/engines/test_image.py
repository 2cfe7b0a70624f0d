"""engines.image float conversions: R'G'B' ↔ Y'CbCr at any depth, range, matrix and chroma layout."""

from __future__ import annotations

import numpy as np
import pytest

from engines.image import YuvImage, image_from_rgb, image_from_rgb_float, image_to_rgb, image_to_rgb_float

MATRICES = ["bt601", "bt709"]
RANGES = [False, True]


def _random_rgb(height: int = 64, width: int = 96, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((height, width, 3), dtype=np.float32)


def _smooth_rgb(height: int = 64, width: int = 96) -> np.ndarray:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([0.2 + 0.6 * xx / width, 0.3 + 0.4 * yy / height, 0.5 + 0.3 * np.sin(xx / 15.0)], axis=-1)
    return rgb.astype(np.float32)


# Rounding each of Y, Cb, Cr to a code moves B by up to ½ luma step + 2(1 − Kb) × ½ chroma step:
# 1.64/255 for 8-bit limited range, a quarter of that for 10-bit.
MAX_ERROR = {8: 1.7 / 255.0, 10: 1.7 / 255.0 / 4.0}


@pytest.mark.parametrize("matrix", MATRICES)
@pytest.mark.parametrize("full_range", RANGES)
@pytest.mark.parametrize("bits", [8, 10])
def test_rgb_round_trip_444_is_within_rounding(bits, full_range, matrix):
    rgb = _random_rgb()
    image = image_from_rgb_float(rgb, bits, full_range, matrix)
    assert (image.bit_depth, image.full_range, image.matrix) == (bits, full_range, matrix)
    assert image.y.dtype == (np.uint8 if bits == 8 else np.uint16)
    assert image.u.shape == image.y.shape == (64, 96)
    back = image_to_rgb_float(image)
    assert back.dtype == np.float32 and back.shape == rgb.shape
    error = np.abs(back - rgb)
    assert error.max() <= MAX_ERROR[bits], error.max() * 255
    assert error.mean() <= MAX_ERROR[bits] / 3


@pytest.mark.parametrize("matrix", MATRICES)
@pytest.mark.parametrize("full_range", RANGES)
def test_ten_bit_round_trip_is_tighter_than_eight_bit(full_range, matrix):
    rgb = _random_rgb(seed=1)
    errors = {bits: np.abs(image_to_rgb_float(image_from_rgb_float(rgb, bits, full_range, matrix)) - rgb).mean()
              for bits in (8, 10)}
    assert errors[10] < errors[8] / 3


@pytest.mark.parametrize("matrix", MATRICES)
@pytest.mark.parametrize("full_range", RANGES)
@pytest.mark.parametrize("bits", [8, 10])
def test_rgb_round_trip_420_on_a_smooth_picture(bits, full_range, matrix):
    rgb = _smooth_rgb()
    image = image_from_rgb_float(rgb, bits, full_range, matrix, chroma_shape=(32, 48))
    assert image.u.shape == image.v.shape == (32, 48) and image.y.shape == (64, 96)
    error = np.abs(image_to_rgb_float(image) - rgb)[2:-2, 2:-2]       # bilinear upsampling edges aside
    assert error.max() <= MAX_ERROR[bits] * 1.2, error.max() * 255


@pytest.mark.parametrize("matrix", MATRICES)
@pytest.mark.parametrize("full_range", RANGES)
@pytest.mark.parametrize("bits", [8, 10])
def test_yuv_to_rgb_to_yuv_is_exact_for_444(bits, full_range, matrix):
    image = image_from_rgb_float(_random_rgb(seed=2), bits, full_range, matrix)
    again = image_from_rgb_float(image_to_rgb_float(image), bits, full_range, matrix)
    for ours, theirs in ((again.y, image.y), (again.u, image.u), (again.v, image.v)):
        assert np.abs(ours.astype(int) - theirs.astype(int)).max() <= 1
        assert np.mean(ours != theirs) < 0.01


@pytest.mark.parametrize("bits, full_range, black, white, centre",
                         [(8, False, 16, 235, 128), (8, True, 0, 255, 128),
                          (10, False, 64, 940, 512), (10, True, 0, 1023, 512)])
def test_black_and_white_land_on_the_nominal_codes(bits, full_range, black, white, centre):
    rgb = np.zeros((4, 4, 3), np.float32)
    rgb[:, 2:] = 1.0
    image = image_from_rgb_float(rgb, bits, full_range, "bt709", chroma_shape=(2, 2))
    assert image.y[0, 0] == black and image.y[0, 3] == white
    assert np.all(image.u == centre) and np.all(image.v == centre)
    back = image_to_rgb_float(image)
    assert np.allclose(back[:, :2], 0.0, atol=1e-6) and np.allclose(back[:, 2:], 1.0, atol=1e-6)


def test_matrix_matters():
    rgb = np.zeros((2, 2, 3), np.float32)
    rgb[..., 0] = 0.8                                            # saturated red: the matrices differ most
    y601 = image_from_rgb_float(rgb, 8, False, "bt601").y[0, 0]
    y709 = image_from_rgb_float(rgb, 8, False, "bt709").y[0, 0]
    assert int(y601) - int(y709) >= 10                           # Kr 0.299 vs 0.2126


def test_uint8_helpers_agree_with_the_float_ones():
    rgb8 = np.rint(_random_rgb(seed=3) * 255).astype(np.uint8)
    image = image_from_rgb(rgb8, "bt709", False, chroma_420=True)
    assert image.u.shape == (32, 48)
    reference = image_from_rgb_float(rgb8.astype(np.float32) / 255.0, 8, False, "bt709", (32, 48))
    assert all(np.array_equal(a, b) for a, b in ((image.y, reference.y), (image.u, reference.u),
                                                 (image.v, reference.v)))
    # 4:2:0 chroma is the 2×2 mean, as encoders downsample.
    from engines.colour import rgb_to_yuv

    x = rgb8.astype(np.float32) / 255.0
    _, cb, _ = rgb_to_yuv(x[..., 0], x[..., 1], x[..., 2], "bt709")
    expected = np.clip(np.rint(128 + 224 * cb.reshape(32, 2, 48, 2).mean(axis=(1, 3))), 0, 255)
    assert np.abs(image.u.astype(int) - expected).max() <= 1
    # image_to_rgb is image_to_rgb_float rounded (its definition); what can fail is the round trip:
    # 4:4:4 limited-range 8-bit codes give the colours back within the codes' quantisation.
    back = image_to_rgb(image_from_rgb(rgb8, "bt709", False, chroma_420=False))
    assert np.abs(back.astype(int) - rgb8).max() <= 2


def test_ten_bit_planes_must_be_uint16():
    y = np.zeros((4, 4), np.uint8)
    with pytest.raises(ValueError, match="uint16"):
        YuvImage(y, y[:2, :2], y[:2, :2], bit_depth=10)
