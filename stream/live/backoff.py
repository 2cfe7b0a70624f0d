"""Capped exponential backoff: how long to wait before the next reconnection attempt.

Shared by the reconnecting source (``stream.live.reconnect``) and the RTSP
publish output (``stream.live.muxing_outputs``), both driven by ``live.reconnect``.
"""

from __future__ import annotations


class Backoff:
    """Capped exponential waits: initial, 2×, 4× … up to ``maximum``; ``reset`` after a success.

    Times are seconds; ``maximum_s`` below ``initial_s`` is raised to it.
    """

    def __init__(self, initial_s: float, maximum_s: float) -> None:
        self.initial_s, self.maximum_s = initial_s, max(initial_s, maximum_s)
        self._next = initial_s

    def next(self) -> float:
        """The wait before the next attempt, seconds; the one after it doubles (up to the cap)."""
        wait, self._next = self._next, min(self._next * 2.0, self.maximum_s)
        return wait

    def reset(self) -> None:
        self._next = self.initial_s
