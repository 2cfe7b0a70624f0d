"""Behaviour of the shipped ``fast`` weights on scenes with known answers (real model, ONNX Runtime)."""

import numpy as np
import pytest

from engines.curve_enhancer import CurveEnhancer
from engines.image import YuvImage
from engines.runtimes import OnnxRuntime

H, W = 360, 640


@pytest.fixture(scope="module")
def enhancer(tmp_path_factory):
    import os

    os.environ.setdefault("NOCTURNE_CACHE", str(tmp_path_factory.mktemp("cache")))
    return CurveEnhancer(OnnxRuntime().open("fast"))


def _yuv(luma: np.ndarray) -> YuvImage:
    """Full-range grey picture from luma in [0, 1]."""
    y = np.clip(np.rint(luma * 255), 0, 255).astype(np.uint8)
    c = np.full((H // 2, W // 2), 128, np.uint8)
    return YuvImage(y, c, c.copy(), 8, True, "bt709")


def _night_with_lamp(seed: int = 0) -> tuple[np.ndarray, tuple[int, int]]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    scene = 0.04 + 0.03 * rng.random((H, W)).astype(np.float32)             # dark street, some texture
    centre = (90, 200)
    r2 = (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2
    lamp = 3.0 * np.exp(-r2 / (2 * 5.0**2)) + 0.35 * np.exp(-r2 / (2 * 35.0**2))
    return np.clip(scene + lamp, 0, 1), centre


def test_shadows_are_lifted_and_the_lamp_is_not_blown(enhancer):
    luma, (cy, cx) = _night_with_lamp()
    enhancer.reset()
    out = enhancer.enhance(_yuv(luma)).y.astype(np.float32) / 255.0
    far = (slice(250, 350), slice(400, 620))                                 # street away from the lamp
    assert out[far].mean() > 2.0 * luma[far].mean()
    blown_in, blown_out = (luma >= 250 / 255).mean(), (out >= 250 / 255).mean()
    assert blown_out <= blown_in + 0.01, (blown_in, blown_out)


def test_no_dark_ring_around_the_lamp(enhancer):
    """Along a line out of the lamp the input falls monotonically; the output must too (no halo ring)."""
    luma, (cy, cx) = _night_with_lamp()
    enhancer.reset()
    out = enhancer.enhance(_yuv(luma)).y.astype(np.float32)
    band = out[cy - 4:cy + 4, cx:cx + 160]                                   # 8×8 blocks average the texture out
    profile = band.reshape(8, 20, 8).mean(axis=(0, 2))
    rises = np.diff(profile)
    assert rises.max() <= 3.0, f"output brightens away from the lamp by {rises.max():.1f} codes"


def test_well_exposed_picture_is_left_nearly_alone(enhancer):
    """Patches over the whole tonal range, whites included, with fine texture: a day-lit scene."""
    rng = np.random.default_rng(1)
    patches = rng.uniform(0.05, 0.97, (H // 24 + 1, W // 24 + 1)).repeat(24, 0).repeat(24, 1)[:H, :W]
    luma = np.clip(patches + 0.04 * rng.standard_normal((H, W)), 0, 1)
    enhancer.reset()
    out = enhancer.enhance(_yuv(luma.astype(np.float32))).y.astype(np.float32) / 255.0
    assert abs(out.mean() - luma.mean()) < 0.12
