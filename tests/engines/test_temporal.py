"""Temporal denoiser: averages noise away where the picture holds still or moves with the flow,
never blends what the flow cannot explain (no ghosts), resets at scene cuts and size changes."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from engines.image import YuvImage
from engines.temporal import TemporalDenoiser, TemporallyDenoised

H, W = 96, 128


def texture(height: int, width: int, seed: int = 1, low: float = 40.0, high: float = 180.0) -> np.ndarray:
    """Smooth random texture (blurred noise), float luma codes (8-bit scale) in [low, high]."""
    rng = np.random.default_rng(seed)
    t = cv2.GaussianBlur(rng.random((height, width)).astype(np.float32), (0, 0), 3)
    t = (t - t.min()) / (t.max() - t.min())
    return low + (high - low) * t


def noisy(clean_y: np.ndarray, sigma: float, rng: np.random.Generator, bits: int = 8,
          full_range: bool = False, matrix: str = "bt709") -> YuvImage:
    """4:2:0 picture: ``clean_y`` (codes at ``bits``) and neutral chroma, each plus fresh Gaussian noise."""
    top = (1 << bits) - 1
    dtype = np.uint8 if bits == 8 else np.uint16
    height, width = clean_y.shape
    grey = np.full((height // 2, width // 2), float(1 << (bits - 1)))
    y, u, v = (np.clip(np.rint(p + rng.normal(0.0, sigma, p.shape)), 0, top).astype(dtype)
               for p in (clean_y, grey, grey))
    return YuvImage(y, u, v, bits, full_range, matrix)


def rms(a: np.ndarray, b: np.ndarray, border: int = 0) -> float:
    """Root mean square of a − b, ignoring ``border`` pixels on each side."""
    d = a.astype(np.float64) - b.astype(np.float64)
    if border:
        d = d[border:-border, border:-border]
    return float(np.sqrt(np.mean(d * d)))


def same(a: YuvImage, b: YuvImage) -> bool:
    return all(np.array_equal(p, q) and p.dtype == q.dtype for p, q in ((a.y, b.y), (a.u, b.u), (a.v, b.v)))


@pytest.mark.parametrize("sigma", [3.0, 10.0], ids=["light", "heavy"])
def test_static_noisy_sequence_is_denoised(sigma):
    """Heavy noise too: it must be neither mistaken for motion nor for a scene cut."""
    rng = np.random.default_rng(0)
    clean = texture(H, W)
    denoiser = TemporalDenoiser()
    for _ in range(10):
        frame = noisy(clean, sigma, rng)
        out = denoiser(frame)
    assert (out.y.dtype, out.bit_depth, out.u.shape) == (np.uint8, 8, (H // 2, W // 2))
    noise_in, noise_out = rms(frame.y, clean), rms(out.y, clean)
    assert noise_out < 0.6 * noise_in, (noise_in, noise_out)
    grey = np.full(out.u.shape, 128.0)
    assert rms(out.u, grey) < 0.6 * rms(frame.u, grey), "chroma is averaged too"
    assert denoiser.stats.frames == 10 and denoiser.stats.resets == 0
    assert denoiser.stats.mean_weight > 0.3


def test_noise_free_static_input_comes_back_unchanged():
    """The filter keeps float planes between frames: no drift, no requantisation error."""
    frame = noisy(texture(H, W), 0.0, np.random.default_rng(0))
    denoiser = TemporalDenoiser()
    for _ in range(6):
        assert same(denoiser(frame), frame)


@pytest.mark.parametrize("moves", [True, False], ids=["jump", "appears"])
def test_a_bright_square_that_jumps_or_appears_leaves_no_ghost(moves):
    rng = np.random.default_rng(1)
    background = np.full((H, W), 30.0)
    old, new = (slice(16, 32), slice(16, 32)), (slice(60, 76), slice(92, 108))
    denoiser = TemporalDenoiser()
    before = background.copy()
    if moves:
        before[old] = 220.0
    for _ in range(8):
        denoiser(noisy(before, 3.0, rng))
    after = background.copy()
    after[new] = 220.0
    frame = noisy(after, 3.0, rng)
    out = denoiser(frame)

    assert np.abs(out.y[new].astype(int) - frame.y[new]).max() <= 2, "the new square is the current frame's"
    assert out.y[new].mean() > 210
    if moves:
        assert out.y[old].max() < 60, "the old square must not linger"
        assert abs(out.y[old].mean() - 30.0) < 3
    # Not a reset in disguise: the unchanged background is still averaged over time.
    keep = np.ones((H, W), bool)
    keep[8:40, 8:40] = keep[52:84, 84:116] = False
    assert denoiser.stats.resets == 0
    assert rms(out.y[keep], background[keep]) < 0.6 * rms(frame.y[keep], background[keep])


def test_a_smooth_pan_is_denoised_without_lag():
    rng = np.random.default_rng(2)
    wide = texture(H, W + 64, seed=3)
    step = 2
    denoiser = TemporalDenoiser()
    for i in range(12):
        current = wide[:, step * i: step * i + W]
        frame = noisy(current, 3.0, rng)
        out = denoiser(frame)
    previous = wide[:, step * (i - 1): step * (i - 1) + W]
    error_current = rms(out.y, current, border=8)
    error_previous = rms(out.y, previous, border=8)
    assert denoiser.stats.resets == 0
    assert error_current < 0.7 * rms(frame.y, current, border=8), "still denoised while panning"
    assert error_current < 0.4 * error_previous, "the output follows the current frame, not the previous one"


def test_scene_cut_resets_to_the_input():
    rng = np.random.default_rng(3)
    dark, bright = texture(H, W, seed=1, low=20, high=80), texture(H, W, seed=7, low=120, high=230)
    denoiser = TemporalDenoiser()
    for _ in range(5):
        denoiser(noisy(dark, 3.0, rng))
    assert denoiser.stats.resets == 0
    cut = noisy(bright, 3.0, rng)
    out = denoiser(cut)
    assert same(out, cut)
    assert denoiser.stats.resets == 1 and denoiser.stats.mean_weight == 0.0
    after = noisy(bright, 3.0, rng)
    assert not same(denoiser(after), after), "filtering resumes on the new scene"
    assert denoiser.stats.resets == 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_unrelated_picture_of_the_same_level_is_not_blended_in(seed):
    """Whether or not it counts as a cut, the old picture cannot show through beyond noise-sized changes.

    Where an unrelated picture happens to agree with the old one within the tolerance (4 σ), the
    filter may blend; that costs a little accuracy (bounded here) but never a visible ghost."""
    rng = np.random.default_rng(seed)
    first, second = texture(H, W, seed=10 * seed), 255.0 - texture(H, W, seed=10 * seed + 1)
    denoiser = TemporalDenoiser()
    for _ in range(5):
        denoiser(noisy(first, 3.0, rng))
    frame = noisy(second, 3.0, rng)
    out = denoiser(frame)
    assert rms(out.y, second) <= 1.15 * rms(frame.y, second)
    assert np.abs(out.y.astype(int) - frame.y).max() <= 12, "at most noise-sized changes"


def test_strength_zero_returns_the_input_unchanged():
    rng = np.random.default_rng(4)
    denoiser = TemporalDenoiser(strength=0.0)
    clean = texture(H, W)
    for _ in range(4):
        frame = noisy(clean, 3.0, rng)
        assert same(denoiser(frame), frame)


def test_lower_strength_denoises_less():
    def remaining_noise(strength: float) -> float:
        rng = np.random.default_rng(5)
        clean = texture(H, W)
        denoiser = TemporalDenoiser(strength=strength)
        for _ in range(10):
            out = denoiser(noisy(clean, 3.0, rng))
        return rms(out.y, clean)

    assert remaining_noise(1.0) < 0.85 * remaining_noise(0.3)


def test_size_change_resets():
    rng = np.random.default_rng(6)
    denoiser = TemporalDenoiser()
    for _ in range(3):
        denoiser(noisy(texture(H, W), 3.0, rng))
    small = noisy(texture(64, 96, seed=2), 3.0, rng)
    assert same(denoiser(small), small)
    assert denoiser.stats.resets == 1
    again = noisy(texture(64, 96, seed=2), 3.0, rng)
    out = denoiser(again)
    assert out.y.shape == (64, 96) and out.u.shape == (32, 48)
    assert not same(out, again) and denoiser.stats.resets == 1


def test_explicit_reset_forgets_the_past():
    rng = np.random.default_rng(7)
    clean = texture(H, W)
    denoiser = TemporalDenoiser()
    for _ in range(4):
        denoiser(noisy(clean, 3.0, rng))
    denoiser.reset()
    frame = noisy(clean, 3.0, rng)
    assert same(denoiser(frame), frame)


def test_ten_bit_keeps_depth_range_and_matrix():
    rng = np.random.default_rng(8)
    clean = 4.0 * texture(H, W)
    denoiser = TemporalDenoiser()
    for _ in range(10):
        frame = noisy(clean, 12.0, rng, bits=10, full_range=True, matrix="bt601")
        out = denoiser(frame)
    assert (out.bit_depth, out.full_range, out.matrix) == (10, True, "bt601")
    assert out.y.dtype == out.u.dtype == out.v.dtype == np.uint16
    assert out.u.shape == (H // 2, W // 2)
    assert int(max(out.y.max(), out.u.max(), out.v.max())) <= 1023
    assert rms(out.y, clean) < 0.6 * rms(frame.y, clean)
    assert denoiser.stats.resets == 0


@pytest.mark.parametrize("strength", [-0.1, 1.5, math.nan])
def test_invalid_strength_is_rejected(strength):
    with pytest.raises(ValueError, match="strength"):
        TemporalDenoiser(strength=strength)


class _Brighten:
    """A stand-in enhancer: adds 10 to luma, records its calls."""

    def __init__(self) -> None:
        self.stats = object()
        self.calls: list[tuple[float | None, int | None]] = []
        self.resets = 0

    def enhance(self, image: YuvImage, time_s: float | None = None, out_bits: int | None = None) -> YuvImage:
        self.calls.append((time_s, out_bits))
        y = np.clip(image.y.astype(np.int32) + 10, 0, image.max_code).astype(image.y.dtype)
        return YuvImage(y, image.u, image.v, image.bit_depth, image.full_range, image.matrix)

    def reset(self) -> None:
        self.resets += 1


def test_temporally_denoised_delegates_enhance_reset_and_stats():
    rng = np.random.default_rng(9)
    clean = texture(H, W)
    inner = _Brighten()
    wrapped = TemporallyDenoised(inner, TemporalDenoiser())
    assert wrapped.stats is inner.stats

    first = noisy(clean, 3.0, rng)
    out = wrapped.enhance(first, 0.04, 8)
    assert inner.calls == [(0.04, 8)]
    assert same(out, inner.enhance(first)), "the first frame is the inner enhancer's output"
    for i in range(9):
        out = wrapped.enhance(noisy(clean, 3.0, rng), 0.08 + 0.04 * i)
    assert len(inner.calls) == 11 and inner.calls[-1] == (pytest.approx(0.40), None)
    assert abs(out.y.mean() - (clean.mean() + 10)) < 1.0, "the temporal stage filters the enhanced picture"
    assert rms(out.y, clean + 10) < 0.6 * 3.0
    assert wrapped.temporal.stats.frames == 10

    wrapped.reset()
    assert inner.resets == 1
    frame = noisy(clean, 3.0, rng)
    assert same(wrapped.enhance(frame), inner.enhance(frame)), "the temporal state was forgotten too"


@pytest.mark.parametrize("shape", [(20, 320), (8, 100), (8, 8), (40, 40)])
def test_pictures_too_small_or_thin_for_the_flow_pass_untouched(shape) -> None:
    denoiser = TemporalDenoiser(1.0)
    rng = np.random.default_rng(0)
    for _ in range(3):
        frame = noisy(texture(*shape), 5.0, rng)
        assert denoiser(frame) is frame          # OpenCV's DIS raised or crashed on such sizes


def test_a_change_of_bit_depth_at_the_same_size_resets_instead_of_blending() -> None:
    denoiser = TemporalDenoiser(1.0)
    rng = np.random.default_rng(0)
    denoiser(noisy(texture(H, W), 3.0, rng))
    ten = noisy(texture(H, W) * 4, 12.0, rng, bits=10)
    assert denoiser(ten) is ten and denoiser.stats.resets == 1
