"""engines.colour: Y'CbCr ↔ R'G'B' for each matrix, and the sRGB transfer, on numpy and torch alike."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engines.colour import LUMA_COEFFICIENTS, linear_to_srgb, rgb_to_yuv, srgb_to_linear, yuv_to_rgb


@pytest.mark.parametrize("matrix", sorted(LUMA_COEFFICIENTS))
def test_rgb_yuv_round_trip_and_ranges(matrix):
    rgb = np.random.default_rng(0).random((3, 1000))
    y, cb, cr = rgb_to_yuv(*rgb, matrix=matrix)
    assert y.min() >= 0 and y.max() <= 1 and np.abs(cb).max() <= 0.5 and np.abs(cr).max() <= 0.5
    assert np.abs(np.stack(yuv_to_rgb(y, cb, cr, matrix)) - rgb).max() < 1e-12


def test_primaries_have_the_standard_luma_and_chroma_extremes():
    # BT.709: pure red is Y' 0.2126 with Cr at its +0.5 extreme; pure blue Y' 0.0722 with Cb +0.5.
    assert np.allclose(rgb_to_yuv(1.0, 0.0, 0.0, "bt709"), (0.2126, -0.2126 / (2 * (1 - 0.0722)), 0.5))
    assert np.allclose(rgb_to_yuv(0.0, 0.0, 1.0, "bt709"), (0.0722, 0.5, -0.0722 / (2 * (1 - 0.2126))))
    assert np.allclose(rgb_to_yuv(0.0, 1.0, 0.0, "bt601")[0], 0.587)                 # green's share in BT.601
    assert np.allclose(rgb_to_yuv(0.5, 0.5, 0.5, "bt2020"), (0.5, 0.0, 0.0))        # greys carry no chroma


def test_srgb_transfer_known_points_and_inverse():
    assert np.isclose(srgb_to_linear(0.5), 0.21404, atol=1e-5)
    assert np.isclose(srgb_to_linear(0.04045), 0.04045 / 12.92)                      # where the two pieces meet
    x = np.linspace(0, 1, 1001)
    assert np.abs(linear_to_srgb(srgb_to_linear(x)) - x).max() < 1e-6
    assert np.all(np.diff(srgb_to_linear(x)) > 0)


def test_numpy_and_torch_give_the_same_numbers():
    rgb = np.random.default_rng(1).random((3, 64)).astype(np.float32)
    ours = np.stack(rgb_to_yuv(*rgb, matrix="bt2020"))
    theirs = torch.stack(rgb_to_yuv(*torch.from_numpy(rgb), matrix="bt2020")).numpy()
    assert np.abs(ours - theirs).max() < 1e-6
    assert np.abs(srgb_to_linear(rgb) - srgb_to_linear(torch.from_numpy(rgb)).numpy()).max() < 1e-6
