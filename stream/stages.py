"""Graph stages for offline enhancement: resampling to a constant rate, enhancing."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from fractions import Fraction

from engines.image import YuvImage
from engines.enhancer import Enhancer
from stream.frame import Frame, SidePacket
from stream.pacing import ConstantRateResampler


class ResampleStage:
    """``--fps N``: constant frame rate by dropping/duplicating on timestamps."""

    name = "resample"

    def __init__(self, fps: Fraction) -> None:
        self.resampler = ConstantRateResampler(fps)

    def process(self, item: Frame | SidePacket) -> Iterable[Frame | SidePacket]:
        if isinstance(item, SidePacket):
            return [item]
        return self.resampler.push(item)

    def flush(self) -> Iterable[Frame]:
        return self.resampler.flush()


class EnhanceStage:
    """Run a per-stream enhancer on every frame; side packets pass untouched.

    A frame the resampler duplicated (same source ``index`` as the previous one)
    reuses the previous result instead of being enhanced twice.
    """

    name = "enhance"

    def __init__(self, enhancer: Enhancer, out_bits: int) -> None:
        self.enhancer = enhancer
        self.out_bits = out_bits
        self._last: tuple[int, YuvImage] | None = None      # (source index, enhanced picture)

    def process(self, item: Frame | SidePacket) -> Iterable[Frame | SidePacket]:
        if isinstance(item, SidePacket):
            return [item]
        if self._last is None or self._last[0] != item.index:
            self._last = (item.index, self.enhancer.enhance(item.image, float(item.time), self.out_bits))
        return [dataclasses.replace(item, image=self._last[1])]

    def flush(self) -> Iterable[Frame]:
        return []
