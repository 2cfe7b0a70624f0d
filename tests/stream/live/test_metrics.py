"""Camera metrics read back from the registry; the documented labels are the emitted ones."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import stream.live
from stream.live import metrics as metrics_module
from stream.live.metrics import LiveMetrics


class FakeClock:
    """A monotonic clock the test moves by hand: the fps windows no longer depend on sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_input_rate_drops_to_zero_while_the_camera_is_away():
    metrics = LiveMetrics()
    clock = FakeClock()
    camera = metrics.camera("gate", clock=clock)
    camera.connected(True)
    for _ in range(30):
        camera.frame("in")
        clock.now += 0.04                     # 25 fps for over a second: the rate window closes
    assert 24 < camera.snapshot()["fps_in"] < 27           # 26 events in the 1 s window: both ends count
    camera.connected(False)
    snapshot = camera.snapshot()
    assert snapshot["fps_in"] == 0 and snapshot["connected"] == 0 and snapshot["frames_in"] == 30


def test_the_rate_waits_for_a_whole_window():
    metrics = LiveMetrics()
    clock = FakeClock()
    camera = metrics.camera("gate", clock=clock)
    for _ in range(10):
        camera.frame("out")
        clock.now += 0.05                     # 0.45 s between the first and the last: no window closed yet
    assert camera.snapshot()["fps_out"] == 0
    for _ in range(12):
        camera.frame("out")
        clock.now += 0.05
    assert 19 < camera.snapshot()["fps_out"] < 22


def _documented_drop_places() -> set[str]:
    """The ``where`` labels the metrics module's docstring lists for nocturne_dropped_frames_total."""
    line = re.search(r"nocturne_dropped_frames_total\{camera,where\}\s+(.+)", metrics_module.__doc__).group(1)
    places = {re.sub(r"\s*\(.*\)", "", part).strip() for part in line.split(",")}
    return {place.replace("<name>", "") for place in places}      # output:<name> → the "output:" prefix


def _emitted_drop_places() -> set[str]:
    """The ``where`` labels the live code passes to ``CameraMetrics.dropped``: literal strings, or the
    literal start of an f-string (``output:``)."""
    places = set()
    for path in Path(stream.live.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "dropped"
                    and node.args):
                where = node.args[0]
                if isinstance(where, ast.Constant):
                    places.add(where.value)
                elif isinstance(where, ast.JoinedStr) and isinstance(where.values[0], ast.Constant):
                    places.add(where.values[0].value)
                else:
                    raise AssertionError(f"{path.name}:{node.lineno}: a drop place that is not spelled out")
    return places


def test_every_documented_drop_place_is_emitted_and_no_other():
    assert _documented_drop_places() == {"source", "enhance", "output:", "late"}
    assert _emitted_drop_places() == _documented_drop_places()
