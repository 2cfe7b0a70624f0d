"""Progress bar (fps, ETA) and the final summary line, with rich.

Progress goes to stderr so stdout stays clean for scripts; it is hidden when
stderr is not a terminal (CI logs, pipes) unless forced.
"""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class FrameProgress:
    """A context manager: ``advance()`` once per written frame."""

    def __init__(self, label: str, total: int | None, console: Console | None = None, enabled: bool | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.enabled = self.console.is_terminal if enabled is None else enabled
        self.total = total or None
        self.count = 0
        self._start = time.perf_counter()
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[fps]:>6.1f} fps"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=self.console, transient=True, disable=not self.enabled,
        )
        self._task = self._progress.add_task(label, total=self.total, fps=0.0)

    def __enter__(self) -> "FrameProgress":
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def advance(self, _item: object = None) -> None:
        self.count += 1
        if self.total is not None and self.count > self.total:
            self.total = self.count
            self._progress.update(self._task, total=self.total)
        elapsed = time.perf_counter() - self._start
        self._progress.update(self._task, advance=1, fps=self.count / elapsed if elapsed > 0 else 0.0)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True, file=sys.stderr)
