"""stream.heap: glibc keeps frame-sized blocks in the heap once the CLI has started."""

from __future__ import annotations

import ctypes.util
import platform
import subprocess
import sys
import textwrap

import pytest

import stream.heap as heap

GLIBC = platform.libc_ver()[0] == "glibc"

# Each round holds four 8 MB blocks (1080p float planes, as one frame's work does) and frees them.
# By default the heap hands the 32 MB back (above its 16 MB trim threshold) and the next round's
# pages are faulted in afresh (measured: ~1,450 faults a round here, 73,000 in all); with the
# thresholds set they stay in the heap (1,450 in all: the first round's).
SCRIPT = textwrap.dedent("""
    import resource, sys
    import numpy as np
    if sys.argv[1] == "set":
        from stream.heap import keep_frame_buffers_in_heap
        assert keep_frame_buffers_in_heap()
    np.ones(1 << 20)                                   # numpy's own start-up allocations first
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(50):
        planes = [np.ones((1080, 1920), np.float32) for _ in range(4)]
        del planes
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
""")


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_frame_sized_blocks_stop_faulting_in_pages_once_set():
    faults = {mode: int(subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True,
                                       check=True).stdout) for mode in ("default", "set")}
    assert faults["default"] > 20_000                      # rounds fault their pages in again
    assert faults["set"] < faults["default"] / 10          # about the first round's only


def test_without_glibc_nothing_is_set(monkeypatch):
    heap.keep_frame_buffers_in_heap.cache_clear()
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    try:
        assert heap.keep_frame_buffers_in_heap() is False
    finally:
        heap.keep_frame_buffers_in_heap.cache_clear()


def test_the_command_line_sets_it(monkeypatch):
    calls = []
    monkeypatch.setattr("stream.cli.keep_frame_buffers_in_heap", lambda: calls.append(1) or True)
    from stream.cli import main

    assert main(["doctor"]) == 0 and calls == [1]


def test_the_offline_job_sets_it_before_its_threads_start(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr("stream.pipeline.keep_frame_buffers_in_heap", lambda: calls.append(1) or True)
    from stream.errors import NocturneError
    from stream.pipeline import VideoJob
    from stream.config import OfflineConfig

    with pytest.raises(NocturneError):                     # a missing input: it is set before anything else
        VideoJob(tmp_path / "missing.mp4", tmp_path / "o.mp4", OfflineConfig())
    assert calls == [1]

