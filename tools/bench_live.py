"""Latency nocturne adds on a live RTSP feed: the fast model beside a pass-through peer, same run.

    python -m tools.bench_live [--seconds 8] [--sizes 640x360,1280x720] [--fps 25] [--preset veryfast]

A GStreamer RTSP server on loopback plays a camera (H.264, zero-latency x264,
a keyframe every half second); nocturne reads it, enhances, and serves the
result over RTSP while a viewer watches it (so the encode and the server are
really exercised). Latency added = decode time + decode → the encoded picture
handed to the RTSP server (nocturne's one shared encode included), per frame,
from nocturne's own clock. The bound the issue sets is one frame interval (the
pacer's wait) plus the model's time; the ``--model none`` row is the peer:
everything but the model. Prints one table.
"""

from __future__ import annotations

import argparse
import platform
import threading
import time

import av
import numpy as np

from stream.config import load_live_config
from stream.live.rtsp_server import RtspServer
from stream.live.service import LiveService


def camera_launch(width: int, height: int, fps: int) -> str:
    """A live moving pattern, a keyframe every half second (so a reconnect is quick), as RTP H.264."""
    return (f"( videotestsrc is-live=true pattern=ball ! video/x-raw,width={width},height={height},framerate={fps}/1 "
            f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={max(1, fps // 2)} "
            f"! rtph264pay name=pay0 pt=96 config-interval=1 )")


def watch(url: str, stop: threading.Event) -> None:
    """A viewer of nocturne's restream (frames are decoded and dropped)."""
    while not stop.is_set():
        try:
            with av.open(url, options={"rtsp_transport": "tcp"}, timeout=(5, 5)) as container:
                for _ in container.decode(video=0):
                    if stop.is_set():
                        return
        except av.error.FFmpegError:
            time.sleep(0.2)


def run_case(model: str, size: tuple[int, int], fps: int, seconds: float, ports: tuple[int, int],
             preset: str | None = None) -> dict:
    camera_port, serve_port = ports
    camera = RtspServer("127.0.0.1", camera_port)
    camera.mount_launch("/cam", camera_launch(*size, fps))
    config = load_live_config(None, source=f"rtsp://127.0.0.1:{camera_port}/cam",
                              outputs=[f"rtsp://@127.0.0.1:{serve_port}/out"],
                              overrides={"enhance.model": model, "live.fps": fps,
                                         **({"encode.preset": preset} if preset else {})})
    service = LiveService(config, lambda cam, message: None)
    stop = threading.Event()
    viewer = threading.Thread(target=watch, args=(f"rtsp://127.0.0.1:{serve_port}/out", stop), daemon=True)
    viewer.start()
    try:
        (summary,) = service.run(duration_s=seconds)
    finally:
        stop.set()
        camera.close()
    metrics = service.metrics
    labels = {"camera": "cam0"}
    decode_s = _mean(metrics, "decode", labels)
    enhance_s = _mean(metrics, "enhance", labels)
    latencies = np.array(summary.latencies_s) + decode_s
    return {"model": model, "size": f"{size[0]}x{size[1]}", "fps": fps, "in": summary.frames_in / seconds,
            "dropped": summary.dropped + summary.late, "median": float(np.median(latencies)),
            "p95": float(np.percentile(latencies, 95)), "model_ms": enhance_s * 1000,
            "encode_ms": _mean(metrics, "output:encode", labels) * 1000,
            "bound": 1.0 / fps + enhance_s}


def _mean(metrics, stage: str, labels: dict) -> float:
    total = metrics.value("nocturne_stage_seconds_sum", {**labels, "stage": stage})
    count = metrics.value("nocturne_stage_seconds_count", {**labels, "stage": stage})
    return total / count if count else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--sizes", default="640x360,1280x720")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--base-port", type=int, default=18554)
    parser.add_argument("--preset", help="x264 preset of nocturne's encode (default: the config's, veryfast)")
    args = parser.parse_args()
    rows = []
    port = args.base_port
    for text in args.sizes.split(","):
        size = tuple(int(v) for v in text.split("x"))
        for model in ("none", "fast"):
            rows.append(run_case(model, size, args.fps, args.seconds, (port, port + 1), args.preset))
            port += 2
    print(f"machine: {platform.processor() or platform.machine()}, {_cores()} cores; fps {args.fps}, "
          f"{args.seconds:g} s per row; preset {args.preset or 'of the config'}; "
          "latency = decode + decode→encoded picture at the RTSP server")
    print("| model | size | frames in per s | dropped + late | added latency median | p95 | model time | encode time "
          "| bound (1 frame + model) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['model']} | {r['size']} | {r['in']:.1f} | {r['dropped']} | {1000 * r['median']:.0f} ms | "
              f"{1000 * r['p95']:.0f} ms | {r['model_ms']:.0f} ms | {r['encode_ms']:.0f} ms | {1000 * r['bound']:.0f} ms |")


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


if __name__ == "__main__":
    main()
