"""The quality model's training degradation: shake kernels, the camera model, its targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tools.lowlight_synth import RestorationRanges, degrade_restoration, jpeg_round_trip
from tools.shake_blur import KERNEL_SIZE, blur_batch, shake_kernel

FIXED = dict(keep_exposure_probability=0.0, lamp_probability=0.0, blur_probability=0.0, jpeg_probability=0.0)


def textured(n: int = 2, size: int = 48) -> torch.Tensor:
    """(N, 3, size, size) sRGB in [0.2, 0.8] with fine texture (a checkerboard plus gradients)."""
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    checker = ((yy // 3 + xx // 3) % 2).float()
    base = 0.2 + 0.4 * checker + 0.2 * xx / size
    return torch.stack([base, base.flip(0), base.flip(1)]).unsqueeze(0).repeat(n, 1, 1, 1)


@pytest.mark.parametrize("length", [0.0, 2.0, 8.0, 15.0])
def test_shake_kernels_are_normalised_centred_and_as_long_as_asked(length: float) -> None:
    kernel = shake_kernel(np.random.default_rng(3), length)
    assert kernel.shape == (KERNEL_SIZE, KERNEL_SIZE) and kernel.min() >= 0
    assert kernel.sum() == pytest.approx(1.0, abs=1e-5)
    ys, xs = np.nonzero(kernel > 1e-4)
    centre = KERNEL_SIZE // 2
    mass_y, mass_x = (np.indices(kernel.shape) * kernel).sum(axis=(1, 2))
    assert abs(mass_y - centre) < 1.0 and abs(mass_x - centre) < 1.0      # blurring does not shift the picture
    extent = max(np.ptp(ys), np.ptp(xs))
    assert extent <= max(1, length) + 2
    # As long as asked, except that a lopsided path is shortened to stay inside the window.
    assert length < 2 or extent >= min(length, KERNEL_SIZE // 2 + 2) - 2


def test_blur_batch_keeps_flat_areas_and_softens_edges() -> None:
    images = textured()
    identity = torch.from_numpy(np.stack([shake_kernel(np.random.default_rng(0), 0.0)] * 2))
    assert torch.allclose(blur_batch(images, identity), images, atol=1e-6)
    strong = torch.from_numpy(np.stack([shake_kernel(np.random.default_rng(i), 10.0) for i in range(2)]))
    blurred = blur_batch(images, strong)
    flat = torch.full_like(images, 0.5)
    assert torch.allclose(blur_batch(flat, strong), flat, atol=1e-5)
    assert blurred.diff(dim=-1).abs().mean() < 0.6 * images.diff(dim=-1).abs().mean()


def test_degradation_is_deterministic_per_seed_and_differs_between_seeds() -> None:
    clean = textured()
    a = degrade_restoration(clean, torch.Generator().manual_seed(7))
    b = degrade_restoration(clean, torch.Generator().manual_seed(7))
    c = degrade_restoration(clean, torch.Generator().manual_seed(8))
    assert torch.equal(a.dark, b.dark) and torch.equal(a.grainy, b.grainy)
    assert not torch.equal(a.dark, c.dark)


def test_dark_input_is_dark_8bit_and_targets_bracket_the_knob() -> None:
    clean = textured(4)
    pair = degrade_restoration(clean, torch.Generator().manual_seed(1), RestorationRanges(**FIXED))
    assert pair.dark.shape == clean.shape
    assert torch.equal(pair.dark, torch.round(pair.dark * 255) / 255)                # 8-bit codes
    assert pair.dark.mean() < 0.5 * pair.clean.mean()                               # exposure ≤ 1/4
    assert torch.allclose(pair.clean, clean, atol=2e-3)                             # no lamps: target is the photo
    grain = (pair.grainy - pair.clean).std()
    assert grain > 0.01                                                             # the grain is kept at denoise 0
    assert torch.equal(pair.target(torch.ones(4, 1, 1, 1)), pair.clean)
    assert torch.allclose(pair.target(torch.zeros(4, 1, 1, 1)), pair.grainy, atol=1e-6)
    half = (pair.target(torch.full((4, 1, 1, 1), 0.5)) - pair.clean).std()
    assert float(half) == pytest.approx(0.5 * float(grain), rel=1e-3)


def test_colour_cast_changes_the_channel_balance_of_the_input_only() -> None:
    grey = torch.full((6, 3, 32, 32), 0.5)
    ranges = RestorationRanges(**FIXED, cast=(0.6, 1.4), shot_noise=(1e-6, 1e-6), read_noise=(1e-8, 1e-8))
    pair = degrade_restoration(grey, torch.Generator().manual_seed(2), ranges)
    means = pair.dark.mean(dim=(2, 3))
    assert (means[:, 0] - means[:, 2]).abs().max() > 0.01                           # red vs blue differ
    assert torch.allclose(pair.clean, grey, atol=2e-3)                              # the target stays neutral


def test_jpeg_blocks_and_blur_appear_when_asked() -> None:
    clean = textured(2, 64)
    sharp = degrade_restoration(clean, torch.Generator().manual_seed(4), RestorationRanges(**FIXED))
    shaken = degrade_restoration(clean, torch.Generator().manual_seed(4),
                                 RestorationRanges(**(FIXED | {"blur_probability": 1.0, "blur_length": (10.0, 10.0)})))
    assert shaken.dark.diff(dim=-1).abs().mean() < sharp.dark.diff(dim=-1).abs().mean()
    assert torch.equal(shaken.clean, sharp.clean)                                   # the target stays sharp
    noise = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    assert np.abs(jpeg_round_trip(noise, 30).astype(int) - noise).mean() > 10
