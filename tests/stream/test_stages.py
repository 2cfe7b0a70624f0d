"""The offline graph's stages driven directly: ``ResampleStage`` (``--fps``) and ``EnhanceStage``."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import av
import numpy as np

from engines.image import YuvImage
from stream.frame import Frame, SidePacket
from stream.stages import EnhanceStage, ResampleStage


def picture(level: int) -> YuvImage:
    """A flat 16x8 4:2:0 picture whose luma is ``level``: the level tells pictures apart."""
    chroma = np.full((4, 8), 128, np.uint8)
    return YuvImage(np.full((8, 16), level, np.uint8), chroma, chroma.copy())


def frame(index: int, pts: int | None = None) -> Frame:
    """Source frame ``index`` at 5 fps (time base 1/5 s, one unit long), luma level 10 × index."""
    return Frame(image=picture(10 * index), pts=index if pts is None else pts, time_base=Fraction(1, 5), index=index,
                 display_size=(16, 8), duration=1)


def side_packet() -> SidePacket:
    packet = av.Packet(b"audio payload")
    packet.pts = packet.dts = 7
    return SidePacket(packet, stream_index=1)


@dataclasses.dataclass
class CountingEnhancer:
    """Brightens luma by 1 and records each call as (input luma level, time_s, out_bits)."""

    calls: list[tuple[int, float | None, int | None]] = dataclasses.field(default_factory=list)
    stats: object = None

    def enhance(self, image: YuvImage, time_s: float | None = None, out_bits: int | None = None) -> YuvImage:
        self.calls.append((int(image.y[0, 0]), time_s, out_bits))
        return dataclasses.replace(image, y=image.y + 1)

    def reset(self) -> None:
        self.calls.clear()


def run(stage, items) -> list:
    """Every item ``stage`` emits for ``items``, then its flush."""
    return [out for item in items for out in stage.process(item)] + list(stage.flush())


def test_side_packets_pass_both_stages_untouched():
    enhancer = CountingEnhancer()
    for stage in (ResampleStage(Fraction(10)), EnhanceStage(enhancer, out_bits=8)):
        item = side_packet()
        out = list(stage.process(item))
        assert len(out) == 1 and out[0] is item and out[0].packet is item.packet
        assert (bytes(item.packet), item.packet.pts, item.stream_index) == (b"audio payload", 7, 1)
    assert enhancer.calls == []


def test_resampling_doubles_the_rate_with_each_frame_shown_twice():
    out = run(ResampleStage(Fraction(10)), [frame(i) for i in range(3)])          # 5 fps in, 10 fps out
    assert [f.pts for f in out] == list(range(6))
    assert all(f.time_base == Fraction(1, 10) and f.duration == 1 for f in out)
    assert [f.index for f in out] == [0, 0, 1, 1, 2, 2]
    assert [int(f.image.y[0, 0]) for f in out] == [0, 0, 10, 10, 20, 20]


def test_a_side_packet_between_frames_leaves_the_resampled_frames_as_they_were():
    side = side_packet()
    plain = run(ResampleStage(Fraction(10)), [frame(i) for i in range(3)])
    mixed = run(ResampleStage(Fraction(10)), [frame(0), side, frame(1), frame(2)])
    assert [i for i in mixed if isinstance(i, SidePacket)] == [side]
    assert [(f.pts, f.index) for f in mixed if isinstance(f, Frame)] == [(f.pts, f.index) for f in plain]


def test_a_duplicated_frame_reuses_the_previous_enhanced_picture():
    enhancer = CountingEnhancer()
    resampled = run(ResampleStage(Fraction(10)), [frame(i) for i in range(3)])
    out = run(EnhanceStage(enhancer, out_bits=10), resampled)
    # One enhance per source frame, at the first copy's time, with the stage's output depth.
    assert enhancer.calls == [(0, 0.0, 10), (10, 0.2, 10), (20, 0.4, 10)]
    assert [int(f.image.y[0, 0]) for f in out] == [1, 1, 11, 11, 21, 21]
    assert out[0].image is out[1].image and out[2].image is out[3].image
    assert [(f.pts, f.time_base, f.index) for f in out] == [(f.pts, f.time_base, f.index) for f in resampled]


def test_only_the_previous_frame_is_reused():
    enhancer = CountingEnhancer()
    out = run(EnhanceStage(enhancer, out_bits=8), [frame(0, pts=0), frame(1, pts=1), frame(0, pts=2)])
    assert [level for level, _, _ in enhancer.calls] == [0, 10, 0]          # index 0 came back: enhanced again
    assert [int(f.image.y[0, 0]) for f in out] == [1, 11, 1]
    assert [time for _, time, _ in enhancer.calls] == [0.0, 0.2, 0.4]


def test_the_enhance_stage_holds_nothing_back():
    enhancer = CountingEnhancer()
    stage = EnhanceStage(enhancer, out_bits=8)
    assert len(list(stage.process(frame(0)))) == 1 and list(stage.flush()) == []
