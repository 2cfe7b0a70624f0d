"""The pacer: a constant output rate on the monotonic clock, whatever the camera does.

At each tick it takes the newest enhanced pair from the mailbox and sends the
outputs a new frame, the last one again, or — after ``signal_loss_after_s``
without frames and with ``on_signal_loss: no_signal`` — a "no signal"
picture, so viewers and recordings keep going while the source reconnects.
Ticks it misses (an overloaded machine) are skipped, not caught up on, and
counted as ``late``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from fractions import Fraction

from engines.image import YuvImage, resize_image
from stream.config import LiveSection
from stream.frame import Frame
from stream.live.mailbox import Mailbox
from stream.live.metrics import CameraMetrics
from stream.live.no_signal import no_signal_picture
from stream.live.output import OutFrame

FIRST_PAIR_POLL_S = 0.01         # how often the wait for the first pair looks whether enhancement ended


class Pacer:
    """Paces one camera's enhanced pairs out to its frame outputs (``send``) at a constant rate.

    ``enhance_done`` is set once the enhancer put its last pair; the pacer then
    sends that pair (if it has not yet) and returns. Frames it sends carry
    ``pts`` = tick index in ``time_base`` 1/fps and the size of the first pair.
    """

    def __init__(self, mailbox: Mailbox, enhance_done: threading.Event, live: LiveSection, camera: str,
                 out_bits: int, metrics: CameraMetrics, send: Callable[[OutFrame], None]) -> None:
        self.mailbox, self.enhance_done, self.live, self.camera = mailbox, enhance_done, live, camera
        self.out_bits, self.metrics, self.send = out_bits, metrics, send

    def wait_first(self) -> tuple[Frame, YuvImage] | None:
        """The first enhanced pair, or None when the camera ended without one."""
        while True:
            _, item = self.mailbox.peek()
            if item is not None or self.enhance_done.wait(FIRST_PAIR_POLL_S):
                return item if item is not None else self.mailbox.peek()[1]

    def run(self, item: tuple[Frame, YuvImage], fps: Fraction) -> None:
        """Emit at ``fps`` from the first pair ``item`` until the enhancer is done and its last pair went out."""
        size = (item[1].width, item[1].height)
        interval = 1.0 / float(fps)
        time_base = Fraction(1) / fps
        start = time.monotonic()
        last_fresh_at = start
        no_signal: YuvImage | None = None
        tick = 0
        sequence = -1                     # the first tick shows the first frame as new
        while True:
            now = time.monotonic()
            newest_sequence, newest = self.mailbox.take()
            fresh = newest_sequence != sequence
            if fresh:
                sequence, item, last_fresh_at = newest_sequence, newest, now
            elif self.enhance_done.is_set():
                break                                # the source ended or stopped, and its last frame went out
            frame, enhanced = item
            kind = "out" if fresh else "repeated"
            if not fresh and self.live.on_signal_loss == "no_signal" and now - last_fresh_at > self.live.signal_loss_after_s:
                no_signal = no_signal or no_signal_picture(size, self.camera, self.out_bits)
                enhanced, kind = no_signal, "no_signal"
            picture = resize_image(enhanced, size)
            out = Frame(image=picture, pts=tick, time_base=time_base, index=tick, display_size=size, tags=frame.tags,
                        arrival_s=frame.arrival_s)
            self.send(OutFrame(out, resize_image(frame.image, size), fresh))
            self._count(kind)
            # Next tick on the wall clock; ticks already missed are skipped, not emitted late.
            tick += 1
            due = start + tick * interval
            behind = time.monotonic() - due
            if behind > interval:
                skipped = math.floor(behind / interval)
                tick += skipped
                self.metrics.dropped("late", skipped)
                due = start + tick * interval
            time.sleep(max(0.0, due - time.monotonic()))

    def _count(self, kind: str) -> None:
        """out / repeated / no_signal: a repeated frame is also an "out" frame, a no-signal picture is not."""
        if kind == "no_signal":
            self.metrics.frame("no_signal")
            return
        self.metrics.frame("out")
        if kind == "repeated":
            self.metrics.frame("repeated")
