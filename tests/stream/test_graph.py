"""The streaming graph: order, flushing, error propagation, stop, queue policies."""

from __future__ import annotations

import threading
import time

import pytest

from stream.graph import BoundedQueue, Graph


class Recorder:
    """A sink that records what it got and how often it was closed."""

    def __init__(self, fail_at: int | None = None, delay_s: float = 0.0) -> None:
        self.items: list = []
        self.closed = 0
        self.fail_at = fail_at
        self.delay_s = delay_s

    def write(self, item) -> None:
        if self.fail_at is not None and len(self.items) == self.fail_at:
            raise OSError(28, "No space left on device")
        time.sleep(self.delay_s)
        self.items.append(item)

    def close(self) -> None:
        self.closed += 1


class Double:
    name = "double"

    def process(self, item):
        return [item * 2]

    def flush(self):
        return ["flushed"]


class Explode:
    name = "explode"

    def __init__(self, at: int) -> None:
        self.at = at

    def process(self, item):
        if item == self.at:
            raise RuntimeError(f"stage failed at {item}")
        return [item]

    def flush(self):
        return []


def run_with_timeout(graph: Graph, timeout_s: float = 20.0):
    """Run in a thread so a hang fails the test instead of freezing the suite."""
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("report", graph.run()), daemon=True)
    thread.start()
    thread.join(timeout_s)
    assert not thread.is_alive(), "the graph hung"
    return result["report"]


def test_items_flow_in_order_and_stages_flush():
    sink = Recorder()
    report = run_with_timeout(Graph(lambda: iter(range(50)), [Double(), Double()], sink, queue_size=2))
    assert sink.items == [4 * i for i in range(50)] + ["flushedflushed", "flushed"]
    assert (report.items_out, report.error, report.stopped_early, sink.closed) == (52, None, False, 1)


def test_slow_sink_with_tiny_queues_drops_nothing():
    sink = Recorder(delay_s=0.001)
    report = run_with_timeout(Graph(lambda: iter(range(200)), [Double()], sink, queue_size=1))
    assert sink.items[:-1] == [2 * i for i in range(200)]
    assert report.dropped == 0


@pytest.mark.parametrize("where", ["source", "stage", "sink"])
def test_error_reaches_the_runner_and_the_sink_is_closed(where):
    def source():
        for i in range(1000):
            if where == "source" and i == 10:
                raise ValueError("damaged at 10")
            yield i

    stages = [Explode(at=10)] if where == "stage" else [Double()]
    sink = Recorder(fail_at=10 if where == "sink" else None)
    report = run_with_timeout(Graph(source, stages, sink, queue_size=2))
    expected = {"source": ValueError, "stage": RuntimeError, "sink": OSError}[where]
    assert isinstance(report.error, expected)
    assert sink.closed == 1, "the output is finalised even after a failure"
    assert len(sink.items) < 1000


def test_request_stop_finishes_what_was_read():
    sink = Recorder()
    graph = Graph(lambda: iter(range(10_000)), [Double()], sink, queue_size=2)

    def source():
        for i in range(10_000):
            if i == 20:
                graph.request_stop()
            yield i

    graph.source = source
    report = run_with_timeout(graph)
    assert report.stopped_early and report.error is None
    assert sink.closed == 1
    values = [x for x in sink.items if x != "flushed"]
    assert values == [2 * i for i in range(len(values))], "nothing read was lost or reordered"
    assert 20 <= len(values) < 10_000
    assert sink.items[-1] == "flushed", "stages were flushed after the stop"


def test_latest_queue_drops_oldest_and_counts():
    abort = threading.Event()
    queue = BoundedQueue(2, policy="latest")
    for i in range(5):
        assert queue.put(i, abort)
    assert queue.dropped == 3
    assert [queue.get(abort), queue.get(abort)] == [3, 4]


def test_unknown_queue_policy():
    with pytest.raises(ValueError, match="policy"):
        BoundedQueue(2, policy="random")


def test_an_interrupt_in_the_sink_thread_stops_every_stage():
    """KeyboardInterrupt raised while writing (no signal handler installed) must not leave threads behind."""
    class InterruptingSink:
        def __init__(self):
            self.closed = 0

        def write(self, item):
            if item == 5:
                raise KeyboardInterrupt

        def close(self):
            self.closed += 1

    sink = InterruptingSink()
    graph = Graph(lambda: iter(range(100_000)), [], sink, queue_size=2)
    report = graph.run()
    assert isinstance(report.error, KeyboardInterrupt)          # handed to the caller, who re-raises it
    assert sink.closed == 1
    assert not [t for t in threading.enumerate() if t.name == "source"], "source thread left running"
