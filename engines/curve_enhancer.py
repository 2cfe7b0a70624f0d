"""Per-stream low-light enhancer for the ``fast`` model, with its temporal state.

One ``CurveEnhancer`` per video stream (or per independent photo). Each frame:

1. make a thumbnail (``engines.thumbnail``);
2. estimate curve parameters on it (any ``AlphaEstimator``: torch, ONNX Runtime…),
   every ``estimate_every``-th frame and at every scene cut — in between the
   last estimate is reused: the curves are still applied to each frame's own
   pixels, and the temporal average (0.2 s, several frames) already spans the
   skipped estimate, so the only cost is a one-frame lag of the curve map;
3. smooth them over time so brightness does not pump: an exponential moving
   average with time constant ``smoothing_s`` measured on the frames' own
   timestamps, relaxed per thumbnail pixel where the content changed (so moving
   things do not drag old curves along), and reset at scene cuts;
4. apply them at full resolution (``engines.curve_apply``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from engines.curve_apply import apply_curve_maps
from engines.curves import DEFAULT_ITERATIONS, chroma_gain
from engines.image import YuvImage
from engines.thumbnail import Thumbnail, make_thumbnail

# A scene cut: mean absolute luma change of the thumbnail, relative to the mean
# luma of the two thumbnails. A pan in a dark street stays far below 0.5; a cut
# or a light switched on is far above.
SCENE_CUT_RELATIVE_CHANGE = 0.5
# Per-pixel luma change (in [0, 1] units) at which the temporal average is fully
# relaxed toward the new estimate.
MOTION_SCALE = 0.08
DEFAULT_FRAME_INTERVAL_S = 1.0 / 30.0


class AlphaEstimator(Protocol):
    """Maps thumbnails (N, 3, h, w) float32 R'G'B' in [0, 1] to alpha maps (N, 1, h, w) in [-1, 1]."""

    def __call__(self, rgb: np.ndarray) -> np.ndarray: ...


@dataclass
class EnhancerStats:
    """What the last frame did; read by the runner for summaries and metrics."""

    frames: int = 0
    scene_cuts: int = 0
    last_scene_cut: bool = False
    mean_alpha: float = 0.0
    mean_luma_in: float = 0.0


@dataclass
class CurveEnhancer:
    """Stateful per-stream enhancer. Not thread-safe: one stream, one thread.

    Attributes:
        estimator: the curve-parameter network behind any runtime.
        strength: 0 leaves frames untouched, 1 applies the model fully.
        smoothing_s: time constant of the temporal average, in seconds; 0 disables it.
        iterations: curve iterations the model was trained with.
        estimate_every: run the estimator on every n-th frame (1 = every frame).
    """

    estimator: AlphaEstimator
    strength: float = 1.0
    smoothing_s: float = 0.2
    iterations: int = DEFAULT_ITERATIONS
    estimate_every: int = 1
    stats: EnhancerStats = field(default_factory=EnhancerStats)
    _previous_y: np.ndarray | None = field(default=None, repr=False)   # last thumbnail luma (not the frame)
    _alpha: np.ndarray | None = field(default=None, repr=False)
    _time_s: float | None = field(default=None, repr=False)
    _estimate: np.ndarray | None = field(default=None, repr=False)
    _since_estimate: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"strength must be in [0, 1], got {self.strength}")
        if self.estimate_every < 1:
            raise ValueError(f"estimate_every must be ≥ 1, got {self.estimate_every}")

    def reset(self) -> None:
        """Forget the temporal state (new scene, new stream, seek)."""
        self._previous_y = None
        self._alpha = None
        self._time_s = None
        self._estimate = None

    def enhance(self, image: YuvImage, time_s: float | None = None, out_bits: int | None = None) -> YuvImage:
        """Enhance one frame.

        Args:
            image: the decoded picture.
            time_s: its presentation time in seconds (for the smoothing's time
                constant; ``None`` assumes 30 fps spacing). Seconds as float are
                fine here: only differences of nearby frames are used.
            out_bits: output bit depth (defaults to the input's).
        """
        thumb = make_thumbnail(image)
        cut = self._is_cut(thumb)
        stale = self._estimate is None or cut or self._since_estimate + 1 >= self.estimate_every
        if stale:
            self._estimate = self.estimator(thumb.rgb[None])[0, 0].astype(np.float32)
            self._since_estimate = 0
        else:
            self._since_estimate += 1
        alpha = self._smooth(thumb, self._estimate, time_s, cut)
        alpha_used = alpha * np.float32(self.strength)
        gain = chroma_gain(thumb.y, alpha_used, self.iterations).astype(np.float32)
        self.stats.frames += 1
        self.stats.mean_alpha = float(alpha_used.mean())
        self.stats.mean_luma_in = float(thumb.y.mean())
        return apply_curve_maps(image, alpha_used, gain, out_bits, self.iterations)

    def _is_cut(self, thumb: Thumbnail) -> bool:
        previous = self._previous_y
        return previous is not None and (
            previous.shape != thumb.y.shape or _relative_change(previous, thumb.y) > SCENE_CUT_RELATIVE_CHANGE)

    def _smooth(self, thumb: Thumbnail, estimate: np.ndarray, time_s: float | None, cut: bool) -> np.ndarray:
        previous, self._previous_y = self._previous_y, thumb.y
        last_time, self._time_s = self._time_s, time_s
        self.stats.last_scene_cut = cut
        self.stats.scene_cuts += int(cut)
        if previous is None or cut or self._alpha is None or self.smoothing_s <= 0:
            self._alpha = estimate
            return estimate
        dt = DEFAULT_FRAME_INTERVAL_S
        if time_s is not None and last_time is not None and time_s > last_time:
            dt = time_s - last_time
        keep = math.exp(-dt / self.smoothing_s)
        # Where the content moved, trust the new estimate: keep → 0 with the change.
        change = np.abs(thumb.y - previous)
        keep_map = keep * np.exp(-np.square(change / MOTION_SCALE))
        self._alpha = (keep_map * self._alpha + (1.0 - keep_map) * estimate).astype(np.float32)
        return self._alpha


def _relative_change(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean() / (0.5 * (a.mean() + b.mean()) + 0.02))
