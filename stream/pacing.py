"""Constant-frame-rate resampling on timestamps (``--fps N``).

Output slot k is at time (k0 + k) / fps, with k0 = round(first frame time × fps)
so the output starts where the input starts and copied audio stays in sync.
Each slot shows the input frame nearest in time that has started by then —
the same rule as FFmpeg's ``fps`` filter with ``round=near``: a frame is
assigned to the slots whose time lies within [its start − half a slot, next
frame's start − half a slot). Frames that get no slot are dropped; frames that
get several are duplicated. Works for VFR input: only timestamps matter.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

from stream.frame import Frame


class ConstantRateResampler:
    """Turn a timestamped frame sequence into a constant-rate one.

    ``push(frame)`` returns the output frames that became final; ``flush()``
    returns the rest at end of stream. Output frames have ``time_base`` 1/fps
    and consecutive integer ``pts``. Counters ``dropped`` and ``duplicated``
    say what it did.
    """

    def __init__(self, fps: Fraction) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.fps = Fraction(fps)
        self.time_base = 1 / self.fps
        self._pending: Frame | None = None
        self._next_slot: int | None = None
        self.dropped = 0
        self.duplicated = 0

    def push(self, frame: Frame) -> list[Frame]:
        out: list[Frame] = []
        if self._pending is not None:
            out = self._emit_until(self._pending, _slot_start(frame.time, self.fps))
        else:
            self._next_slot = math.floor(frame.time * self.fps + Fraction(1, 2))
        self._pending = frame
        return out

    def flush(self) -> list[Frame]:
        """Emit the last frame for the slots up to its end (its duration, or one slot).

        Like FFmpeg's fps filter, a last frame whose span holds no slot centre is
        dropped rather than stretched past the input's end.
        """
        if self._pending is None:
            return []
        last = self._pending
        self._pending = None
        end = last.time + (last.duration * last.time_base if last.duration else self.time_base)
        return self._emit_until(last, _slot_start(end, self.fps))

    def _emit_until(self, frame: Frame, stop_slot: int) -> list[Frame]:
        """Emit ``frame`` for slots [next_slot, stop_slot)."""
        count = max(0, stop_slot - self._next_slot)
        if count == 0:
            self.dropped += 1
            return []
        self.duplicated += count - 1
        out = [dataclasses.replace(frame, pts=slot, time_base=self.time_base, duration=1)
               for slot in range(self._next_slot, stop_slot)]
        self._next_slot = stop_slot
        return out


def _slot_start(time: Fraction, fps: Fraction) -> int:
    """First slot whose nearest frame is one starting at ``time`` (round half up)."""
    return math.floor(time * fps + Fraction(1, 2))


def frame_rate(fps: float) -> Fraction:
    """--fps as an exact rate; 23.976/29.97/59.94 mean the NTSC rates n·1000/1001, as users intend."""
    ntsc = round(fps * 1001 / 1000)
    if abs(fps - ntsc * 1000 / 1001) < 5e-3 and abs(fps - ntsc) > 5e-3:
        return Fraction(ntsc * 1000, 1001)
    return Fraction(fps).limit_denominator(1000)
