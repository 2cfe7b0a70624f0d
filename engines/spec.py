"""What one stream's enhancer should do, as plain data (``engines.build`` turns it into stages).

Kept apart from ``build`` so that reading a config costs no imports of OpenCV or the runtimes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

NO_MODEL = "none"


@dataclass(frozen=True)
class HighlightSpec:
    """Highlight recovery's settings (``engines.highlights``).

    Attributes:
        buffer: K, past frames kept as candidates (thumbnails), ≥ 2.
        full_frames: how many of them keep their full picture, ≥ 1.
        fusion: ``classical`` (exposure-matched feathered transfer) or ``network`` (the trained FusionNet).
    """

    buffer: int = 12
    full_frames: int = 3
    fusion: Literal["classical", "network"] = "classical"


@dataclass(frozen=True)
class EnhancerSpec:
    """What one stream's enhancer does.

    Attributes:
        model: a shipped model's name (``fast``, ``quality``) or ``none``.
        strength: 0 (frames untouched) … 1 (full enhancement).
        denoise: 0 keeps every grain … 1 removes noise fully; the restoration network's
            conditioning and the temporal denoiser's strength.
        temporal: whether the temporal denoiser runs (video; single photos need none).
        smoothing_s: curves only: time constant of their temporal average, seconds.
        estimate_every: curves only: the network runs on every n-th frame (and at every cut).
        highlights: highlight recovery's settings, or None to leave it out.
    """

    model: str = "fast"
    strength: float = 1.0
    denoise: float = 0.5
    temporal: bool = True
    smoothing_s: float = 0.2
    estimate_every: int = 2
    highlights: HighlightSpec | None = None

    @property
    def runs_temporal(self) -> bool:
        """The temporal stage runs unless asked not to, or with nothing to do: ``denoise`` 0;
        ``strength`` 0, which promises untouched frames; ``none``, which changes nothing but highlights."""
        return self.temporal and self.model != NO_MODEL and self.denoise > 0.0 and self.strength > 0.0
