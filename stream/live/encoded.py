"""One encode per camera, shared by every output that muxes it (recordings, RTSP publish and serve, HLS).

    pacer ──latest(q)──▶ SharedEncode (x264, once) ──gop(q)──▶ recording
                                                   ├─gop(q)──▶ RTSP publish
                                                   ├─gop(q)──▶ RTSP serve (GStreamer packetises)
                                                   └─gop(q)──▶ HLS

Encoding is the dear part of an output (a 720p x264 frame costs as much as a
small model); muxing is cheap. A muxer that falls behind cannot drop single
packets as the frame outputs do — the pictures after a dropped one would not
decode — so its ``GopQueue`` drops whole groups of pictures: once it holds more
than ``max_span_s`` of video, everything queued goes and packets are skipped
until the next keyframe.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from stream.config import EncodeSection, LiveSection
from stream.encode import EncodedPacket, EncoderSettings, PacketEncoder
from stream.graph import END

FINISH_TIMEOUT_S = 15.0          # how long closing waits for the muxers to write what they hold
ARRIVALS_KEPT = 256              # pictures inside the encoder whose arrival time is remembered


@dataclass(frozen=True)
class LivePacket:
    """What a muxing output is handed: one packet, the encoder's stream (``PacketSink``'s template)
    and, for a fresh picture, the monotonic time it arrived from the camera (else None)."""

    packet: EncodedPacket
    template: Any
    latency_from: float | None


class PacketOutput(Protocol):
    """An output that muxes the camera's shared encode (see ``stream.live.muxing_outputs``).

    Two optional members let an output that is not always listening save work:
    ``idle`` (True while it wants no packets: a served mount nobody watches) and
    ``wants_keyframe()`` (True once when a viewer arrived: the next picture is
    then encoded as a keyframe, so the viewer's picture starts at once).
    """

    name: str

    def write(self, item: LivePacket) -> None: ...

    def close(self) -> None: ...


class GopQueue:
    """A FIFO of ``LivePacket`` that drops whole GOPs when its consumer falls behind.

    ``put`` never blocks. When the queued packets span more than ``max_span_s``
    of video, all of them are dropped and later packets too, until a keyframe
    arrives; every dropped packet is told to ``on_drop``. The end marker is
    never dropped. Same ``put``/``get`` interface as ``stream.graph.BoundedQueue``.
    """

    def __init__(self, max_span_s: float, on_drop: Callable[[], None] = lambda: None) -> None:
        self.max_span_s, self.on_drop = max_span_s, on_drop
        self._items: collections.deque = collections.deque()
        self._ready = threading.Condition()
        self._waiting_for_keyframe = False
        self.dropped = 0

    def put(self, item: LivePacket | object, abort: threading.Event | None = None) -> bool:
        with self._ready:
            if item is not END:
                packet = item.packet
                if self._waiting_for_keyframe and not packet.keyframe:
                    self._drop(1)
                    return True
                self._waiting_for_keyframe = False
                if self._items and self._span_s(packet) > self.max_span_s:
                    ends = [i for i in self._items if i is END]
                    self._drop(len(self._items) - len(ends))
                    self._items = collections.deque(ends)
                    if not packet.keyframe:
                        self._waiting_for_keyframe = True
                        self._drop(1)
                        return True
            self._items.append(item)
            self._ready.notify()
        return True

    def get(self, abort: threading.Event, poll_s: float = 0.05) -> LivePacket | object:
        """The next item; ``END`` once ``abort`` is set and nothing is queued."""
        with self._ready:
            while not self._items:
                if abort.is_set():
                    return END
                self._ready.wait(poll_s)
            return self._items.popleft()

    def _span_s(self, newest: EncodedPacket) -> float:
        oldest = next((i.packet for i in self._items if i is not END), None)
        if oldest is None or newest.pts is None or oldest.pts is None:
            return 0.0
        return float((newest.pts - oldest.pts) * newest.time_base)

    def _drop(self, count: int) -> None:
        self.dropped += count
        for _ in range(count):
            self.on_drop()


class PacketSinkWorker(Protocol):
    """Where ``SharedEncode`` hands packets: a worker thread's queue (``stream.live.output_worker``)."""

    output: PacketOutput
    failed: bool
    thread: threading.Thread

    def put(self, item: LivePacket) -> None: ...

    def finish(self) -> None: ...


def live_encoder_settings(encode: EncodeSection, live: LiveSection, fps: float) -> EncoderSettings:
    """The encode section for live use: a keyframe every ``keyint_s``, zero-latency tuning (no B-frames,
    no lookahead, slice threads)."""
    return EncoderSettings(**encode.model_dump(), gop=max(1, round(live.keyint_s * fps)), tune="zerolatency")


class SharedEncode:
    """A frame output that encodes each picture once and hands the packets to every muxing output.

    The encoder opens at the first picture with ``encode`` and ``live``'s
    keyframe interval at the pictures' rate (the pacer's ``time_base`` is
    1/fps); ``workers`` each run one ``PacketOutput``. ``close``
    flushes the encoder, lets every worker finish what it holds, and only then
    frees the encoder: its stream is the template a late ``PacketSink`` (the
    next segment, a reconnected server) is still built from.

    While every output is idle (or has failed) nothing is encoded; the first
    picture after that is a keyframe.
    """

    name = "encode"

    def __init__(self, encode: EncodeSection, live: LiveSection, workers: list[PacketSinkWorker]) -> None:
        self.encode, self.live, self.workers = encode, live, workers
        self._encoder: PacketEncoder | None = None
        self._keyframe_next = False
        self.skipped = 0                 # pictures not encoded because nobody wanted them
        self._arrivals: dict[int, float | None] = {}     # pts → when that picture arrived, until its packet is out

    def write(self, item) -> None:
        outputs = [worker.output for worker in self.workers if not worker.failed]
        if all(getattr(output, "idle", False) for output in outputs):
            self._keyframe_next = True
            self.skipped += 1
            return
        asked = [getattr(output, "wants_keyframe", lambda: False)() for output in outputs]   # each request is taken
        frame = item.frame
        if self._encoder is None:
            rate = 1 / frame.time_base
            settings = live_encoder_settings(self.encode, self.live, float(rate))
            self._encoder = PacketEncoder(settings, time_base=frame.time_base, rate=rate)
        self._arrivals[frame.pts] = item.latency_from
        self._hand_out(self._encoder.encode(frame, keyframe=self._keyframe_next or any(asked)))
        self._keyframe_next = False

    def close(self) -> None:
        try:
            if self._encoder is not None:
                self._hand_out(self._encoder.flush())
        finally:
            for worker in self.workers:
                worker.finish()
            deadline = time.monotonic() + FINISH_TIMEOUT_S
            for worker in self.workers:
                worker.thread.join(max(0.0, deadline - time.monotonic()))
            stuck = [worker.output.name for worker in self.workers if worker.thread.is_alive()]
            if stuck:
                # Their PacketSink may still read the encoder's stream: leave it to the process's end.
                raise RuntimeError(f"{', '.join(stuck)} did not finish within {FINISH_TIMEOUT_S:g} s")
            if self._encoder is not None:
                self._encoder.close()

    def _hand_out(self, packets: list[EncodedPacket]) -> None:
        for packet in packets:
            # A packet carries the arrival time of its own picture (by pts), whatever the encoder's delay.
            latency_from = self._arrivals.pop(packet.pts, None)
            live = LivePacket(packet, self._encoder.template, latency_from)
            for worker in self.workers:
                worker.put(live)
        if len(self._arrivals) > ARRIVALS_KEPT:          # pictures the encoder dropped or merged: forget them
            for pts in sorted(self._arrivals)[:-ARRIVALS_KEPT]:
                del self._arrivals[pts]
