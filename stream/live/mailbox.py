"""The hand-over from the enhancer to the pacer: a one-slot mailbox that keeps only the newest pair."""

from __future__ import annotations

import threading
from collections.abc import Callable

from engines.image import YuvImage
from stream.frame import Frame


class Mailbox:
    """A one-slot mailbox: the newest (frame, enhanced) pair and a sequence number.

    The enhancer ``put``s every pair it makes; the pacer ``take``s the newest at
    each tick (``peek`` looks without taking). A pair replaced before the pacer
    took it never reaches an output: it is a dropped frame like any other
    latest-wins drop, so each one is told to ``on_drop`` (the camera counts it
    as ``nocturne_dropped_frames_total{where="enhance"}``). ``sequence`` counts
    the pairs put (0 before the first), so the pacer can tell a new pair from
    the one it already showed.
    """

    def __init__(self, on_drop: Callable[[], None] = lambda: None) -> None:
        self.on_drop = on_drop
        self._lock = threading.Lock()
        self._item: tuple[Frame, YuvImage] | None = None
        self.sequence = 0
        self._taken = 0                  # the sequence number the pacer last took

    def put(self, frame: Frame, enhanced: YuvImage) -> None:
        with self._lock:
            replaced_untaken = self._item is not None and self._taken != self.sequence
            self._item = (frame, enhanced)
            self.sequence += 1
        if replaced_untaken:
            self.on_drop()               # outside the lock: the counter takes its own

    def peek(self) -> tuple[int, tuple[Frame, YuvImage] | None]:
        """(sequence, newest pair or None) without taking it: replacing it later still counts as a drop."""
        with self._lock:
            return self.sequence, self._item

    def take(self) -> tuple[int, tuple[Frame, YuvImage] | None]:
        """(sequence, newest pair or None), marked as taken: replacing it is no longer a drop."""
        with self._lock:
            self._taken = self.sequence
            return self.sequence, self._item
