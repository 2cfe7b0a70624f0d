"""A stand-in IP camera for the tests: GStreamer's RTSP server serving an H.264 test pattern.

    python tests/rtsp_camera.py PORT [--path /cam] [--user U --password P] [--size 320x180] [--fps 15]

Prints ``ready`` once it listens, then serves until killed. Run as its own
process so a test can kill it (a camera dropping off the network) and start it
again on the same port (the camera coming back).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stream.live.gst import RtspServer  # noqa: E402
from tools.bench_live import camera_launch  # noqa: E402 — the same camera the latency bench uses


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
