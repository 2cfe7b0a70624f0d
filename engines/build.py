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

from engines.curve_enhancer import CurveEnhancer
from engines.enhancer import Enhancer, Unchanged
from engines.errors import ModelNotAvailableError
from engines.highlights.network import open_fusion
from engines.highlights.recovery import HighlightRecovery
from engines.highlights.stage import HighlightsRecovered
from engines.restorer import RestoreEnhancer
from engines.runtimes import Runtime
from engines.spec import NO_MODEL, EnhancerSpec, HighlightSpec
from engines.temporal import TemporalDenoiser, TemporallyDenoised

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
