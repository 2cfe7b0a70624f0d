"""One output in its own thread behind its own queue, so a slow or broken output holds no other back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from stream.graph import END, BoundedQueue
from stream.live.encoded import GopQueue, LivePacket, SharedEncode
from stream.live.metrics import CameraMetrics
from stream.live.output import OutFrame, Output
from stream.live.summary import CameraSummary


class OutputWorker:
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

    def put(self, item: OutFrame | LivePacket) -> None:
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
