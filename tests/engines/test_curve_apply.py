"""The CPU lookup-table path must compute what the differentiable torch path computes."""

import numpy as np
import torch

from engines.curve_apply import apply_curve_maps
from engines.curve_torch import apply_curve_maps_torch
from engines.curves import chroma_gain
from engines.image import YuvImage


def _image(rng, height=72, width=128, full_range=True):
    y = rng.integers(0, 256, (height, width), dtype=np.uint8)
    u = rng.integers(0, 256, (height // 2, width // 2), dtype=np.uint8)
    v = rng.integers(0, 256, (height // 2, width // 2), dtype=np.uint8)
    return YuvImage(y, u, v, 8, full_range, "bt709")


def test_lut_path_matches_torch_path_within_two_codes():
    rng = np.random.default_rng(0)
    image = _image(rng)
    alpha = rng.uniform(-0.5, 1.0, (9, 16)).astype(np.float32)
    y_thumb = rng.uniform(0.05, 0.8, (9, 16)).astype(np.float32)
    gain = chroma_gain(y_thumb, alpha).astype(np.float32)
    out = apply_curve_maps(image, alpha, gain)

    t = lambda a: torch.from_numpy(np.asarray(a, np.float32))[None, None]  # noqa: E731
    y_ref, cb_ref, cr_ref = apply_curve_maps_torch(
        t(image.y / 255.0), t((image.u - 128.0) / 255.0), t((image.v - 128.0) / 255.0), t(y_thumb), t(alpha))
    y_ref = (y_ref[0, 0].numpy() * 255.0)
    cb_ref = np.clip(cb_ref[0, 0].numpy() * 255.0 + 128.0, 0, 255)
    assert np.abs(out.y.astype(np.float32) - y_ref).max() <= 2.0
    assert np.abs(out.u.astype(np.float32) - cb_ref).max() <= 1.0


def test_zero_alpha_is_identity_and_ten_bit_output_works():
    rng = np.random.default_rng(1)
    image = _image(rng, full_range=False)
    zeros = np.zeros((9, 16), np.float32)
    same = apply_curve_maps(image, zeros, np.ones_like(zeros))
    assert np.abs(same.y.astype(int) - np.clip(image.y, 16, 235)).max() <= 1
    assert np.abs(same.u.astype(int) - image.u.astype(int)).max() <= 1
    deep = apply_curve_maps(image, zeros, np.ones_like(zeros), out_bits=10)
    assert deep.y.dtype == np.uint16 and deep.bit_depth == 10
    assert np.abs(deep.y.astype(int) - 4 * np.clip(image.y, 16, 235).astype(int)).max() <= 4


def test_odd_sized_and_444_planes():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 256, (37, 53), dtype=np.uint8)
    c = rng.integers(0, 256, (37, 53), dtype=np.uint8)
    image = YuvImage(y, c, c.copy(), 8, True, "bt601")
    out = apply_curve_maps(image, np.full((5, 7), 0.8, np.float32), np.full((5, 7), 2.0, np.float32))
    assert out.y.shape == (37, 53) and out.u.shape == (37, 53)
    assert out.y.astype(int).sum() > image.y.astype(int).sum()
