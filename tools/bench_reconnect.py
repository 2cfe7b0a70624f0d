"""How soon frames flow again after an RTSP camera comes back: the stand-in camera killed and restarted.

    python -m tools.bench_reconnect [--away 1.5,3,6] [--load 0]

``tools/rtsp_camera.py`` (GStreamer's RTSP server, a keyframe every half
second) feeds a ``LiveSource`` with the default live settings; the camera is
killed, stays away for each ``--away`` seconds, and is started again. The
figure is the time from the camera listening again to nocturne's next decoded
frame: the last backoff wait, the connection, the probe and the first
keyframe. ``--load N`` runs N busy processes meanwhile, as a loaded machine.
Prints one table. (The live tests assert the issue's bound, < 2 s.)
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import threading
import time

from stream.config import LiveSection
from stream.live.reconnect import LiveSource
from stream.uri import parse_source
from tools.rtsp_camera import CameraProcess, free_port

FIRST_FRAMES = 15                 # frames to see before the first kill: the source is really up


def _busy() -> None:
    while True:
        pass


def measure(away_s: list[float]) -> list[float]:
    """Seconds from each return of the camera to the next frame, one per ``away_s``."""
    camera = CameraProcess(free_port())
    camera.start()
    arrivals: list[float] = []
    source = LiveSource(parse_source(camera.url), LiveSection(), on_event=lambda message: None)
    stop = threading.Event()

    def read() -> None:
        for _ in source.frames(stop):
            arrivals.append(time.monotonic())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        _wait(lambda: len(arrivals) >= FIRST_FRAMES, 30, "no frames from the stand-in camera")
        results = []
        for away in away_s:
            camera.kill()
            time.sleep(away)
            seen = len(arrivals)
            back_at = camera.start()
            _wait(lambda: len(arrivals) > seen, 30, "no frames after the camera came back")
            results.append(arrivals[seen] - back_at)
            time.sleep(1.0)                          # frames flowing before the next drop
        return results
    finally:
        stop.set()
        camera.kill()


def _wait(condition, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(message)
        time.sleep(0.005)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--away", default="1.5,3,6", help="seconds the camera stays away, comma-separated")
    parser.add_argument("--load", type=int, default=0, help="busy processes running meanwhile")
    args = parser.parse_args()
    away = [float(v) for v in args.away.split(",")]
    busy = [multiprocessing.Process(target=_busy, daemon=True) for _ in range(args.load)]
    for process in busy:
        process.start()
    try:
        results = measure(away)
    finally:
        for process in busy:
            process.terminate()
    live = LiveSection()
    print(f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, {args.load} busy processes; backoff "
          f"{live.reconnect.initial_s:g} s doubling to {live.reconnect.max_s:g} s")
    print("| away | frames again after the camera's return |")
    print("|---:|---:|")
    for seconds, delay in zip(away, results):
        print(f"| {seconds:g} s | {delay:.2f} s |")


if __name__ == "__main__":
    main()
