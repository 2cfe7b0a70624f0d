"""Camera metrics read back from the registry."""

from __future__ import annotations

import time

from stream.live.metrics import LiveMetrics


def test_the_input_rate_drops_to_zero_while_the_camera_is_away():
    metrics = LiveMetrics()
    camera = metrics.camera("gate")
    camera.connected(True)
    for _ in range(30):
        camera.frame("in")
        time.sleep(0.04)                      # over a second of frames: the rate window closes
    assert camera.snapshot()["fps_in"] > 10
    camera.connected(False)
    snapshot = camera.snapshot()
    assert snapshot["fps_in"] == 0 and snapshot["connected"] == 0 and snapshot["frames_in"] == 30
