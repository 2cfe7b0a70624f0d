"""``--fps``: constant-rate resampling on timestamps (the rule of FFmpeg's fps filter, round=near)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from engines.image import YuvImage
from stream.frame import Frame
from stream.pacing import ConstantRateResampler, frame_rate

IMAGE = YuvImage(np.zeros((2, 2), np.uint8), np.zeros((1, 1), np.uint8), np.zeros((1, 1), np.uint8))


def frames(pts: list[int], time_base: Fraction) -> list[Frame]:
    """Frames at ``pts``, each lasting until the next (the last as long as the one before), as decoders say."""
    durations = list(np.diff(pts)) + [pts[-1] - pts[-2]] if len(pts) > 1 else [None]
    return [Frame(image=IMAGE, pts=p, time_base=time_base, index=i, display_size=(2, 2),
                  duration=int(d) if d is not None else None) for i, (p, d) in enumerate(zip(pts, durations))]


def resample(pts: list[int], time_base: Fraction, fps: int) -> tuple[list[Frame], ConstantRateResampler]:
    resampler = ConstantRateResampler(Fraction(fps))
    out = []
    for frame in frames(pts, time_base):
        out += resampler.push(frame)
    return out + resampler.flush(), resampler


def test_downsample_25_to_10_picks_the_nearest_frames():
    out, resampler = resample(list(range(25)), Fraction(1, 25), 10)     # one second
    assert all(f.time_base == Fraction(1, 10) for f in out)
    assert [f.pts for f in out[:10]] == list(range(10))
    # FFmpeg's fps filter (round=near): frame i rounds to slot round(0.4 i), half up; a slot
    # shows the last frame rounded to it (or the one before, when none is).
    assert [f.index for f in out[:10]] == [1, 3, 6, 8, 11, 13, 16, 18, 21, 23]


def test_downsample_does_not_run_past_the_end():
    out, resampler = resample(list(range(25)), Fraction(1, 25), 10)
    assert len(out) == 10, "1.0 s at 10 fps; frame 24 (0.96–1.00 s) rounds to the slot at 1.0 s, the end"
    assert resampler.dropped == 15 and resampler.duplicated == 0


def test_upsample_duplicates():
    out, resampler = resample(list(range(5)), Fraction(1, 5), 10)
    assert [f.index for f in out] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert resampler.duplicated == 5


def test_vfr_input_gives_constant_steps_and_keeps_its_start():
    stamps_ms = [1000, 1040, 1070, 1150, 1160, 1230, 1300, 1380, 1390, 1470]
    out, _ = resample(stamps_ms, Fraction(1, 1000), 10)
    times = [float(f.time) for f in out]
    assert times[0] == pytest.approx(1.0)
    assert np.allclose(np.diff(times), 0.1)
    assert len(out) == 6                     # 1.0 … 1.5; the last frame lasts until 1.55
    # frames round to slots 10 10 11 12 12 12 13 14 14 15; a slot shows the last one rounded to it
    assert [f.index for f in out] == [1, 2, 5, 6, 8, 9]


def test_last_frame_covers_its_duration():
    resampler = ConstantRateResampler(Fraction(10))
    first, last = frames([0, 100], Fraction(1, 1000))
    out = resampler.push(first) + resampler.push(Frame(**{**last.__dict__, "duration": 300}))
    out += resampler.flush()
    assert [f.index for f in out] == [0, 1, 1, 1]    # 0.0 ← frame 0; 0.1, 0.2, 0.3 ← frame 1 (lasts 0.3 s)


def test_last_frame_without_duration_covers_one_slot():
    resampler = ConstantRateResampler(Fraction(10))
    out = resampler.push(frames([0], Fraction(1, 1000))[0]) + resampler.flush()
    assert [(f.pts, f.index) for f in out] == [(0, 0)]


def test_flush_without_frames():
    assert ConstantRateResampler(Fraction(10)).flush() == []


@pytest.mark.parametrize("fps", [0, -5])
def test_fps_must_be_positive(fps):
    with pytest.raises(ValueError):
        ConstantRateResampler(Fraction(fps))


@pytest.mark.parametrize("typed,exact", [(29.97, Fraction(30000, 1001)), (23.976, Fraction(24000, 1001)),
                                         (59.94, Fraction(60000, 1001)), (25, Fraction(25)), (30, Fraction(30)),
                                         (12.5, Fraction(25, 2))])
def test_frame_rate_snaps_ntsc(typed, exact):
    assert frame_rate(typed) == exact
