"""The streaming graph: a source, transform stages and a sink, in threads.

    source thread ──queue──▶ stage thread ──queue──▶ … ──queue──▶ sink (caller's thread)

Queues are bounded. Offline, a full queue blocks its producer (backpressure:
no frame is ever dropped); live sources use ``latest`` queues that drop the
oldest frame instead and count it. Lifecycle: ``run()`` starts everything and
returns when the end marker has flowed through every stage and the sink is
closed; ``request_stop()`` (safe from a signal handler) makes the source stop
reading, after which the same flush happens, so the output is finalised.
Any thread's exception is recorded, stops the source, and the rest of the
graph drains and closes; ``run()`` then returns it in the report.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

_END = object()
END = _END           # what ``BoundedQueue.get`` returns once its abort event is set and nothing is left
_POLL_S = 0.1


class Stage(Protocol):
    """A transform: zero or more outputs per input, more at the end (``flush``)."""

    name: str

    def process(self, item: Any) -> Iterable[Any]: ...

    def flush(self) -> Iterable[Any]: ...


class Sink(Protocol):
    def write(self, item: Any) -> None: ...

    def close(self) -> None: ...


class BoundedQueue:
    """A bounded FIFO with a policy for when it is full.

    ``block``: the producer waits (offline). ``latest``: the oldest item is
    dropped to make room (live), counted in ``dropped`` and told to ``on_drop``
    (called in the producer's thread). The end marker is never dropped.
    """

    def __init__(self, maxsize: int, policy: str = "block", on_drop: Callable[[], None] | None = None) -> None:
        if policy not in ("block", "latest"):
            raise ValueError(f"unknown queue policy {policy!r}")
        self._queue: queue.Queue = queue.Queue(maxsize)
        self.policy = policy
        self.dropped = 0
        self.on_drop = on_drop

    def put(self, item: Any, abort: threading.Event) -> bool:
        """Put ``item``; False if the graph aborted while waiting (then consumers stop on their own)."""
        while True:
            if self.policy == "latest" and item is not _END and self._queue.full():
                try:
                    self._queue.get_nowait()
                    self.dropped += 1
                    if self.on_drop is not None:
                        self.on_drop()
                except queue.Empty:
                    pass
            try:
                self._queue.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                if abort.is_set():
                    return False

    def get(self, abort: threading.Event) -> Any:
        """Next item; the end marker once the graph aborted and nothing is left to drain."""
        while True:
            try:
                return self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                if abort.is_set():
                    return _END


@dataclass
class RunReport:
    """What a run did. ``error`` is the first exception any stage raised."""

    items_out: int = 0
    elapsed_s: float = 0.0
    stopped_early: bool = False
    error: BaseException | None = None
    dropped: int = 0


class Graph:
    """Wire ``source`` → ``stages`` → ``sink`` and run them. One run per instance."""

    def __init__(self, source: Callable[[], Iterator[Any]], stages: list[Stage], sink: Sink,
                 queue_size: int = 8, policy: str = "block") -> None:
        self.source = source
        self.stages = stages
        self.sink = sink
        self.queues = [BoundedQueue(queue_size, policy) for _ in range(len(stages) + 1)]
        self._stop = threading.Event()      # stop reading, then flush normally
        self._abort = threading.Event()     # something failed: drain fast
        self._errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._stopped_early = False         # the source broke off on request before its end
        self.closing = False                # the sink is being closed: an interrupt now would cost the file

    def request_stop(self) -> None:
        """Ask the source to stop; everything read so far is processed and written."""
        self._stop.set()

    def run(self, on_written: Callable[[Any], None] | None = None) -> RunReport:
        start = time.perf_counter()
        threads = [threading.Thread(target=self._run_source, name="source", daemon=True)]
        for i, stage in enumerate(self.stages):
            threads.append(threading.Thread(target=self._run_stage, args=(stage, i), name=stage.name, daemon=True))
        for thread in threads:
            thread.start()
        report = RunReport()
        try:
            self._run_sink(report, on_written)
        except BaseException:
            self._abort.set()          # e.g. KeyboardInterrupt in the caller's thread: stop every stage
            raise
        finally:
            for thread in threads:
                thread.join()
        report.elapsed_s = time.perf_counter() - start
        report.stopped_early = self._stopped_early
        report.error = self._errors[0] if self._errors else None
        report.dropped = sum(q.dropped for q in self.queues)
        return report

    def _fail(self, error: BaseException) -> None:
        with self._lock:
            self._errors.append(error)
        self._abort.set()

    def _run_source(self) -> None:
        out = self.queues[0]
        try:
            for item in self.source():
                if self._stop.is_set() or self._abort.is_set():
                    self._stopped_early = self._stop.is_set()
                    break
                if not out.put(item, self._abort):
                    break
        except BaseException as error:  # noqa: BLE001 — handed to the runner, never swallowed
            self._fail(error)
        finally:
            out.put(_END, self._abort)

    def _run_stage(self, stage: Stage, index: int) -> None:
        inbox, out = self.queues[index], self.queues[index + 1]
        failed = False
        while True:
            item = inbox.get(self._abort)
            if item is _END:
                break
            if failed or self._abort.is_set():
                continue                      # drain so upstream never blocks
            try:
                for result in stage.process(item):
                    out.put(result, self._abort)
            except BaseException as error:  # noqa: BLE001
                failed = True
                self._fail(error)
        try:
            if not failed:
                for result in stage.flush():
                    out.put(result, self._abort)
        except BaseException as error:  # noqa: BLE001
            self._fail(error)
        finally:
            out.put(_END, self._abort)

    def _run_sink(self, report: RunReport, on_written: Callable[[Any], None] | None) -> None:
        inbox = self.queues[-1]
        failed = False
        try:
            while True:
                item = inbox.get(self._abort)
                if item is _END:
                    break
                if failed:
                    continue
                try:
                    self.sink.write(item)
                    report.items_out += 1
                    if on_written is not None:
                        on_written(item)
                except BaseException as error:  # noqa: BLE001
                    failed = True
                    self._fail(error)
        finally:
            self.closing = True
            try:
                self.sink.close()
            except BaseException as error:  # noqa: BLE001
                self._fail(error)
