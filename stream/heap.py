"""Frame-sized buffers stay in the process's heap instead of being mapped and unmapped per frame.

Every frame makes and frees a few arrays of its own size (planes, float
intermediates, remap tables: 1–25 MB at 720p–1080p). glibc's ``malloc`` serves
blocks above its mmap threshold (128 kB, raised only as far as the largest block
freed so far) with a fresh ``mmap`` and returns them with ``munmap``: the kernel
then zero-fills every page again on first touch, for every array of every frame.
Measured on the default path at 720p (2-core machine), that page traffic took
about a third of the enhancer's time.

``keep_frame_buffers_in_heap`` raises the threshold to glibc's ceiling (32 MiB on
64-bit, so anything up to a 1080p float R'G'B' picture comes from the heap) and
lets the heap keep up to ``TRIM_THRESHOLD`` of freed memory instead of handing it
back after each frame. Setting one of the two switches off glibc's dynamic
threshold, so both are set together (the trim threshold alone made it *slower*:
every block above 128 kB was mapped again). And every thread allocates from the
main arena (``M_ARENA_MAX`` 1): the graph's decode, enhance and encode threads
otherwise get arenas of their own, heaps of at most 64 MiB that are given back
page by page as they shrink, which a 1080p frame's working set churns through.
The cost is memory the process keeps at its high-water mark rather than
returning between frames, and one lock for the few large allocations a frame
makes (Python's small objects do not go through malloc's arenas).

Measured on the default path (2-core machine), the in-process graph (``VideoJob``), medians of
three runs: 720p 43 → 60 fps; 1080p 24 → 34 fps (26–28 with the thresholds alone). ``nocturne
bench`` before and after, alternated: docs/performance.md.

The CLI calls it first thing; ``VideoJob`` and ``LiveService`` call it too (it runs once), so
whatever runs the product's graphs in-process — the tools, an embedding application — gets the
same setting before its threads start. Only glibc has ``mallopt``; elsewhere (musl, macOS) this
does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1            # mallopt parameters, from glibc's <malloc.h>
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD = 32 << 20        # DEFAULT_MMAP_THRESHOLD_MAX on 64-bit: mallopt refuses more
TRIM_THRESHOLD = 256 << 20       # freed memory the heap may keep before returning it to the OS
ARENAS = 1                       # every thread allocates from the main arena (measured: 2 and 4 were slower)


@functools.cache
def keep_frame_buffers_in_heap() -> bool:
    """Set glibc's mmap and trim thresholds and its arena count for frame-sized buffers, once per process.

    Call it before the threads start (arenas are given to threads as they first allocate).
    Returns whether all three were set (False without glibc, or if it refused).
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):          # not glibc: no mallopt to call
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    done = all(mallopt(parameter, value) == 1 for parameter, value in (
        (M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, TRIM_THRESHOLD), (M_ARENA_MAX, ARENAS)))
    if not done:
        log.debug("mallopt refused the frame-buffer thresholds; frames are allocated as glibc decides")
    return done
