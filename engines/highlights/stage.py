"""Highlight recovery as an enhancer: after the low-light model (or alone), before temporal denoising."""

from __future__ import annotations

from dataclasses import dataclass

from engines.enhancer import Enhancer
from engines.highlights.recovery import HighlightRecovery, HighlightStats
from engines.image import YuvImage


@dataclass
class HighlightsRecovered:
    """``inner`` (a low-light enhancer, or ``Unchanged``) followed by ``HighlightRecovery``; an ``Enhancer``."""

    inner: Enhancer
    recovery: HighlightRecovery

    @property
    def stats(self) -> object:
        return self.inner.stats if self.inner.stats is not None else self.recovery.stats

    def enhance(self, image: YuvImage, time_s: float | None = None, out_bits: int | None = None) -> YuvImage:
        return self.recovery(image, self.inner.enhance(image, time_s, out_bits))

    def reset(self) -> None:
        self.inner.reset()
        self.recovery.reset()


def highlight_stats(enhancer: object) -> HighlightStats | None:
    """The ``HighlightStats`` of a composed enhancer (wrappers expose ``inner``), or None without the stage."""
    while enhancer is not None:
        if isinstance(enhancer, HighlightsRecovered):
            return enhancer.recovery.stats
        enhancer = getattr(enhancer, "inner", None)
    return None
