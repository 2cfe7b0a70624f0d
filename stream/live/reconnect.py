"""The source that keeps coming back: one reader after another, with backoff, on one live clock.

Frames leave with a fresh clock: ``pts`` is the arrival time in 1/90000 s since
the source started and ``arrival_s`` the monotonic clock at decode, because a
camera's own timestamps restart at every reconnect (and the first RTSP frame
may have none). The pacer re-times frames for the outputs anyway.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from fractions import Fraction

from stream.config import LiveSection
from stream.errors import SourceError, SourceGaveUp
from stream.frame import Frame
from stream.live.backoff import Backoff
from stream.live.reader import Decoded, Reader
from stream.live.sources import open_reader
from stream.uri import SourceSpec

LIVE_TIME_BASE = Fraction(1, 90000)
STILL_AWAY_EVERY_S = 30.0         # how often a camera that stays away is mentioned again


class LiveSource:
    """A source that keeps coming back: reconnects with backoff until stopped (or it gives up).

    ``frames(stop)`` yields ``Frame`` items with the live clock; it returns at
    the end of a file or pattern, or when ``stop`` is set, and raises
    ``SourceGaveUp`` after ``give_up_after_s`` without a frame. ``on_event``
    receives one-line, credential-free messages (connected, lost, back).
    """

    def __init__(self, spec: SourceSpec, live: LiveSection, on_event: Callable[[str], None],
                 on_connected: Callable[[bool], None] = lambda up: None,
                 on_retry: Callable[[], None] = lambda: None,
                 reader_factory: Callable[[SourceSpec, LiveSection], Reader] = open_reader) -> None:
        self.spec, self.live = spec, live
        self.on_event, self.on_connected, self.on_retry = on_event, on_connected, on_retry
        self.reader_factory = reader_factory
        self.nominal_fps: float | None = None
        self.frames_read = 0
        self.ended = False           # the stream reached its end (files, patterns)

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        backoff = Backoff(self.live.reconnect.initial_s, self.live.reconnect.max_s)
        clock_zero = time.monotonic()
        away_since: float | None = clock_zero       # None while frames flow
        last_reason, last_told = "", 0.0
        ever_connected = False
        while not stop.is_set():
            reader = self.reader_factory(self.spec, self.live)
            reason = ""
            try:
                reader.open(known_fps=self.nominal_fps)
                self.nominal_fps = reader.nominal_fps or self.nominal_fps
                for decoded in reader.frames(stop):
                    if away_since is not None:
                        # A GStreamer reader learns the rate from its first frame's caps, not at open.
                        self.nominal_fps = reader.nominal_fps or self.nominal_fps
                        self._announce_back(ever_connected, away_since)
                        ever_connected, away_since = True, None
                        backoff.reset()
                    yield self._frame(decoded, clock_zero)
                if stop.is_set():
                    return
                if self.spec.kind in ("file", "test"):
                    self.ended = True
                    self.on_event(f"{self.spec.display}: end of stream")
                    return
                reason = "the stream ended"
            except SourceError as error:
                reason = str(error)
            finally:
                reader.close()
            if stop.is_set():
                return
            now = time.monotonic()
            if away_since is None:
                away_since = now
                self.on_connected(False)
            give_up = self.live.reconnect.give_up_after_s
            if give_up is not None and now - away_since >= give_up:
                raise SourceGaveUp(f"{self.spec.display}: {reason}; gave up after {now - away_since:.0f} s")
            wait = backoff.next()
            if reason != last_reason or now - last_told >= STILL_AWAY_EVERY_S:
                away = f" (away {now - away_since:.0f} s)" if now - away_since >= 1.0 else ""
                self.on_event(f"{self.spec.display}: {reason}{away}; retrying every ≤ {self.live.reconnect.max_s:g} s")
                last_reason, last_told = reason, now
            if stop.wait(wait):
                return
            self.on_retry()

    def _announce_back(self, ever_connected: bool, away_since: float) -> None:
        self.on_connected(True)
        if ever_connected:
            self.on_event(f"{self.spec.display}: back after {time.monotonic() - away_since:.1f} s")
        else:
            rate = f" at {self.nominal_fps:g} fps" if self.nominal_fps else ""
            self.on_event(f"{self.spec.display}: connected{rate}")

    def _frame(self, decoded: Decoded, clock_zero: float) -> Frame:
        arrival = time.monotonic()
        frame = Frame(image=decoded.image, pts=round((arrival - clock_zero) / LIVE_TIME_BASE), time_base=LIVE_TIME_BASE,
                      index=self.frames_read, display_size=decoded.display_size, tags=decoded.tags,
                      rotation=decoded.rotation, arrival_s=arrival, decode_s=decoded.decode_s)
        self.frames_read += 1
        return frame
