import numpy as np
import pytest

from engines.curve_enhancer import CurveEnhancer
from engines.image import YuvImage


class ConstantEstimator:
    """Stands in for a network: returns a fixed alpha, plus optional per-call jitter."""

    def __init__(self, alpha=0.8, jitter=0.0, seed=0):
        self.alpha, self.jitter = alpha, jitter
        self.rng = np.random.default_rng(seed)
        self.calls = 0

    def __call__(self, rgb):
        self.calls += 1
        noise = self.rng.uniform(-self.jitter, self.jitter) if self.jitter else 0.0
        return np.full((rgb.shape[0], 1, *rgb.shape[2:]), self.alpha + noise, np.float32)


def _dark(level=40, h=72, w=128, seed=0):
    rng = np.random.default_rng(seed)
    y = np.clip(rng.normal(level, 3, (h, w)), 16, 235).astype(np.uint8)
    c = np.full((h // 2, w // 2), 128, np.uint8)
    return YuvImage(y, c, c.copy(), 8, False, "bt709")


def test_strength_zero_is_identity_and_one_brightens():
    image = _dark()
    untouched = CurveEnhancer(ConstantEstimator(), strength=0.0).enhance(image)
    assert np.abs(untouched.y.astype(int) - image.y.astype(int)).max() <= 1
    lifted = CurveEnhancer(ConstantEstimator(), strength=1.0).enhance(image)
    assert lifted.y.mean() > image.y.mean() + 30


def test_bad_strength_is_rejected():
    with pytest.raises(ValueError):
        CurveEnhancer(ConstantEstimator(), strength=1.5)


def test_temporal_smoothing_damps_estimator_jitter():
    frames = [_dark(seed=i) for i in range(30)]

    def brightness_swing(smoothing_s):
        enhancer = CurveEnhancer(ConstantEstimator(0.5, jitter=0.3, seed=3), smoothing_s=smoothing_s)
        means = [enhancer.enhance(f, i / 30).y.mean() for i, f in enumerate(frames)]
        return np.std(np.diff(means))

    assert brightness_swing(0.3) < 0.5 * brightness_swing(0.0)


def test_scene_cut_resets_smoothing():
    enhancer = CurveEnhancer(ConstantEstimator(0.2), smoothing_s=10.0)
    for i in range(5):
        enhancer.enhance(_dark(30, seed=i), i / 30)
    assert enhancer.stats.scene_cuts == 0
    enhancer.estimator.alpha = 0.9
    enhancer.enhance(_dark(200, seed=9), 5 / 30)           # a different, bright scene
    assert enhancer.stats.last_scene_cut and enhancer.stats.scene_cuts == 1
    assert enhancer.stats.mean_alpha == pytest.approx(0.9, abs=1e-5)   # new estimate used at once


def test_resolution_change_counts_as_a_cut():
    enhancer = CurveEnhancer(ConstantEstimator(0.4))
    enhancer.enhance(_dark(h=72, w=128), 0.0)
    out = enhancer.enhance(_dark(h=96, w=160), 1 / 30)
    assert out.y.shape == (96, 160) and enhancer.stats.last_scene_cut


def test_estimate_every_skips_the_network_but_not_at_a_cut():
    estimator = ConstantEstimator(0.5)
    enhancer = CurveEnhancer(estimator, estimate_every=3)
    for i in range(9):
        out = enhancer.enhance(_dark(40, seed=i), i / 30)
        assert out.y.mean() > 60                            # every frame is still enhanced
    assert estimator.calls == 3
    enhancer.enhance(_dark(200, seed=20), 9 / 30)           # a cut forces a fresh estimate
    assert estimator.calls == 4 and enhancer.stats.last_scene_cut
