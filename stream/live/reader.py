"""What every live reader gives: a leaf module, shared by the readers and the reconnecting source.

A ``Reader`` is one connection to a camera (PyAV's in ``stream.live.av_reader``,
the demo's street in ``stream.live.scene_reader``, GStreamer's appsink in
``stream.live.gst_reader``); its pictures come out as ``Decoded`` and its
failures as ``stream.errors.SourceError``. ``stream.live.sources.open_reader``
picks the reader for a source, ``stream.live.reconnect.LiveSource`` reconnects readers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from engines.image import YuvImage
from stream.frame import ColourTags


@dataclass(frozen=True)
class Decoded:
    """One picture from a reader, before the live clock is put on it."""

    image: YuvImage
    display_size: tuple[int, int]
    tags: ColourTags
    rotation: int
    decode_s: float          # time spent demuxing and decoding it


class Reader(Protocol):
    """One connection. ``open`` raises ``SourceError``; ``frames`` ends at end of stream.

    ``known_fps`` is the rate an earlier connection to the same source found; a
    reader may skip probing for it (AvReader then reconnects to RTSP in about
    0.2 s instead of 0.7 s).
    """

    nominal_fps: float | None

    def open(self, known_fps: float | None = None) -> None: ...

    def frames(self, stop: threading.Event) -> Iterator[Decoded]: ...

    def close(self) -> None: ...
