"""One live camera: source → enhance → pacer → outputs, each in its own thread.

    source ──latest(q)──▶ enhance ──mailbox──▶ pacer (wall clock, fps) ──latest(q)──▶ frame output …
    (reconnects)                                 │ repeat / "no signal"   ──latest(q)──▶ shared encode
                                                                              ──gop(q)──▶ muxing output …

Frame outputs (the preview, null) take pictures; recordings, RTSP publish and
serve, and HLS take the packets of one encode shared by all of them
(``stream.live.encoded``).

Latency stays bounded because every hand-over keeps only the newest frames:
the source queue and each output's queue drop their oldest, and the pacer
takes only the newest enhanced pair at each tick (``stream.live.mailbox``); a
pair replaced before the pacer took it is dropped too. Every drop is counted
(``nocturne_dropped_frames_total{where=source|enhance|output:NAME}``). The
pacer (``stream.live.pacer``) emits at a constant rate on the monotonic clock
whatever the camera does.

The pieces: ``stream.live.reconnect`` (the source), ``stream.live.mailbox``,
``stream.live.pacer``, ``stream.live.output_worker`` (one thread per output),
``stream.live.summary`` (what the camera did).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from engines.enhancer import Enhancer
from engines.image import YuvImage
from stream.config import CameraConfig, LiveSection
from stream.encode import EncoderSettings
from stream.errors import SourceError
from stream.graph import END, BoundedQueue
from stream.live.encoded import GopQueue, SharedEncode
from stream.live.mailbox import Mailbox
from stream.live.metrics import CameraMetrics
from stream.live.output import OutFrame, Output, OutputContext
from stream.live.output_worker import OutputWorker
from stream.live.outputs import open_output
from stream.live.pacer import Pacer
from stream.live.reader import Reader
from stream.live.reconnect import LiveSource
from stream.live.servers import SharedServers
from stream.live.sources import open_reader
from stream.live.summary import CameraSummary
from stream.pacing import frame_rate
from stream.uri import SourceSpec, parse_output, parse_source

RESET_AFTER_GAP_S = 1.0          # a longer gap between frames starts the enhancer's temporal state afresh
_LUMA_STEP = 8                   # quality gauges read every 8th pixel of every 8th row
PACKET_BACKLOG_S = 2.0           # how far a muxing output may fall behind before whole GOPs are dropped


class Camera:
    """A camera's threads and state. ``start()``, then ``stop()`` (idempotent), ``join()``.

    Construction parses the source and outputs, binds servers and checks paths,
    so every user mistake surfaces before anything runs. ``enhancer`` is this
    camera's own (``pipeline.make_enhancer``): its state is the camera's.
    """

    def __init__(self, config: CameraConfig, enhancer: Enhancer, metrics: CameraMetrics,
                 servers: SharedServers, on_event: Callable[[str, str], None],
                 reader_factory: Callable[[SourceSpec, LiveSection], Reader] = open_reader,
                 extra_outputs: tuple[Output, ...] = ()) -> None:
        """``reader_factory`` opens one connection to the source; ``extra_outputs`` are outputs built by the
        caller (an embedding application, the tests) beside the configured ones."""
        self.config, self.metrics, self.name = config, metrics, config.name
        self.live = config.live
        self.spec = parse_source(config.source)
        self.output_specs = [parse_output(uri) for uri in config.outputs]
        self._event = lambda message: on_event(self.name, message)
        self.summary = CameraSummary(self.name, metrics)
        self.enhancer = enhancer
        self.out_bits = EncoderSettings(**config.encode.model_dump()).bit_depth
        self.context = OutputContext(config.name, config.encode, config.live, self._event,
                                     on_reconnect=lambda target: metrics.reconnect(target), servers=servers)
        self.outputs = [open_output(spec, self.context, metrics.snapshot) for spec in self.output_specs]
        self.outputs += list(extra_outputs)
        muxing = [o for o in self.outputs if getattr(o, "encoded", False)]
        self._packet_workers = [self._worker(o, GopQueue(PACKET_BACKLOG_S, self._drop_counter(o))) for o in muxing]
        frame_outputs: list[Output] = [o for o in self.outputs if o not in muxing]
        if muxing:
            frame_outputs.append(SharedEncode(config.encode, config.live, self._packet_workers))
        self.source = LiveSource(self.spec, config.live, on_event=self._event, on_connected=metrics.connected,
                                 on_retry=lambda: metrics.reconnect("source"), reader_factory=reader_factory)
        self._stop = threading.Event()
        self._decoded = BoundedQueue(config.live.queue_size, "latest", on_drop=lambda: metrics.dropped("source"))
        # An enhanced pair the pacer never took was dropped at the enhancer's hand-over: counted like the others.
        self._newest = Mailbox(on_drop=lambda: metrics.dropped("enhance"))
        self._halt = threading.Event()          # no more input: the source ended, gave up, or stop() was called
        self._enhance_done = threading.Event()
        self._threads = [threading.Thread(target=self._read, name=f"{self.name}:source", daemon=True),
                         threading.Thread(target=self._enhance, name=f"{self.name}:enhance", daemon=True),
                         threading.Thread(target=self._pace, name=f"{self.name}:pacer", daemon=True)]
        self._workers = [self._worker(o, BoundedQueue(config.live.queue_size, "latest", self._drop_counter(o)))
                         for o in frame_outputs]
        self._pacer = Pacer(self._newest, self._enhance_done, config.live, self.name, self.out_bits, metrics,
                            send=self._send)

    def _worker(self, output: Output, queue: BoundedQueue | GopQueue) -> OutputWorker:
        return OutputWorker(output, queue, self.metrics, self.summary, self._event)

    def _drop_counter(self, output: Output) -> Callable[[], None]:
        return lambda: self.metrics.dropped(f"output:{output.name}")

    @property
    def _all_threads(self) -> list[threading.Thread]:
        """What must end for the camera to have finished: all but the source, and every output."""
        return self._threads[1:] + [w.thread for w in self._workers + self._packet_workers]

    # Lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        for thread in self._threads[:1] + self._all_threads:
            thread.start()

    def stop(self) -> None:
        """Stop reading; what was read goes out and the outputs are finalised (``join`` waits for it)."""
        self._stop.set()
        self._halt.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the pacer and the outputs; True when everything has finished."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._all_threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return self.finished

    @property
    def finished(self) -> bool:
        return not any(t.is_alive() for t in self._all_threads)

    # Threads -----------------------------------------------------------------------------------

    def _read(self) -> None:
        try:
            for frame in self.source.frames(self._stop):
                self.metrics.frame("in")
                self.metrics.stage("decode", frame.decode_s)
                self._decoded.put(frame, self._stop)
        except SourceError as error:
            self.summary.error = str(error)
            self._event(f"gave up: {error}")
        except Exception as error:  # noqa: BLE001 — reported, and the camera ends cleanly
            self.summary.error = f"source failed: {type(error).__name__}: {error}"
            self._event(self.summary.error)
        finally:
            self._halt.set()

    def _enhance(self) -> None:
        last_arrival: float | None = None
        try:
            while True:
                frame = self._decoded.get(self._halt)      # drains what is queued, then END
                if frame is END:
                    break
                if last_arrival is not None and frame.arrival_s - last_arrival > RESET_AFTER_GAP_S:
                    self.enhancer.reset()
                last_arrival = frame.arrival_s
                started = time.perf_counter()
                enhanced = self.enhancer.enhance(frame.image, float(frame.time), self.out_bits)
                self.metrics.stage("enhance", time.perf_counter() - started)
                self.metrics.frame("enhanced")
                self._record_quality(frame.image, enhanced)
                self._newest.put(frame, enhanced)
        except Exception as error:  # noqa: BLE001
            self.summary.error = f"enhancement failed: {type(error).__name__}: {error}"
            self._event(self.summary.error)
            self.stop()
        finally:
            self._enhance_done.set()

    def _record_quality(self, before: YuvImage, after: YuvImage) -> None:
        luma_before, luma_after = _luma_sample(before), _luma_sample(after)
        self.metrics.quality(_mean(luma_before), _mean(luma_after), float(np.mean(luma_after >= 0.98)))

    def _pace(self) -> None:
        """Emit at the output rate until the source is done and its last frame went out."""
        first = self._pacer.wait_first()
        if first is not None:
            try:
                # The rate is read only now: a GStreamer source knows it from its first frame.
                self._pacer.run(first, frame_rate(self.live.fps or self.source.nominal_fps or 25.0))
            except Exception as error:  # noqa: BLE001
                self.summary.error = f"pacer failed: {type(error).__name__}: {error}"
                self._event(self.summary.error)
        for worker in self._workers:
            worker.finish()

    def _send(self, item: OutFrame) -> None:
        """Hand one paced picture to every frame output's queue (the shared encode is one of them)."""
        for worker in self._workers:
            worker.put(item)


def _luma_sample(image: YuvImage) -> np.ndarray:
    """Luma on a sparse grid, 0 (black) … 1 (white) and beyond for codes outside the nominal range."""
    black, white = image.luma_black_white()
    return (image.y[::_LUMA_STEP, ::_LUMA_STEP].astype(np.float32) - black) / (white - black)


def _mean(sample: np.ndarray) -> float:
    return float(np.clip(sample.mean(), 0.0, 1.0))
