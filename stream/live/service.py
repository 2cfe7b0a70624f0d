"""``nocturne live``: every configured camera in one process, the metrics endpoint, shutdown.

``LiveService(config)`` builds everything (a mistake in any camera's source,
outputs or settings raises before anything runs), ``run(duration_s)`` starts
the cameras and returns when the duration is over, ``request_stop()`` was
called (SIGINT/SIGTERM), or every camera ended (files and patterns end, a
camera that gave up ends). Outputs are always finalised.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from engines.runtimes import RuntimeChoice, select_runtime
from stream.config import LiveConfig, RuntimeSection
from stream.errors import OutputError
from stream.heap import keep_frame_buffers_in_heap
from stream.live.camera import Camera
from stream.live.metrics import LiveMetrics
from stream.live.servers import SharedServers
from stream.live.summary import CameraSummary
from stream.pipeline import make_enhancer

FINALISE_TIMEOUT_S = 15.0          # how long a stop waits for outputs to flush and close


class LiveService:
    def __init__(self, config: LiveConfig, on_event: Callable[[str, str], None]) -> None:
        keep_frame_buffers_in_heap()         # before the cameras' threads start (stream.heap); once per process
        self.config = config
        self.metrics = LiveMetrics()
        self.servers = SharedServers()
        # One runtime per distinct runtime section: cameras may ask for different backends or devices.
        self.choices: dict[RuntimeSection, RuntimeChoice] = {}
        for camera in config.cameras:
            if camera.runtime not in self.choices:
                section = camera.runtime
                self.choices[section] = select_runtime(section.backend, section.device, section.threads)
        self._stop = threading.Event()
        self.closing = False            # outputs are being finalised: a second Ctrl-C must not cut them
        self.cameras: list[Camera] = []
        try:
            if config.metrics:
                host, port = config.metrics.rsplit(":", 1)
                try:
                    self.metrics.serve(host or "127.0.0.1", int(port))
                except OSError as error:
                    raise OutputError(f"metrics cannot listen on {config.metrics}: {error.strerror}") from None
            # Every model is opened before any camera touches GStreamer: exporting a model to ONNX (first
            # use, empty cache) after GStreamer's libraries were loaded aborted the process here.
            enhancers = [make_enhancer(camera, self.choices[camera.runtime])[0] for camera in config.cameras]
            for camera, enhancer in zip(config.cameras, enhancers):
                self.cameras.append(Camera(camera, enhancer, self.metrics.camera(camera.name), self.servers,
                                           on_event))
        except BaseException:
            self.close()
            raise

    @property
    def preview_urls(self) -> list[str]:
        return [server.url for server in self.servers.previews.values()]

    def request_stop(self, signal_number: int | None = None) -> None:
        """Stop every camera (safe from a signal handler); ``run`` then finalises and returns. The signal
        is not kept: a stop is a live run's normal end (exit code 0), unlike an offline job's."""
        self._stop.set()

    def run(self, duration_s: float | None = None) -> list[CameraSummary]:
        for camera in self.cameras:
            camera.start()
        deadline = None if duration_s is None else time.monotonic() + duration_s
        try:
            while not self._stop.is_set() and not all(c.finished for c in self.cameras):
                if deadline is not None and time.monotonic() >= deadline:
                    break
                self._stop.wait(0.1)
        finally:
            self.closing = True
            for camera in self.cameras:
                camera.stop()
            end = time.monotonic() + FINALISE_TIMEOUT_S
            for camera in self.cameras:
                camera.join(max(0.0, end - time.monotonic()))
            self.close()
        return [camera.summary for camera in self.cameras]

    def close(self) -> None:
        self.servers.close()
        self.metrics.close()
