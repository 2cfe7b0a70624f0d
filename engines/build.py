"""One stream's enhancer, built from a model spec: which stages, in which order.

``build_enhancer(spec, runtime)`` is the only place that knows how stages
compose. The order is fixed:

    low-light model (curves | restoration network | none)
      → highlight recovery (optional: it needs the model's output to fill into)
      → temporal denoiser (last, so it smooths the highlight fill over time too)

The low-light stage is chosen by the model's *architecture* (from the registry),
not its name, so a retrained model under another name is run the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engines.curve_enhancer import CurveEnhancer
from engines.enhancer import Enhancer, Unchanged
from engines.errors import ModelNotAvailableError
from engines.highlights.network import open_fusion
from engines.highlights.recovery import HighlightRecovery
from engines.highlights.stage import HighlightsRecovered
from engines.restorer import RestoreEnhancer
from engines.runtimes import Runtime
from engines.temporal import TemporalDenoiser, TemporallyDenoised

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


def build_enhancer(spec: EnhancerSpec, runtime: Runtime) -> Enhancer:
    """The enhancer of ``spec``, its networks opened on ``runtime``; one per stream."""
    enhancer = low_light_enhancer(spec, runtime)
    if spec.highlights is not None:
        enhancer = HighlightsRecovered(enhancer, highlight_recovery(spec.highlights, runtime))
    if spec.runs_temporal:
        enhancer = TemporallyDenoised(enhancer, TemporalDenoiser(strength=spec.denoise))
    return enhancer


def low_light_enhancer(spec: EnhancerSpec, runtime: Runtime) -> Enhancer:
    """The model stage alone: curves for a CurveNet, restoration for a RestoreNet, ``Unchanged`` for ``none``."""
    if spec.model == NO_MODEL:
        return Unchanged()
    estimator = runtime.open(spec.model)
    architecture = estimator.info.architecture
    if architecture == "RestoreNet":
        return RestoreEnhancer(estimator, denoise=spec.denoise, strength=spec.strength)
    if architecture == "CurveNet":
        return CurveEnhancer(estimator, strength=spec.strength, smoothing_s=spec.smoothing_s,
                             iterations=estimator.info.iterations, estimate_every=spec.estimate_every)
    raise ModelNotAvailableError(f"model {spec.model!r} is a {architecture}, not a low-light model")


def highlight_recovery(spec: HighlightSpec, runtime: Runtime) -> HighlightRecovery:
    """The per-stream recovery stage, its fusion network (if asked for) on ``runtime``."""
    fuse = open_fusion(runtime) if spec.fusion == "network" else None
    return HighlightRecovery(capacity=spec.buffer, full_frames=spec.full_frames, fuse=fuse)
