"""Blown highlights recovered from an adaptively chosen past frame (see ``recovery``)."""

from engines.highlights.recovery import HighlightRecovery, HighlightStats
from engines.highlights.stage import HighlightsRecovered, highlight_stats

__all__ = ["HighlightRecovery", "HighlightStats", "HighlightsRecovered", "highlight_stats"]
