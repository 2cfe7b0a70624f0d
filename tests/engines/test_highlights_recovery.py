"""Highlight recovery end to end on generated scenes: what is filled, what is left alone, and the edges
(empty buffer, cuts, size changes, lights that really appeared, static lamps, other layouts)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import engines.highlights.select as select
from engines.enhancer import Unchanged
from engines.highlights import HighlightRecovery, HighlightsRecovered, highlight_stats
from engines.highlights.align import to_display, to_linear
from engines.highlights.mask import stage_reach
from engines.highlights.recovery import MIN_SIDE
from engines.image import YuvImage, image_from_rgb, image_from_rgb_float, image_to_rgb, image_to_rgb_float

H, W = 144, 256


def scene(seed: int = 3, height: int = H + 40, width: int = W + 40) -> np.ndarray:
    """A textured linear-light scene (height, width, 3) in about [0.03, 0.48]: blobs and edges at several scales."""
    rng = np.random.default_rng(seed)
    layers = [cv2.GaussianBlur(rng.random((height, width)).astype(np.float32), (0, 0), s) for s in (2, 6, 15)]
    texture = sum((x - x.min()) / (x.max() - x.min()) for x in layers)
    low, high = np.percentile(texture, [2, 98])
    texture = np.clip((texture - low) / (high - low), 0.0, 1.0)
    tint = np.array([1.0, 0.9, 0.8], np.float32)
    return (0.03 + 0.45 * texture[..., None] * tint).astype(np.float32)


def view(linear: np.ndarray, shift: int, gain: float) -> tuple[YuvImage, np.ndarray]:
    """The scene shifted ``shift`` px right and exposed ``gain``×: (8-bit 4:2:0 picture, truth linear unclipped)."""
    truth = linear[20:20 + H, 20 - shift:20 - shift + W] * gain
    rgb = np.clip(np.rint(to_display(truth) * 255.0), 0, 255).astype(np.uint8)
    return image_from_rgb(rgb), truth


def luma(rgb_linear: np.ndarray) -> np.ndarray:
    return rgb_linear @ np.array([0.2126, 0.7152, 0.0722], np.float32)


def zncc(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum() + 1e-12))


def run(stage: HighlightRecovery, pictures: list[YuvImage]) -> list[YuvImage]:
    return [stage(p, p) for p in pictures]


def test_clipped_area_is_recovered_from_a_well_exposed_earlier_frame_and_nothing_else_changes():
    linear = scene()
    frames = [view(linear, shift, gain) for shift, gain in
              [(0, 1.0), (1, 1.0), (2, 1.0), (3, 1.5), (4, 2.2), (5, 3.0), (6, 3.0)]]
    stage = HighlightRecovery()
    outputs = run(stage, [f[0] for f in frames])
    picture, truth = frames[-1]
    before = image_to_rgb(picture)
    clipped = before.min(axis=2) >= 250
    assert clipped.mean() > 0.05
    after = image_to_rgb_float(outputs[-1])
    recovered = zncc(np.log(luma(to_linear(np.clip(after, 0, 1)))[clipped] + 0.01),
                     np.log(luma(truth)[clipped] + 0.01))
    assert recovered > 0.5, recovered                  # the input: 0 (flat white)
    assert after[clipped].max(axis=1).mean() < 0.99     # below white: the structure is visible
    assert stage.stats.reference_age is not None and stage.stats.reference_age >= 3
    # Outside the clipped area grown by the stage's reach, every code value is as it was.
    soft = image_to_rgb(picture).max(axis=2) >= 0.9 * 255
    reach = stage_reach(W)
    untouched = ~cv2.dilate(soft.astype(np.uint8), np.ones((2 * reach + 5, 2 * reach + 5), np.uint8)).astype(bool)
    assert untouched.sum() > 500
    assert np.array_equal(outputs[-1].y[untouched], picture.y[untouched])
    chroma_untouched = cv2.erode(untouched.astype(np.uint8), np.ones((3, 3), np.uint8))[::2, ::2].astype(bool)
    assert np.array_equal(outputs[-1].u[chroma_untouched], picture.u[chroma_untouched])
    assert np.array_equal(outputs[-1].v[chroma_untouched], picture.v[chroma_untouched])


def test_no_clipping_returns_the_very_same_picture():
    stage = HighlightRecovery()
    for shift in range(3):
        picture, _ = view(scene(), shift, 1.0)
        assert stage(picture, picture) is picture
    assert stage.stats.filled_frames == 0 and stage.stats.clipped_share == 0.0


def test_first_frame_clipped_is_left_as_it_is():
    picture, _ = view(scene(), 0, 3.0)
    out = HighlightRecovery()(picture, picture)
    assert out is picture


def test_a_light_that_really_appeared_is_not_recovered_away():
    """A lamp switched on: the reference shows that spot dark, so it saw something else there."""
    linear = scene()
    stage = HighlightRecovery()
    for shift in range(3):
        stage(*(2 * [view(linear, shift, 1.0)[0]]))
    lamp = linear.copy()
    ys, xs = np.mgrid[0:lamp.shape[0], 0:lamp.shape[1]]
    lamp[(xs - 150) ** 2 + (ys - 90) ** 2 < 16 ** 2] = 5.0   # a hard disc: no glow, so the ring around it agrees
    picture, _ = view(lamp, 3, 1.0)
    out = stage(picture, picture)
    core = image_to_rgb(picture).min(axis=2) >= 254
    assert core.sum() > 50
    assert image_to_rgb(out)[core].min() >= 250           # still white: the lamp is real


def test_static_lamp_always_clipped_costs_no_alignment(monkeypatch: pytest.MonkeyPatch):
    calls = []
    original = select.global_homography
    monkeypatch.setattr(select, "global_homography", lambda *a, **k: calls.append(1) or original(*a, **k))
    lamp = scene()
    lamp[60:100, 100:160] = 5.0
    stage = HighlightRecovery()
    pictures = [view(lamp, 0, 1.0)[0] for _ in range(6)]
    outputs = run(stage, pictures)
    assert calls == [] and stage.stats.reference_age is None and stage.stats.filled_frames == 0
    assert all(out is picture for out, picture in zip(outputs, pictures))


def test_scene_cut_flushes_the_buffer_but_an_exposure_ramp_does_not():
    stage = HighlightRecovery()
    linear = scene(3)
    other = np.full_like(linear, 0.02)                    # a dark room with a lit window
    other[60:120, 80:200] = 0.4
    for gain in (1.0, 1.3, 1.7, 2.2):                     # a ramp: not a cut
        stage(*(2 * [view(linear, 0, gain)[0]]))
    assert stage.stats.flushes == 0 and len(stage.buffer) == 4
    stage(*(2 * [view(other, 0, 1.0)[0]]))
    assert stage.stats.flushes == 1 and len(stage.buffer) == 1


def test_size_change_mid_stream_flushes_and_keeps_the_new_size():
    stage = HighlightRecovery()
    linear = scene()
    for gain in (1.0, 1.0, 3.0):
        stage(*(2 * [view(linear, 0, gain)[0]]))
    small = image_from_rgb(np.clip(np.rint(to_display(linear[:96, :128] * 3.0) * 255), 0, 255).astype(np.uint8))
    out = stage(small, small)
    assert (out.height, out.width) == (96, 128) and stage.stats.flushes == 1


@pytest.mark.parametrize("bits, chroma_444", [(10, False), (8, True)])
def test_other_depths_and_layouts_keep_their_layout(bits: int, chroma_444: bool):
    linear = scene()
    stage = HighlightRecovery()
    out = None
    for shift, gain in [(0, 1.0), (1, 1.0), (2, 2.5), (3, 3.0)]:
        _, truth = view(linear, shift, gain)
        picture = image_from_rgb_float(to_display(truth), bits, False, "bt709", None if chroma_444 else (H // 2, W // 2))
        out = stage(picture, picture)
    assert out is not None and out.bit_depth == bits and out.u.shape == picture.u.shape
    assert stage.stats.filled_frames >= 1


def test_pixels_only_the_enhancement_clipped_are_rolled_off_from_their_own_input():
    """--model fast/quality pushing a bright area into white: its own input holds the structure (age 0)."""
    linear = scene()
    picture, truth = view(linear, 0, 1.4)                 # input: bright but not clipped
    assert image_to_rgb(picture).max() < 250
    brightened = image_from_rgb(np.clip(np.rint(to_display(truth * 2.5) * 255), 0, 255).astype(np.uint8))
    out = HighlightRecovery()(picture, brightened)
    white = image_to_rgb(brightened).min(axis=2) >= 252
    assert white.mean() > 0.05
    rolled = image_to_rgb_float(out)[white]
    assert rolled.max(axis=1).mean() < 0.99
    assert zncc(luma(rolled), luma(truth)[white]) > 0.8


def test_composed_enhancer_reports_its_stats():
    recovered = HighlightsRecovered(Unchanged(), HighlightRecovery())
    picture, _ = view(scene(), 0, 3.0)
    recovered.enhance(picture, 0.0)
    stats = highlight_stats(recovered)
    assert stats is not None and stats.frames == 1 and stats.clipped_share > 0.1
    assert highlight_stats(Unchanged()) is None
    ten_bit = recovered.enhance(picture, 0.04, out_bits=10)
    assert ten_bit.bit_depth == 10


@pytest.mark.parametrize("height, width, chroma", [(6, 6, (3, 3)), (10, 10, (5, 5)), (17, 33, (9, 17)),
                                                   (101, 135, (51, 68)), (40, 1280, (20, 640)),
                                                   (96, 128, (96, 64))])           # the last: 4:2:2
def test_small_thin_and_odd_pictures_pass_without_error(height: int, width: int, chroma: tuple[int, int]):
    # One texture (a new one every frame would read as a scene cut and empty the buffer), exposed up
    # until it clips, so that the fill itself runs at every size that is not too small for it.
    linear = scene(seed=1, height=height, width=width)
    stage = HighlightRecovery()
    for gain in (1.0, 1.0, 1.5, 2.2, 3.0, 3.0):
        rgb = to_display(linear * gain)
        picture = image_from_rgb_float(rgb, 8, False, "bt709", chroma)
        out = stage(picture, picture)
        assert out.y.shape == picture.y.shape and out.u.shape == picture.u.shape
    if min(height, width) >= MIN_SIDE:
        assert stage.stats.filled_frames > 0
    else:
        assert out is picture and stage.stats.filled_frames == 0


def test_a_reference_under_an_enhancement_is_carried_through_its_gain():
    """--model fast/quality and a clipped input: the reference, matched, then scaled by the model's local gain."""
    linear = scene()
    stage = HighlightRecovery()
    enhanced = None
    for shift, gain in [(0, 1.0), (1, 1.0), (2, 1.0), (3, 2.0), (4, 3.0)]:
        picture, truth = view(linear, shift, gain)
        brighter = image_from_rgb(np.clip(np.rint(to_display(truth * 1.3) * 255), 0, 255).astype(np.uint8))
        enhanced = stage(picture, brighter)
    assert enhanced is not None and stage.stats.reference_age is not None
    clipped = image_to_rgb(picture).min(axis=2) >= 250
    assert clipped.mean() > 0.03
    after = image_to_rgb_float(enhanced)[clipped]
    assert after.max(axis=1).mean() < 0.99
    assert zncc(np.log(luma(to_linear(np.clip(after, 0, 1))) + 0.01), np.log(luma(truth)[clipped] + 0.01)) > 0.5
