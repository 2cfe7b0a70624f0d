import numpy as np
import pytest

from engines.curves import ALPHA_LEVELS, apply_curve, chroma_gain, luma_lut


def test_curve_keeps_black_and_white_and_is_monotone():
    x = np.linspace(0, 1, 101)
    for alpha in (-1.0, -0.3, 0.0, 0.5, 1.0):
        y = apply_curve(x, alpha)
        assert y[0] == pytest.approx(0.0) and y[-1] == pytest.approx(1.0)
        assert np.all(np.diff(y) >= -1e-12)
    assert np.allclose(apply_curve(x, 0.0), x)
    assert apply_curve(0.1, 1.0) > 0.5          # a strong lift for dark values


def test_lut_matches_the_curve_in_limited_range():
    table = luma_lut(8, 8, full_range=False)
    assert table.shape == (ALPHA_LEVELS, 256) and table.dtype == np.uint8
    row = ALPHA_LEVELS - 1                       # alpha = +1
    code = 60
    expected = 16 + 219 * apply_curve((code - 16) / 219, 1.0)
    assert abs(int(table[row, code]) - expected) <= 0.5
    assert table[row, 16] == 16 and table[row, 235] == 235     # black and white stay put
    assert table[ALPHA_LEVELS // 2, 100] in (99, 100, 101)      # alpha ≈ 0 is the identity


def test_lut_converts_bit_depth():
    table = luma_lut(10, 8, full_range=False)
    assert table.shape == (ALPHA_LEVELS, 1024) and table.dtype == np.uint8
    mid = int(round((ALPHA_LEVELS - 1) / 2))
    assert abs(int(table[mid, 502]) - 126) <= 1   # 10-bit 502 ≈ 8-bit 125.5 with alpha ≈ 0


def test_chroma_gain_follows_luma_gain_and_is_bounded():
    y = np.array([0.0, 0.05, 0.2, 0.9], np.float32)
    gain = chroma_gain(y, np.float32(1.0))
    assert np.all(gain <= 5.0) and np.all(gain >= 1.0)
    assert gain[2] == pytest.approx(apply_curve(0.2, 1.0) / 0.2, rel=1e-5)
