"""What a camera did, for the final line of ``nocturne live`` and for tests."""

from __future__ import annotations

import collections

import numpy as np

from stream.live.metrics import CameraMetrics

LATENCY_SAMPLES = 2000           # recent latencies kept for the summary's percentiles


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
                       doc="frames dropped at the latest-wins hand-overs: the source queue, the enhancer's "
                           "mailbox (replaced before the pacer took them) and the outputs' queues")
    reconnects = property(lambda self: self._metrics.count("nocturne_reconnects_total", target="source"))

    def latency_percentile(self, q: float) -> float | None:
        """The q-th percentile (0..100) of recent decode→write latencies, seconds."""
        return float(np.percentile(list(self.latencies_s), q)) if self.latencies_s else None
