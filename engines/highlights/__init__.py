"""Blown highlights recovered from an adaptively chosen past frame (see ``recovery``)."""

from engines.highlights.recovery import HighlightRecovery, HighlightStats
from engines.highlights.stage import HighlightsRecovered, Unchanged, highlight_stats

__all__ = ["HighlightRecovery", "HighlightStats", "HighlightsRecovered", "Unchanged", "highlight_stats"]
