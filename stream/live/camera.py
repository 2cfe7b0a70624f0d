"""One live camera: source → enhance → pacer → outputs, each in its own thread.

    source ──latest(q)──▶ enhance ──newest pair──▶ pacer (wall clock, fps) ──latest(q)──▶ frame output …
    (reconnects)                                     │ repeat / "no signal"   ──latest(q)──▶ shared encode
                                                                                  ──gop(q)──▶ muxing output …

Frame outputs (the preview, null) take pictures; recordings, RTSP publish and
serve, and HLS take the packets of one encode shared by all of them
(``stream.live.encoded``).

Latency stays bounded because every hand-over keeps only the newest frames:
the source queue and each output's queue drop their oldest (counted), and the
pacer takes only the newest enhanced pair at each tick. The pacer emits at a
constant rate on the monotonic clock whatever the camera does: a new frame, the
last one again, or — after ``signal_loss_after_s`` without frames and with
``on_signal_loss: no_signal`` — a "no signal" picture, so viewers and
recordings keep going while the source reconnects. Ticks the pacer misses
(an overloaded machine) are skipped, not caught up on, and counted as ``late``.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import threading
import time
from collections.abc import Callable
from fractions import Fraction

import cv2
import numpy as np

from engines.image import YuvImage, image_from_rgb, resize_image
from engines.temporal import Enhancer
from stream.config import CameraConfig, LiveSection
from stream.encode import EncoderSettings
from stream.frame import Frame
from stream.graph import END, BoundedQueue
from stream.live.encoded import GopQueue, SharedEncode
from stream.live.metrics import CameraMetrics
from stream.live.outputs import OutFrame, Output, OutputContext, SharedServers, open_output
from stream.live.reader import Reader, SourceError
from stream.live.sources import LiveSource, open_reader
from stream.pacing import frame_rate
from stream.planes import matrix_for, rgb_source_tags
from stream.uri import SourceSpec, parse_output, parse_source

RESET_AFTER_GAP_S = 1.0          # a longer gap between frames starts the enhancer's temporal state afresh
LATENCY_SAMPLES = 2000           # recent latencies kept for the summary's percentiles
_LUMA_STEP = 8                   # quality gauges read every 8th pixel of every 8th row
PACKET_BACKLOG_S = 2.0           # how far a muxing output may fall behind before whole GOPs are dropped


class CameraSummary:
    """What a camera did, for the final lines and for tests.

    The counts are read back from the camera's metrics (one source of truth);
    the summary itself keeps only what metrics cannot give: recent latencies
    for exact percentiles, and the error that ended the camera.
    """

    def __init__(self, name: str, metrics: CameraMetrics) -> None:
        self.name, self._metrics = name, metrics
        self.latencies_s: collections.deque = collections.deque(maxlen=LATENCY_SAMPLES)
        self.error: str | None = None

    frames_in = property(lambda self: self._metrics.count("nocturne_frames_total", kind="in"))
    frames_out = property(lambda self: self._metrics.count("nocturne_frames_total", kind="out"),
                          doc="new and repeated frames sent to the outputs (no-signal pictures not included)")
    repeated = property(lambda self: self._metrics.count("nocturne_frames_total", kind="repeated"))
    no_signal = property(lambda self: self._metrics.count("nocturne_frames_total", kind="no_signal"))
    late = property(lambda self: self._metrics.count("nocturne_dropped_frames_total", where="late"),
                    doc="pacer ticks skipped because the machine fell behind")
    dropped = property(lambda self: self._metrics.dropped_total(excluding="late"),
                       doc="frames dropped by the latest-wins queues (source and outputs)")
    reconnects = property(lambda self: self._metrics.count("nocturne_reconnects_total", target="source"))

    def latency_percentile(self, q: float) -> float | None:
        """The q-th percentile (0..100) of recent decode→write latencies, seconds."""
        return float(np.percentile(list(self.latencies_s), q)) if self.latencies_s else None


class _Newest:
    """A one-slot mailbox: the newest (frame, enhanced) pair and a sequence number."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._item: tuple[Frame, YuvImage] | None = None
        self.sequence = 0

    def put(self, frame: Frame, enhanced: YuvImage) -> None:
        with self._lock:
            self._item = (frame, enhanced)
            self.sequence += 1

    def get(self) -> tuple[int, tuple[Frame, YuvImage] | None]:
        with self._lock:
            return self.sequence, self._item


class _OutputWorker:
    """One output in its own thread behind its queue (latest-wins for pictures, GOP-dropping for packets);
    errors end only this output. Items have ``latency_from`` (``OutFrame``, ``LivePacket``)."""

    def __init__(self, output: Output, queue: BoundedQueue | GopQueue, metrics: CameraMetrics,
                 summary: CameraSummary, on_event: Callable[[str], None]) -> None:
        self.output, self.metrics, self.summary, self.on_event = output, metrics, summary, on_event
        self.queue = queue
        # The shared encode is a step on the way, not a destination: latency is measured where it ends.
        self.measures_latency = not isinstance(output, SharedEncode)
        self._abort = threading.Event()
        self.failed = False
        self.thread = threading.Thread(target=self._run, name=f"output:{output.name}", daemon=True)

    def put(self, item) -> None:
        if not self.failed:
            self.queue.put(item, self._abort)

    def _run(self) -> None:
        try:
            while True:
                item = self.queue.get(self._abort)
                if item is END:
                    break
                if self.failed:
                    continue
                started = time.perf_counter()
                try:
                    self.output.write(item)
                except Exception as error:  # noqa: BLE001 — one broken output must not stop the camera
                    self.failed = True
                    self.on_event(f"{self.output.name}: stopped: {error}")
                    continue
                done = time.perf_counter()
                self.metrics.stage(f"output:{self.output.name}", done - started)
                if self.measures_latency and item.latency_from is not None:
                    latency = time.monotonic() - item.latency_from
                    self.metrics.latency(self.output.name, latency)
                    self.summary.latencies_s.append(latency)
        finally:
            try:
                self.output.close()
            except Exception as error:  # noqa: BLE001
                self.on_event(f"{self.output.name}: closing failed: {error}")

    def finish(self) -> None:
        """Let the queued frames go out, then close the output."""
        self.queue.put(END, self._abort)


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
        self._newest = _Newest()
        self._halt = threading.Event()          # no more input: the source ended, gave up, or stop() was called
        self._enhance_done = threading.Event()
        self._threads = [threading.Thread(target=self._read, name=f"{self.name}:source", daemon=True),
                         threading.Thread(target=self._enhance, name=f"{self.name}:enhance", daemon=True),
                         threading.Thread(target=self._pace, name=f"{self.name}:pacer", daemon=True)]
        self._workers = [self._worker(o, BoundedQueue(config.live.queue_size, "latest", self._drop_counter(o)))
                         for o in frame_outputs]

    def _worker(self, output: Output, queue: BoundedQueue | GopQueue) -> _OutputWorker:
        return _OutputWorker(output, queue, self.metrics, self.summary, self._event)

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
        first = self._wait_first()
        if first is not None:
            try:
                self._pace_from(first)
            except Exception as error:  # noqa: BLE001
                self.summary.error = f"pacer failed: {type(error).__name__}: {error}"
                self._event(self.summary.error)
        for worker in self._workers:
            worker.finish()

    def _wait_first(self) -> tuple[Frame, YuvImage] | None:
        """The first enhanced pair, or None when the camera ended without one."""
        while True:
            _, item = self._newest.get()
            if item is not None or self._enhance_done.wait(0.01):
                return item if item is not None else self._newest.get()[1]

    def _pace_from(self, item: tuple[Frame, YuvImage]) -> None:
        fps = frame_rate(self.live.fps or self.source.nominal_fps or 25.0)
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
            newest_sequence, newest = self._newest.get()
            fresh = newest_sequence != sequence
            if fresh:
                sequence, item, last_fresh_at = newest_sequence, newest, now
            elif self._enhance_done.is_set():
                break                                # the source ended or stopped, and its last frame went out
            frame, enhanced = item
            kind = "out" if fresh else "repeated"
            if not fresh and self.live.on_signal_loss == "no_signal" and now - last_fresh_at > self.live.signal_loss_after_s:
                no_signal = no_signal or no_signal_picture(size, self.name, self.out_bits)
                enhanced, kind = no_signal, "no_signal"
            picture = resize_image(enhanced, size)
            out = Frame(image=picture, pts=tick, time_base=time_base, index=tick, display_size=size, tags=frame.tags,
                        arrival_s=frame.arrival_s)
            item_out = OutFrame(out, resize_image(frame.image, size), fresh)
            for worker in self._workers:
                worker.put(item_out)
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


def _luma_sample(image: YuvImage) -> np.ndarray:
    """Luma on a sparse grid, 0 (black) … 1 (white) and beyond for codes outside the nominal range."""
    black, white = image.luma_black_white()
    return (image.y[::_LUMA_STEP, ::_LUMA_STEP].astype(np.float32) - black) / (white - black)


def _mean(sample: np.ndarray) -> float:
    return float(np.clip(sample.mean(), 0.0, 1.0))


def no_signal_picture(size: tuple[int, int], camera: str, bits: int = 8) -> YuvImage:
    """A dark grey picture saying NO SIGNAL and the camera's name, at ``size`` (width, height)."""
    width, height = size
    rgb = np.full((height, width, 3), 40, np.uint8)
    scale = max(0.4, width / 640)
    for text, y, weight in (("NO SIGNAL", 0.48, 2.0), (camera, 0.6, 1.0)):
        (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale * weight, max(1, round(2 * scale)))
        cv2.putText(rgb, text, ((width - w) // 2, int(height * y) + h // 2), cv2.FONT_HERSHEY_SIMPLEX,
                    scale * weight, (220, 220, 220), max(1, round(2 * scale)), cv2.LINE_AA)
    image = image_from_rgb(rgb, matrix=matrix_for(rgb_source_tags(height).colorspace, height))
    if bits > 8:
        image = dataclasses.replace(image, y=image.y.astype(np.uint16) << (bits - 8),
                                    u=image.u.astype(np.uint16) << (bits - 8), v=image.v.astype(np.uint16) << (bits - 8),
                                    bit_depth=bits)
    return image
