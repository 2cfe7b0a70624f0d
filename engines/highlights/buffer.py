"""The per-stream reference buffer: the last K frames, kept cheaply.

Every frame leaves a thumbnail (long side 160 px, R'G'B' float32, about
170 KB) and two figures. Full pictures — the only thing a fill can be made
from — are kept for at most ``full_frames`` entries: those least clipped
(newest first among equals), because a frame clipped where the current one is
clipped cannot help. The chosen reference is *pinned*: it stays, full
picture included, after it leaves the last-K window, until the selector lets
it go. Memory is therefore bounded by K thumbnails + (full_frames + 1)
decoded pictures (4:2:0 8-bit: 1.4 MB at 720p, 3.1 MB at 1080p).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from engines.highlights.align import luma_linear, to_linear
from engines.highlights.mask import measurable
from engines.image import YuvImage


@dataclass
class Entry:
    """One past frame.

    Attributes:
        index: frame number in the stream (0-based, counted by the recovery stage).
        rgb: thumbnail, (h, w, 3) float32 R'G'B' in [0, 1].
        clipped: (h, w) float32 clipping mask of the thumbnail (``clipped_any``).
        clipped_share: share of thumbnail pixels more than half clipped.
        image: the decoded picture, or None once dropped to save memory.
    """

    index: int
    rgb: np.ndarray
    clipped: np.ndarray
    clipped_share: float
    image: YuvImage | None = field(default=None, repr=False)

    # Worked out once per frame, not once per frame it is compared with (up to K of them).
    @cached_property
    def luma(self) -> np.ndarray:
        """(h, w) float32 linear luminance of the thumbnail."""
        return luma_linear(to_linear(self.rgb))

    @cached_property
    def measurable(self) -> np.ndarray:
        """(h, w) bool: where the thumbnail is neither clipped nor too dark to compare exposures."""
        return measurable(self.rgb)


class ReferenceBuffer:
    """Last ``capacity`` entries plus a pinned reference; not thread-safe (one stream, one thread)."""

    def __init__(self, capacity: int = 12, full_frames: int = 3) -> None:
        if capacity < 1 or full_frames < 1:
            raise ValueError(f"buffer needs capacity ≥ 1 and full_frames ≥ 1, got {capacity}, {full_frames}")
        self.capacity = capacity
        self.full_frames = full_frames
        self._recent: deque[Entry] = deque(maxlen=capacity)
        self.pinned: Entry | None = None

    def __len__(self) -> int:
        return len(self._recent)

    def push(self, entry: Entry) -> None:
        """Add the newest frame (with its picture) and drop pictures beyond the budget."""
        self._recent.append(entry)
        keep = sorted((e for e in self._recent if e.image is not None),
                      key=lambda e: (e.clipped_share, -e.index))[: self.full_frames]
        kept = {id(e) for e in keep}
        for e in self._recent:
            if e.image is not None and id(e) not in kept and e is not self.pinned:
                e.image = None

    def pin(self, entry: Entry | None) -> None:
        """Make ``entry`` the reference (None: no reference); the previous one is released."""
        old, self.pinned = self.pinned, entry
        if old is not None and old is not entry and all(e is not old for e in self._recent):
            old.image = None          # out of the window: nothing holds its picture any more

    def candidates(self) -> list[Entry]:
        """Entries a fill can be made from (picture kept), the pinned one included, newest first."""
        found = [e for e in reversed(self._recent) if e.image is not None]
        if self.pinned is not None and self.pinned.image is not None and all(e is not self.pinned for e in found):
            found.append(self.pinned)
        return found

    def flush(self) -> None:
        """Forget everything (scene cut, size change, new stream)."""
        self._recent.clear()
        self.pinned = None

    def pictures_held(self) -> int:
        """How many full pictures are in memory (for tests of the bound)."""
        return len(self.candidates())
