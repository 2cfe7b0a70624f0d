"""Temporal denoising: blend each output with the previous one, motion-compensated.

A recursive filter over time: ``out_t = w · warp(out_{t-1}) + (1 − w) · frame_t``.
Where the previous output, moved along the optical flow, agrees with the new
frame, averaging over frames removes noise without touching spatial detail;
where it disagrees (something moved that the flow did not follow, something
appeared — occlusion), the confidence ``w`` falls to 0 and the new frame is
taken as it is, so moving people and cars leave no ghosts.

- Flow: OpenCV DIS (ultrafast preset) on luma reduced to ``flow_width`` pixels
  wide — cheap, and the reduction averages the noise away before matching.
  ``calc(current, previous)`` gives, for each current pixel, where it was in
  the previous picture; ``cv2.remap`` pulls the previous output from there.
- Confidence: at flow resolution, ``exp(-(|current − warped previous| / τ)²)``
  (the difference box-averaged over 3×3) with τ = ``TOLERANCE`` × the current
  picture's noise σ — one figure per frame, Immerkær's estimator (a
  Laplacian-difference mask, robust to edges) — at least ``MIN_TAU`` codes:
  a difference the noise explains is averaged away, one it does not (motion
  the flow missed, occlusion) is kept. Misregistration below one flow pixel
  (4–6 px at 1080p with the default width) is not seen: fine texture that
  moves can soften slightly over time; widen ``flow_width`` for large frames.
- A scene cut (mean change of a 32-px-wide view above ``CUT_RELATIVE_CHANGE``
  of its level — noise averages out at that size) or a size change resets.

Weight 0.8 at full strength averages about nine frames in steady state (noise
σ ÷ 3). 8-bit pictures are filtered in 8 bits (fast integer paths of OpenCV),
deeper ones in float.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np

from engines.enhancer import Enhancer
from engines.image import YuvImage

MAX_WEIGHT = 0.8            # weight of the warped previous output at strength 1
# τ = TOLERANCE · σ, σ the current picture's noise at flow resolution. The compared difference is
# |current − warped previous| box-averaged over 3×3, whose pure-noise level is about 0.85 σ: a
# noise-only difference keeps ~95 % of the weight; a change of 8 σ or more (motion the flow
# missed, occlusion) drops it below 2 %. 4.0 was chosen on tools.eval_video's clips over 2.5
# (flicker of the quality model's output 0.49 instead of 0.67 of per-frame, PSNR on moving pixels
# up, not down) and confirmed on a clip not in that evaluation (parking lot: flicker 0.46 of
# per-frame, moving-pixel PSNR +1.3 dB).
TOLERANCE = 4.0
MIN_TAU = 1.5               # in 8-bit codes at flow resolution
MIN_FLOW_SIDE = 48          # flow-resolution pictures smaller or thinner than this pass untouched
MAX_FLOW_ASPECT = 6.0
CUT_WIDTH = 32
CUT_RELATIVE_CHANGE = 0.3   # as the curve enhancer's cut test: pans stay far below, cuts far above
_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


@dataclass
class TemporalStats:
    frames: int = 0
    resets: int = 0
    mean_weight: float = 0.0


@dataclass
class TemporalDenoiser:
    """Per-stream motion-compensated recursive filter on ``YuvImage`` planes. One stream, one thread.

    Attributes:
        strength: 0 (off) to 1; the largest weight of the previous output is ``MAX_WEIGHT · strength``.
        flow_width: width in pixels of the luma the flow is computed on.
    """

    strength: float = 1.0
    flow_width: int = 320
    stats: TemporalStats = field(default_factory=TemporalStats)
    _planes: list[np.ndarray] | None = field(default=None, repr=False)   # previous output (uint8, or float32 codes)
    _small: np.ndarray | None = field(default=None, repr=False)          # its reduced luma, 8-bit scale
    _layout: tuple | None = field(default=None, repr=False)               # plane shapes, depth, range
    _flow: cv2.DISOpticalFlow | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"temporal strength must be in [0, 1], got {self.strength}")

    def reset(self) -> None:
        self._planes = None
        self._small = None

    def __call__(self, image: YuvImage) -> YuvImage:
        """Filter one output picture (any depth, range, subsampling); returns the same layout."""
        if self.strength <= 0.0:
            return image
        self.stats.frames += 1
        small = self._reduce(image.y, image.max_code)
        if not flow_possible(small.shape):
            # DIS needs some room: OpenCV raises below ~12 px and crashed (segfault) on strips
            # thinner than ~1:9 — such pictures pass untouched.
            self.reset()
            return image
        # 8-bit planes stay 8-bit (OpenCV's remap and blend have fast integer paths; the rounding
        # this adds per frame is below a code); deeper ones are filtered as float32.
        eight = image.bit_depth == 8
        planes = [p if eight else p.astype(np.float32) for p in (image.y, image.u, image.v)]
        layout = (image.y.shape, image.u.shape, image.bit_depth, image.full_range)
        previous, previous_small = self._planes, self._small
        if previous is None or previous_small is None or layout != self._layout or _is_cut(small, previous_small):
            return self._keep(image, planes, small, layout, reset=previous is not None)
        flow = self._dis().calc(_to_u8(small), _to_u8(previous_small), None)
        difference = cv2.blur(np.abs(small - warp(previous_small, flow)), (3, 3))
        tau = max(MIN_TAU, TOLERANCE * noise_sigma(small))
        weight = (MAX_WEIGHT * self.strength) * np.exp(-np.square(difference / tau))
        self.stats.mean_weight = float(weight.mean())
        motion: dict[tuple[int, int], tuple[np.ndarray, ...]] = {}     # per plane size; u and v share
        out = []
        for current, last in zip(planes, previous):
            if current.shape not in motion:
                motion[current.shape] = _upsample(flow, weight, current.shape)
            map_xy, map_fraction, w_previous, w_current = motion[current.shape]
            warped = cv2.remap(last, map_xy, map_fraction, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            out.append(cv2.blendLinear(warped, current, w_previous, w_current))
        self._planes = out
        self._small = self._reduce(out[0], image.max_code)
        return YuvImage(*out, image.bit_depth, image.full_range, image.matrix) if eight else _quantise(image, out)

    def _dis(self) -> cv2.DISOpticalFlow:
        if self._flow is None:
            self._flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        return self._flow

    def _reduce(self, luma: np.ndarray, max_code: int) -> np.ndarray:
        """Luma reduced to ``flow_width`` wide (area average), on the 8-bit scale (float32)."""
        height, width = luma.shape
        size = reduced_size(height, width, self.flow_width)
        small = cv2.resize(luma.astype(np.float32, copy=False), size, interpolation=cv2.INTER_AREA)
        return small * np.float32(255.0 / max_code)

    def _keep(self, image: YuvImage, planes: list[np.ndarray], small: np.ndarray, layout: tuple,
              reset: bool) -> YuvImage:
        self.stats.resets += int(reset)
        self.stats.mean_weight = 0.0
        self._planes, self._small, self._layout = planes, small, layout
        return image


def _upsample(flow: np.ndarray, weight: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """Flow and weight from flow resolution to a plane of ``shape``:
    (fixed-point remap maps ×2, weight of the previous output (H, W), weight of the current frame)."""
    height, width = shape
    size = (width, height)
    # OpenCV ops throughout (multithreaded, no numpy temporaries): this runs for every frame.
    flow_x, flow_y = (cv2.resize(f, size, interpolation=cv2.INTER_LINEAR) for f in cv2.split(flow))
    grid_x, grid_y = _grid(height, width)
    map_x = cv2.scaleAdd(flow_x, width / flow.shape[1], grid_x)
    map_y = cv2.scaleAdd(flow_y, height / flow.shape[0], grid_y)
    map_xy, map_fraction = cv2.convertMaps(map_x, map_y, cv2.CV_16SC2)    # 1/32-px fixed point: remap's fast path
    w_previous = cv2.resize(weight, size, interpolation=cv2.INTER_LINEAR)
    w_current = cv2.resize(1.0 - weight, size, interpolation=cv2.INTER_LINEAR)
    return map_xy, map_fraction, w_previous, w_current


def warp(plane: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``plane`` sampled at (x + flow_x, y + flow_y) for every pixel (bilinear, edges replicated)."""
    grid_x, grid_y = _grid(*flow.shape[:2])
    return cv2.remap(plane, grid_x + flow[..., 0], grid_y + flow[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


@lru_cache(maxsize=8)
def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (x, y), each (H, W) float32; cached per size (read-only)."""
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    grid_x.flags.writeable = grid_y.flags.writeable = False
    return grid_x, grid_y


def noise_sigma(plane: np.ndarray) -> float:
    """Noise σ of a plane (same units), Immerkær 1996: mean |Laplacian difference| · √(π/2) / 6."""
    height, width = plane.shape
    if height < 3 or width < 3:
        return 0.0
    response = cv2.filter2D(plane.astype(np.float32), -1, _IMMERKAER)[1:-1, 1:-1]
    return float(np.abs(response).mean() * np.sqrt(np.pi / 2) / 6.0)


def _is_cut(small: np.ndarray, previous_small: np.ndarray) -> bool:
    """Whether two reduced lumas show different scenes (compared at ``CUT_WIDTH`` px wide)."""
    height, width = small.shape
    size = reduced_size(height, width, CUT_WIDTH)
    a, b = (cv2.resize(x, size, interpolation=cv2.INTER_AREA) for x in (small, previous_small))
    return float(np.abs(a - b).mean() / (0.5 * (a.mean() + b.mean()) + 5.0)) > CUT_RELATIVE_CHANGE


def reduced_size(height: int, width: int, target_width: int) -> tuple[int, int]:
    """(w, h) of a picture of (height, width) reduced to ``target_width`` wide at most, aspect kept."""
    reduced = min(width, target_width)
    return reduced, max(1, round(height * reduced / width))


def flow_possible(shape: tuple[int, int]) -> bool:
    """Whether DIS can run on a picture of this shape (either order): OpenCV raises on sides under
    about 12–16 px and crashed (segfault) on strips thinner than about 1:9."""
    return min(shape) >= MIN_FLOW_SIDE and max(shape) <= MAX_FLOW_ASPECT * min(shape)


def _to_u8(plane: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(plane), 0, 255).astype(np.uint8)


def _quantise(image: YuvImage, planes: list[np.ndarray]) -> YuvImage:
    dtype = image.y.dtype
    y, u, v = (np.clip(np.rint(p), 0, image.max_code).astype(dtype) for p in planes)
    return YuvImage(y, u, v, image.bit_depth, image.full_range, image.matrix)


@dataclass
class TemporallyDenoised:
    """An enhancer followed by a ``TemporalDenoiser`` on its output; same interface as the enhancer."""

    inner: Enhancer
    temporal: TemporalDenoiser

    @property
    def stats(self) -> object:
        return self.inner.stats

    def enhance(self, image: YuvImage, time_s: float | None = None, out_bits: int | None = None) -> YuvImage:
        return self.temporal(self.inner.enhance(image, time_s, out_bits))

    def reset(self) -> None:
        self.inner.reset()
        self.temporal.reset()
