"""``FrameDurations``: each encoded picture's duration, which libx264/libx265 leave out of their packets."""

from __future__ import annotations

from stream.frame import Frame


class FrameDurations:
    """Each encoded picture's duration, for the packet the encoder makes of it.

    libx264 and libx265 leave packet durations at 0, and the MP4 muxer then
    guesses the last sample's: FFmpeg 8.1.1 (PyAV 17, the PyAV of Python 3.10)
    gives it none, so players and decoders drop the last frame. A frame's own
    duration is used, else the interval since the frame before; both in the
    frames' time base, which is the encoder's.
    """

    def __init__(self) -> None:
        self._by_pts: dict[int, int] = {}
        self._last_pts: int | None = None
        self._step = 0

    def note(self, frame: Frame) -> None:
        """Call for each frame before it is encoded."""
        if self._last_pts is not None and frame.pts > self._last_pts:
            self._step = frame.pts - self._last_pts
            if self._by_pts.get(self._last_pts) == 0:       # its packet is still to come: now its duration is known
                self._by_pts[self._last_pts] = self._step
        self._by_pts[frame.pts] = frame.duration or 0
        self._last_pts = frame.pts

    def take(self, pts: int | None, encoded: int | None = 0) -> int:
        """The duration for the packet of the picture at ``pts``: ``encoded`` (the encoder's own) when it set
        one, else the frame's (0 where unknown). The picture is forgotten either way, so that an encoder
        that does set durations leaves nothing behind on an endless live stream.

        The newest picture without a duration of its own gets the last interval.
        """
        if pts is None:
            return encoded or 0
        noted = self._by_pts.pop(pts, 0)
        return encoded or noted or (self._step if pts == self._last_pts else 0)
