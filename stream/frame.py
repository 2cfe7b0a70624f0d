"""The items that travel through the graph: ``Frame`` and ``SidePacket``."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from engines.image import YuvImage


@dataclass(frozen=True)
class ColourTags:
    """Colour description as FFmpeg enumerates it (AVColorRange, AVColorSpace, …).

    Kept as FFmpeg's integers so they pass to the encoder untouched; ``matrix``
    in ``YuvImage`` is the interpretation used for arithmetic.
    """

    color_range: int = 0       # 0 unspecified, 1 limited (MPEG), 2 full (JPEG)
    colorspace: int = 2        # matrix coefficients; 2 = unspecified
    color_primaries: int = 2
    color_trc: int = 2


@dataclass(frozen=True)
class Frame:
    """One picture on its way through the graph.

    Attributes:
        image: the Y'CbCr planes; width and height are even (odd inputs are padded
            by repeating the last column/row, see ``stream.planes``).
        pts: presentation timestamp in units of ``time_base`` (integer, never float).
        time_base: seconds per pts unit.
        index: position of the source frame in decode output order (0-based); a
            duplicate made by the pacer keeps its source's index.
        display_size: (width, height) before padding, i.e. the true picture size (for sinks
            that can store it; 4:2:0 video encoders cannot, so video output is padded).
        tags: colour tags to carry to the output.
        rotation: display rotation in degrees (counter-clockwise, as FFmpeg's display matrix).
        duration: duration in ``time_base`` units when known.
        arrival_s: live sources: ``time.monotonic()`` when the frame was decoded (latency is measured from it).
        decode_s: live sources: seconds spent decoding it (and converting its planes).
    """

    image: YuvImage
    pts: int
    time_base: Fraction
    index: int
    display_size: tuple[int, int]
    tags: ColourTags = ColourTags()
    rotation: int = 0
    duration: int | None = None
    arrival_s: float | None = None
    decode_s: float = 0.0

    @property
    def time(self) -> Fraction:
        """Presentation time in seconds, exact."""
        return self.pts * self.time_base


@dataclass(frozen=True)
class SidePacket:
    """A packet of a stream that is copied, not decoded (audio, subtitles, data).

    ``packet`` is a PyAV ``Packet`` of input stream ``stream_index``.
    """

    packet: Any
    stream_index: int
