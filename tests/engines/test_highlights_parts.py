"""Highlight recovery, its parts: masks, the roll-off, the reference buffer's memory bound."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engines.highlights.buffer import Entry, ReferenceBuffer
from engines.highlights.fusion import KNEE, WHITE, classical_fill, roll_off
from engines.highlights.mask import CLIP_HIGH, CLIP_LOW, clipped_any, clipped_mask, dilation_radius, feathered, stage_reach
from engines.image import image_from_rgb
from engines.models.fusion_net import FusionNet


def test_mask_is_soft_and_per_channel():
    levels = np.linspace(0.0, 1.0, 101, dtype=np.float32)
    rgb = np.stack([levels, np.full_like(levels, 0.5), np.full_like(levels, 0.5)], axis=-1)[None]
    mask = clipped_mask(rgb)[0]
    assert np.all(mask[levels <= CLIP_LOW, 0] == 0) and np.all(mask[levels >= CLIP_HIGH, 0] == 1)
    assert np.all(np.diff(mask[:, 0]) >= 0)
    between = mask[(levels > CLIP_LOW + 0.01) & (levels < CLIP_HIGH - 0.01), 0]
    assert between.size and np.all((between > 0) & (between < 1))
    assert np.all(mask[:, 1:] == 0)                      # only the red channel clipped


def test_feathered_mask_covers_the_core_and_ends_at_its_reach():
    width = 400
    mask = np.zeros((60, width), np.float32)
    mask[25:35, 100:110] = 1.0
    grown = feathered(mask, dilation_radius(width))
    assert np.all(grown >= mask)
    reach = stage_reach(width)
    assert grown[30, 110 + dilation_radius(width) - 1] > 0.3          # inside the dilation: well covered
    assert np.all(grown[:, 110 + reach:] == 0) and np.all(grown[:, :100 - reach] == 0)


def test_roll_off_is_identity_below_the_knee_smooth_at_it_and_white_at_white():
    x = np.linspace(0.0, 6.0, 6001, dtype=np.float32)
    y = roll_off(x)
    assert np.array_equal(y[x <= KNEE], x[x <= KNEE])
    assert np.all(np.diff(y) >= 0) and y.max() <= 1.0
    slope = np.diff(y) / np.diff(x)
    at_knee = np.searchsorted(x, KNEE)
    assert abs(slope[at_knee + 1] - 1.0) < 0.02          # no kink
    assert roll_off(np.float32([WHITE]))[0] == pytest.approx(1.0, abs=1e-4)
    assert roll_off(np.float32([2.0]))[0] < roll_off(np.float32([3.0]))[0] < 1.0   # structure survives above white


def test_classical_fill_leaves_unweighted_pixels_exactly():
    rng = np.random.default_rng(0)
    current, source = rng.random((2, 20, 30, 3), dtype=np.float32)
    weight = np.zeros((20, 30), np.float32)
    weight[5:10, 5:10] = 1.0
    out = classical_fill(current, source, weight)
    assert np.array_equal(out[weight == 0], current[weight == 0])
    assert np.allclose(out[5:10, 5:10], source[5:10, 5:10])


def test_untrained_fusion_net_is_the_classical_fill_and_never_leaves_the_weight():
    torch.manual_seed(0)
    net = FusionNet(width=8).eval()
    current, fill = torch.rand(2, 1, 3, 40, 48)
    weight = torch.zeros(1, 1, 40, 48)
    weight[..., 10:30, 10:30] = torch.rand(1, 1, 20, 20)
    with torch.no_grad():
        assert torch.allclose(net(current, fill, weight), current + weight * (fill - current))
        torch.nn.init.normal_(net.body[-1].weight)      # a trained net: still nothing outside the weight
        out = net(current, fill, weight)
    outside = (weight == 0).expand_as(out)
    assert torch.equal(out[outside], current[outside])


def _entry(index: int, clipped_share: float) -> Entry:
    picture = image_from_rgb(np.full((16, 16, 3), 100, np.uint8))
    return Entry(index, np.zeros((8, 8, 3), np.float32), np.zeros((8, 8), np.float32), clipped_share, picture)


def test_buffer_memory_is_bounded_and_keeps_the_least_clipped_pictures():
    buffer = ReferenceBuffer(capacity=8, full_frames=3)
    shares = [0.5, 0.1, 0.4, 0.05, 0.3, 0.2, 0.6, 0.7, 0.45, 0.35] * 4
    for i, share in enumerate(shares):
        buffer.push(_entry(i, share))
        assert len(buffer) <= 8 and buffer.pictures_held() <= 3
        held = [e for e in buffer.candidates()]
        # The newest picture is kept exactly when it is among the three least clipped still held.
        assert (buffer.candidates()[0].index == i) == (share <= sorted(e.clipped_share for e in held)[-1])
    # A dropped picture never comes back: 34 (0.3) went when 35 (0.2) arrived, as 31 (0.1) and
    # 33 (0.05) were still held; once 31 left the window, 39 (0.35) took its place.
    assert sorted(e.index for e in buffer.candidates()) == [33, 35, 39]


def test_pinned_reference_outlives_the_window_until_released():
    buffer = ReferenceBuffer(capacity=4, full_frames=1)
    first = _entry(0, 0.0)
    buffer.push(first)
    buffer.pin(first)
    for i in range(1, 12):
        buffer.push(_entry(i, 0.0))                     # as clean as the pinned one, and newer
    assert first in buffer.candidates() and first.image is not None
    assert buffer.pictures_held() == 2                  # the newest clean one + the pinned one
    buffer.pin(None)
    assert first.image is None and first not in buffer.candidates()


def test_selector_keeps_its_reference_until_another_is_clearly_and_lastingly_better(monkeypatch):
    import engines.highlights.select as select

    scripted: dict[int, float] = {}

    def fake_score(current, entry, now, capacity, start=None):
        value = scripted[entry.index]
        return select.CandidateScore(entry.index, now - entry.index, value, 1.0, 1.0, 1.0, 2.0, np.eye(3))

    monkeypatch.setattr(select, "score_candidate", fake_score)
    selector = select.ReferenceSelector(capacity=8)
    rgb = np.full((8, 8, 3), 0.3, np.float32)
    rgb[2:6, 2:6] = 1.0                                   # a clipped patch
    current = Entry(99, rgb, clipped_any(rgb), 0.25)
    a, b = _entry(0, 0.0), _entry(1, 0.0)

    def choose(score_a: float, score_b: float, now: int):
        scripted.update({0: score_a, 1: score_b})
        chosen = selector.choose(current, [a, b], now)
        return None if chosen is None else chosen[0].index

    assert choose(0.6, 0.5, 2) == 0
    for now, b_score in enumerate([0.7, 0.55, 0.74, 0.6] * 3, start=3):   # never 1.25 × 0.5 + 0.05 twice running
        assert choose(0.5, b_score, now) == 0
    assert selector.switches == 0
    assert [choose(0.5, 0.9, now) for now in (20, 21, 22)] == [0, 0, 1]    # clearly better, three frames running
    assert selector.switches == 1
    assert choose(0.1, 0.12, 23) is None                  # nothing good enough: leave the highlights alone
    assert choose(0.5, 0.2, 24) == 0 and selector.switches == 1
