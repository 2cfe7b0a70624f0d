"""RestoreEnhancer and restore_rgb: padding to the network's multiple, picture layout kept,
strength and denoise handled; RestoreNet itself stays small and keeps the shape."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engines.image import YuvImage, image_from_rgb_float, image_to_rgb_float
from engines.models.restore_net import MULTIPLE, RestoreNet
from engines.registry import load_model, parameter_count
from engines.restorer import RestoreEnhancer, restore_rgb


class Recording:
    """Fake estimator: checks the network's input contract, records it, returns ``transform(rgb)``."""

    def __init__(self, transform=lambda rgb: rgb):
        self.transform = transform
        self.calls: list[tuple[tuple[int, ...], float]] = []

    def __call__(self, rgb: np.ndarray, denoise: np.ndarray) -> np.ndarray:
        assert rgb.dtype == np.float32 and denoise.dtype == np.float32
        assert rgb.ndim == 4 and rgb.shape[:2] == (1, 3)
        assert rgb.shape[2] % MULTIPLE == 0 and rgb.shape[3] % MULTIPLE == 0, rgb.shape
        assert denoise.shape == (1, 1, *rgb.shape[2:])
        assert np.all(denoise == denoise.flat[0]), "the denoise map is constant"
        self.calls.append((rgb.shape, float(denoise.flat[0])))
        return self.transform(rgb)


def _rgb(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((height, width, 3), dtype=np.float32)


def restore_hwc(estimator, rgb: np.ndarray, denoise: float) -> np.ndarray:
    """``restore_rgb`` (channels first) on an (H, W, 3) picture, back as (H, W, 3)."""
    return restore_rgb(estimator, np.ascontiguousarray(rgb.transpose(2, 0, 1)), denoise).transpose(1, 2, 0)


@pytest.mark.parametrize("height, width", [(37, 53), (8, 8), (9, 9), (64, 96), (2, 2), (5, 40)])
def test_restore_rgb_pads_to_the_multiple_and_crops_back(height, width):
    rgb = _rgb(height, width)
    estimator = Recording()
    out = restore_hwc(estimator, rgb, 0.25)
    assert out.shape == (height, width, 3)
    assert np.array_equal(out, rgb), "an identity network gives the picture back, top-left aligned"
    (shape, denoise), = estimator.calls
    assert shape == (1, 3, -(-height // MULTIPLE) * MULTIPLE, -(-width // MULTIPLE) * MULTIPLE)
    assert denoise == pytest.approx(0.25)


def test_restore_rgb_pads_by_reflection():
    rgb = _rgb(37, 53, seed=1)
    seen = {}

    def keep(x):
        seen["x"] = x.copy()
        return x

    restore_hwc(Recording(keep), rgb, 0.5)
    padded = seen["x"][0].transpose(1, 2, 0)
    assert padded.shape == (40, 56, 3)
    assert np.array_equal(padded[37:, :53], rgb[35:32:-1]), "rows mirrored about the last one"
    assert np.array_equal(padded[:37, 53:], rgb[:, 51:48:-1]), "columns mirrored about the last one"


def test_restore_rgb_clips_the_output_to_0_1():
    rgb = _rgb(16, 24, seed=2)
    out = restore_hwc(Recording(lambda x: 3.0 * x - 1.0), rgb, 0.5)
    assert out.min() == 0.0 and out.max() == 1.0
    assert np.allclose(out, np.clip(3.0 * rgb - 1.0, 0.0, 1.0))


def _picture(height: int, width: int, bits: int, full_range: bool, matrix: str, chroma_420: bool) -> YuvImage:
    """A smooth, dark, in-gamut colour picture (so 4:2:0 resampling barely changes it)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([0.10 + 0.25 * xx / width, 0.08 + 0.2 * yy / height, 0.15 + 0.1 * np.sin(xx / 9.0)], axis=-1)
    chroma = (height // 2, width // 2) if chroma_420 else None
    return image_from_rgb_float(rgb.astype(np.float32), bits, full_range, matrix, chroma)


LAYOUTS = [
    (8, False, "bt709", True),
    (8, True, "bt601", False),
    (10, False, "bt2020", True),
    (10, True, "bt709", False),
]


@pytest.mark.parametrize("bits, full_range, matrix, chroma_420", LAYOUTS)
def test_enhancer_keeps_depth_range_matrix_and_chroma_layout(bits, full_range, matrix, chroma_420):
    image = _picture(64, 96, bits, full_range, matrix, chroma_420)
    enhancer = RestoreEnhancer(Recording(), denoise=0.7)
    out = enhancer.enhance(image, time_s=1.0)
    assert (out.bit_depth, out.full_range, out.matrix) == (bits, full_range, matrix)
    assert out.y.dtype == out.u.dtype == out.v.dtype == image.y.dtype
    assert out.y.shape == image.y.shape and out.u.shape == out.v.shape == image.u.shape
    # An identity network gives (nearly) the same codes back.
    for ours, theirs in ((out.y, image.y), (out.u, image.u), (out.v, image.v)):
        assert np.abs(ours.astype(int) - theirs.astype(int)).max() <= (1 if bits == 8 else 2)
    assert enhancer.estimator.calls[0][1] == pytest.approx(0.7)
    assert enhancer.stats.frames == 1


def test_enhancer_out_bits_and_odd_sizes():
    image = _picture(37, 53, 8, False, "bt709", False)
    image = YuvImage(image.y, image.u[::2, ::2].copy(), image.v[::2, ::2].copy(), 8, False, "bt709")   # (19, 27)
    out = RestoreEnhancer(Recording()).enhance(image, out_bits=10)
    assert out.bit_depth == 10 and out.y.dtype == np.uint16
    assert out.y.shape == (37, 53) and out.u.shape == (19, 27)
    assert np.abs(out.y.astype(int) - 4 * image.y.astype(int)).max() <= 4


def test_enhancer_applies_the_network_and_records_stats():
    image = _picture(48, 64, 8, False, "bt709", True)
    enhancer = RestoreEnhancer(Recording(lambda x: np.clip(x * 2.0, 0, 1)))
    out = enhancer.enhance(image)
    assert out.y.mean() > image.y.mean() + 20
    assert enhancer.stats.mean_out == pytest.approx(2 * enhancer.stats.mean_in, rel=0.05)


def test_strength_zero_gives_the_input_back_and_half_is_between():
    image = _picture(48, 64, 10, False, "bt709", True)
    invert = Recording(lambda x: 1.0 - x)
    out = RestoreEnhancer(invert, strength=0.0).enhance(image)
    for ours, theirs in ((out.y, image.y), (out.u, image.u), (out.v, image.v)):
        assert np.abs(ours.astype(int) - theirs.astype(int)).max() <= 2
    full = RestoreEnhancer(invert, strength=1.0).enhance(image)
    half = RestoreEnhancer(invert, strength=0.5).enhance(image)
    rgb_in, rgb_full, rgb_half = (image_to_rgb_float(x) for x in (image, full, half))
    assert np.abs(rgb_half - (rgb_in + rgb_full) / 2).max() < 0.01


@pytest.mark.parametrize("field, value", [("denoise", 1.5), ("denoise", -0.1), ("strength", 1.2),
                                          ("strength", float("nan"))])
def test_invalid_settings_raise(field, value):
    with pytest.raises(ValueError, match=field):
        RestoreEnhancer(Recording(), **{field: value})


def test_reset_is_harmless_and_frames_are_independent():
    image = _picture(32, 48, 8, False, "bt709", True)
    enhancer = RestoreEnhancer(Recording())
    first = enhancer.enhance(image)
    enhancer.reset()
    second = enhancer.enhance(image)
    assert np.array_equal(first.y, second.y) and np.array_equal(first.u, second.u)
    assert enhancer.stats.frames == 2


@pytest.fixture(scope="module")
def quality():
    model, info = load_model("quality")
    return model, info


def test_shipped_restore_net_is_small(quality):
    model, info = quality
    assert isinstance(model, RestoreNet)
    assert tuple(model.widths) == tuple(info.settings["widths"])
    assert parameter_count(model) <= 1_000_000


@pytest.mark.parametrize("shape", [(1, 3, 64, 96), (2, 3, 40, 56)])
def test_restore_net_output_shape_equals_input(quality, shape):
    model, _ = quality
    rgb = torch.rand(shape)
    denoise = torch.full((shape[0], 1, *shape[2:]), 0.5)
    with torch.inference_mode():
        out = model(rgb, denoise)
    assert out.shape == shape
    assert torch.isfinite(out).all()


def test_enhancer_runs_the_shipped_model_end_to_end(quality):
    model, _ = quality

    def estimator(rgb, denoise):
        with torch.inference_mode():
            return model(torch.from_numpy(rgb), torch.from_numpy(denoise)).numpy()

    image = _picture(37, 53, 8, False, "bt709", False)
    out = RestoreEnhancer(estimator, denoise=0.5).enhance(image)
    assert out.y.shape == (37, 53) and out.u.shape == (37, 53) and out.y.dtype == np.uint8
    # The picture is dark (R'G'B' about 0.1–0.35): the model lifts it, keeps its layout and its gradient.
    rgb_in, rgb_out = image_to_rgb_float(image), image_to_rgb_float(out)
    assert rgb_out.mean() > rgb_in.mean() + 0.1
    assert np.corrcoef(rgb_in[..., 0].ravel(), rgb_out[..., 0].ravel())[0, 1] > 0.8
