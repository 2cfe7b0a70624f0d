"""Prometheus metrics of a live run (prometheus_client), one registry per process, no globals.

Every series is labelled by ``camera`` (the configured name, never the URL:
URLs may hold credentials). Times are seconds; lumas are 0..1 (black..white).

    nocturne_stage_seconds{camera,stage}          histogram: decode, enhance, output:encode (the shared encode), output:<name>
    nocturne_latency_seconds{camera,output}       histogram: a frame's decode → its write to that output
    nocturne_frames_total{camera,kind}            in, enhanced, out, repeated, no_signal
    nocturne_dropped_frames_total{camera,where}   source, enhance, output:<name>, late (pacer ticks missed)
    nocturne_reconnects_total{camera,target}      target: source, or the output that reconnected
    nocturne_source_connected{camera}             1 while frames arrive
    nocturne_fps{camera,direction}                in / out, over the last second or so
    nocturne_mean_luma{camera,side}               before / after the enhancement
    nocturne_clipped_share{camera}                share of output luma at or above 98 % of white
    nocturne_flicker{camera}                      exponential mean of |Δ after − Δ before| of the mean luma
                                                  between consecutive frames: brightness changes the
                                                  enhancement adds (0 = none)

Drops by ``where``, one per latest-wins hand-over: ``source`` the queue of
decoded frames, ``enhance`` enhanced pictures the next one replaced in the
mailbox before the pacer took them (``stream.live.mailbox``), ``output:<name>``
an output's queue; ``late`` counts pacer ticks missed, not frames.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    start_http_server,
)

_LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0)
_STAGE_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.04, 0.06, 0.1, 0.2, 0.5, 1.0, 2.0)
FLICKER_MEMORY = 0.9        # weight of the past in the flicker mean (about 10 frames)


class LiveMetrics:
    """The metric families of one process; ``camera(name)`` gives a camera's handle on them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.stage_seconds = Histogram("nocturne_stage_seconds", "Time per frame in a stage", ["camera", "stage"],
                                       buckets=_STAGE_BUCKETS, registry=r)
        self.latency_seconds = Histogram("nocturne_latency_seconds", "From a frame's decode to its write",
                                         ["camera", "output"], buckets=_LATENCY_BUCKETS, registry=r)
        self.frames = Counter("nocturne_frames", "Frames by what happened to them", ["camera", "kind"], registry=r)
        self.dropped = Counter("nocturne_dropped_frames", "Frames dropped by latest-wins queues",
                               ["camera", "where"], registry=r)
        self.reconnects = Counter("nocturne_reconnects", "Reconnection attempts", ["camera", "target"], registry=r)
        self.connected = Gauge("nocturne_source_connected", "1 while the camera delivers frames", ["camera"],
                               registry=r)
        self.fps = Gauge("nocturne_fps", "Frames per second, in and out", ["camera", "direction"], registry=r)
        self.luma = Gauge("nocturne_mean_luma", "Mean luma 0..1, before and after", ["camera", "side"], registry=r)
        self.clipped = Gauge("nocturne_clipped_share", "Share of output luma at or above 98 % of white", ["camera"],
                             registry=r)
        self.flicker = Gauge("nocturne_flicker", "Mean-luma changes the enhancement adds between frames",
                             ["camera"], registry=r)
        self._server = None

    def camera(self, name: str, clock: Callable[[], float] = time.monotonic) -> CameraMetrics:
        """A camera's handle; ``clock`` (seconds, monotonic) times its fps windows (tests pass their own)."""
        return CameraMetrics(self, name, clock)

    def serve(self, host: str, port: int) -> None:
        """Expose ``/metrics`` on ``host:port`` (a daemon thread); ``close()`` stops it."""
        self._server, _thread = start_http_server(port, addr=host, registry=self.registry)

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def value(self, name: str, labels: dict[str, str]) -> float:
        """Current value of one sample (0 when it has none yet), e.g. for the preview page."""
        return self.registry.get_sample_value(name, labels) or 0.0


@dataclass
class _RateMeter:
    """Events per second over windows of about ``window_s``."""

    window_s: float = 1.0
    count: int = 0
    start: float | None = None

    def tick(self, now: float) -> float | None:
        """Count one event; the rate when a window closes, else None."""
        if self.start is None:
            self.start = now
        self.count += 1
        elapsed = now - self.start
        if elapsed < self.window_s:
            return None
        rate = self.count / elapsed
        self.count, self.start = 0, now
        return rate


class CameraMetrics:
    """One camera's series. Methods are called from the camera's threads (prometheus_client is thread-safe).

    ``clock`` gives the seconds (monotonic) that the fps gauges are measured on.
    """

    def __init__(self, metrics: LiveMetrics, name: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.metrics, self.name, self._clock = metrics, name, clock
        self._rates = {"in": _RateMeter(), "out": _RateMeter()}
        self._previous_luma: tuple[float, float] | None = None
        self._flicker = 0.0
        metrics.connected.labels(name).set(0)

    def frame(self, kind: str) -> None:
        self.metrics.frames.labels(self.name, kind).inc()
        if kind in self._rates:                            # "in" and "out" also feed the fps gauges
            rate = self._rates[kind].tick(self._clock())
            if rate is not None:
                self.metrics.fps.labels(self.name, kind).set(rate)

    def stage(self, stage: str, seconds: float) -> None:
        self.metrics.stage_seconds.labels(self.name, stage).observe(seconds)

    def latency(self, output: str, seconds: float) -> None:
        self.metrics.latency_seconds.labels(self.name, output).observe(seconds)

    def dropped(self, where: str, count: int = 1) -> None:
        if count > 0:
            self.metrics.dropped.labels(self.name, where).inc(count)

    def reconnect(self, target: str = "source") -> None:
        self.metrics.reconnects.labels(self.name, target).inc()

    def connected(self, up: bool) -> None:
        self.metrics.connected.labels(self.name).set(1 if up else 0)
        if not up:
            self._previous_luma = None      # the next frame starts a new flicker history
            # The input rate only updates when frames arrive: without this it would show the last
            # rate for as long as the camera stays away.
            self._rates["in"] = _RateMeter()
            self.metrics.fps.labels(self.name, "in").set(0)

    def quality(self, luma_before: float, luma_after: float, clipped_share: float) -> None:
        """Record a frame's mean lumas (0..1) and clipped share; updates the flicker mean."""
        m = self.metrics
        m.luma.labels(self.name, "before").set(luma_before)
        m.luma.labels(self.name, "after").set(luma_after)
        m.clipped.labels(self.name).set(clipped_share)
        if self._previous_luma is not None:
            added = abs((luma_after - self._previous_luma[1]) - (luma_before - self._previous_luma[0]))
            self._flicker = FLICKER_MEMORY * self._flicker + (1.0 - FLICKER_MEMORY) * added
            m.flicker.labels(self.name).set(self._flicker)
        self._previous_luma = (luma_before, luma_after)

    def count(self, family: str, **labels: str) -> int:
        """A counter's value for this camera, e.g. ``count("nocturne_frames_total", kind="in")``."""
        return int(self.metrics.value(family, {"camera": self.name, **labels}))

    def dropped_total(self, excluding: str = "") -> int:
        """Frames dropped anywhere in this camera, but at ``excluding`` (a ``where`` label)."""
        return int(sum(s.value for s in _samples(self.metrics, {"nocturne_dropped_frames_total"}, self.name)
                       if s.labels.get("where") != excluding))

    def snapshot(self) -> dict[str, float]:
        """Plain numbers for the preview page (read back from the registry: one source of truth)."""
        v, n = self.metrics.value, self.name
        sums = {"nocturne_latency_seconds_sum": 0.0, "nocturne_latency_seconds_count": 0.0}
        for sample in _samples(self.metrics, set(sums), n):
            sums[sample.name] += sample.value
        latency_sum, latency_count = sums.values()
        return {
            "connected": v("nocturne_source_connected", {"camera": n}),
            "fps_in": v("nocturne_fps", {"camera": n, "direction": "in"}),
            "fps_out": v("nocturne_fps", {"camera": n, "direction": "out"}),
            "frames_in": v("nocturne_frames_total", {"camera": n, "kind": "in"}),
            "frames_out": v("nocturne_frames_total", {"camera": n, "kind": "out"}),
            "dropped": self.dropped_total(),
            "reconnects": v("nocturne_reconnects_total", {"camera": n, "target": "source"}),
            "latency_ms": 1000.0 * latency_sum / latency_count if latency_count else 0.0,
            "luma_before": v("nocturne_mean_luma", {"camera": n, "side": "before"}),
            "luma_after": v("nocturne_mean_luma", {"camera": n, "side": "after"}),
            "clipped_share": v("nocturne_clipped_share", {"camera": n}),
            "flicker": v("nocturne_flicker", {"camera": n}),
        }


def _samples(metrics: LiveMetrics, sample_names: set[str], camera: str):
    """This camera's samples named in ``sample_names``, from one pass over the registry."""
    for family in metrics.registry.collect():
        for sample in family.samples:
            if sample.name in sample_names and sample.labels.get("camera") == camera:
                yield sample
