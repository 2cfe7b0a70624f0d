"""A stand-in IP camera: GStreamer's RTSP server serving an H.264 test pattern, in its own process.

    python tools/rtsp_camera.py PORT [--path /cam] [--user U --password P] [--size 320x180] [--fps 15]

Prints ``ready`` once it listens, then serves until killed. It runs as its own
process so that it can be killed (a camera dropping off the network) and
started again on the same port (the camera coming back): ``CameraProcess``
does that for the live tests and ``tools.bench_reconnect``.
"""

from __future__ import annotations

import argparse
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stream.live.rtsp_server import RtspServer  # noqa: E402
from tools.bench_live import camera_launch  # noqa: E402 — the same camera the latency bench uses


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class CameraProcess:
    """This script as a process on ``port``: ``start()``, ``kill()`` (the camera drops off), ``start()`` again."""

    def __init__(self, port: int, *args: str) -> None:
        self.port, self.args = port, args
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"

    def start(self, timeout: float = 20.0) -> float:
        """Start serving; returns ``time.monotonic()`` at which it listens."""
        # stderr is not read by anyone: a pipe could fill with GStreamer's warnings and stall the camera.
        self.process = subprocess.Popen([sys.executable, __file__, str(self.port), *self.args],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        if line.strip() != "ready":
            self.kill()
            raise RuntimeError(f"the stand-in camera did not start within {timeout:g} s: {line!r}")
        return time.monotonic()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--path", default="/cam")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--size", default="320x180")
    parser.add_argument("--fps", type=int, default=15)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    credentials = (args.user, args.password) if args.user else None
    server = RtspServer("127.0.0.1", args.port, credentials=credentials)
    server.mount_launch(args.path, camera_launch(width, height, args.fps))
    print("ready", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    server.close()


if __name__ == "__main__":
    main()
