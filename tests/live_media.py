"""Helpers of the live tests: a stand-in RTSP camera in its own process, free loopback ports."""

from __future__ import annotations

import select
import socket
import subprocess
import sys
import time
from pathlib import Path

CAMERA_SCRIPT = Path(__file__).resolve().parent / "rtsp_camera.py"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RtspCamera:
    """``tests/rtsp_camera.py`` as a process: ``start()``, ``kill()`` (the camera drops off), ``start()`` again."""

    def __init__(self, port: int, *args: str) -> None:
        self.port, self.args = port, args
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"

    def start(self, timeout: float = 20.0) -> float:
        """Start serving; returns ``time.monotonic()`` at which it listens."""
        # stderr is not read by anyone: a pipe could fill with GStreamer's warnings and stall the camera.
        self.process = subprocess.Popen([sys.executable, str(CAMERA_SCRIPT), str(self.port), *self.args],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        if line.strip() != "ready":
            self.kill()
            raise RuntimeError(f"the test camera did not start within {timeout:g} s: {line!r}")
        return time.monotonic()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
