"""Per-stream highlight recovery: clipped pixels filled from an adaptively chosen past frame.

One ``HighlightRecovery`` per stream, called with each frame as decoded
(``source``) and as the low-light stage left it (``enhanced``; the same
object when there is no such stage). Per frame:

1. thumbnails of both, clipping masks on both (the camera clipped, or our
   brightening pushed a lamp into white);
2. no clipping → nothing else runs (1.5 ms at 720p, 1.2 at 640×360 on the 2-core CPU);
3. clipped in the input → ``ReferenceSelector`` picks a past frame from
   the ``ReferenceBuffer`` (or none: then those pixels stay as they are);
4. full resolution, only inside the bounding box of the clipped areas plus
   the feather: the reference is warped (homography × local flow), matched
   to the current exposure, confidence-weighted per pixel; pixels clipped
   only by the enhancement take their own input instead (age 0, exact);
   the enhancement's local gain (measured where neither is clipped) carries
   the source into the output's brightness; ``roll_off`` brings it under
   white; the classical fill or the fusion network blends it in;
5. the frame joins the buffer. A scene cut (normalised thumbnail change, so
   that an exposure ramp is not a cut) or a size change flushes it.

Output outside the fill's reach (``stage_reach``) is the enhanced picture:
luma bit for bit, chroma too except in the 2×2 blocks (4:2:0) that straddle the
reach's edge. Pictures under ``MIN_SIDE`` pixels on a side pass untouched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np

from engines.highlights.align import (exposure_ratio, flow_size, local_flow, luma_linear, scale_homography,
                                      to_display, to_linear, warp_image)
from engines.highlights.buffer import Entry, ReferenceBuffer
from engines.highlights.fusion import classical_fill, roll_off
from engines.highlights.mask import clipped_any, dilation_radius, feathered, stage_reach
from engines.highlights.select import CONSISTENT_LINEAR, CandidateScore, ReferenceSelector
from engines.image import YuvImage, image_from_rgb_float, image_to_rgb_float
from engines.temporal import flow_possible, noise_sigma, warp
from engines.thumbnail import make_thumbnail

# Mean change of exposure-normalised thumbnails (luma / its mean) that counts as a cut. Measured on
# the development clips under a 1→3 exposure ramp: consecutive frames 0.006–0.10 (the fastest is a
# 25 fps dashcam); first frames of different clips 0.26–0.35.
CUT_RELATIVE_CHANGE = 0.2
# Pictures smaller than this on a side pass through untouched: DIS needs 12–16 px at flow
# resolution, and a frame that small has no highlight worth recovering.
MIN_SIDE = 32
ANY_CLIPPED = 0.5             # a thumbnail pixel more clipped than this counts
# Photometric residual (R' scale, flow resolution) at which the per-pixel confidence is e^-1,
# on top of 3 × the frame's noise σ. 0.06 rather than 0.04 gained 0.04 of structure and 1 dB
# inside on the dashcam's dev segment (its 5th second on; the evaluation uses its first 3 s).
RESIDUAL_TOLERANCE = 0.06

# (current R'G'B', source R'G'B', weight (H, W)) → filled R'G'B', all float32 over the ROI.
Fuse = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass
class HighlightStats:
    """What the stage did: per frame (last) and over the run, for summaries and metrics."""

    frames: int = 0
    clipped_share: float = 0.0           # last frame: share of thumbnail pixels clipped (input or output)
    clipped_share_sum: float = 0.0
    reference_age: int | None = None     # last frame: age in frames of the reference used, None if none
    reference_age_sum: int = 0
    frames_with_reference: int = 0
    switches: int = 0
    filled_frames: int = 0
    flushes: int = 0

    @property
    def mean_clipped_share(self) -> float:
        return self.clipped_share_sum / self.frames if self.frames else 0.0

    @property
    def mean_reference_age(self) -> float | None:
        return self.reference_age_sum / self.frames_with_reference if self.frames_with_reference else None


@dataclass
class _Reference:
    """The chosen reference's full picture in linear light, converted once per reference
    (12 bytes per pixel: 11 MB at 720p, 25 MB at 1080p, on top of the buffer's pictures)."""

    index: int
    linear: np.ndarray          # (H, W, 3) float32


@dataclass
class HighlightRecovery:
    """Stateful per-stream stage; one stream, one thread.

    Attributes:
        capacity: K, frames kept as candidates (thumbnails).
        full_frames: how many of them keep their full picture.
        fuse: the fusion network's function, or None for the classical fill.
    """

    capacity: int = 12
    full_frames: int = 3
    fuse: Fuse | None = None
    stats: HighlightStats = field(default_factory=HighlightStats)

    def __post_init__(self) -> None:
        self.buffer = ReferenceBuffer(self.capacity, self.full_frames)
        self.selector = ReferenceSelector(self.capacity)
        self._count = 0
        self._previous: tuple[tuple, np.ndarray] | None = None     # (layout, normalised thumbnail luma)
        self._reference: _Reference | None = None
        self._dis: cv2.DISOpticalFlow | None = None
        self.last_box: tuple[int, int, int, int] | None = None   # (x0, y0, x1, y1) of the last fill, full res

    def reset(self) -> None:
        self.buffer.flush()
        self.selector.reset()
        self._previous = None
        self._reference = None

    def __call__(self, source: YuvImage, enhanced: YuvImage) -> YuvImage:
        """``enhanced`` with clipped highlights recovered (same size, depth and layout as ``enhanced``)."""
        now, self._count = self._count, self._count + 1
        self.last_box = None
        if min(source.height, source.width) < MIN_SIDE:
            self.reset()
            return enhanced
        thumb_in = np.ascontiguousarray(make_thumbnail(source).rgb.transpose(1, 2, 0))
        clip_in = clipped_any(thumb_in)
        if enhanced is source:
            thumb_out, clip_out = thumb_in, clip_in
        else:
            thumb_out = np.ascontiguousarray(make_thumbnail(enhanced).rgb.transpose(1, 2, 0))
            clip_out = clipped_any(thumb_out)
        self._watch_for_cut(source, thumb_in)
        in_core, out_core = clip_in > ANY_CLIPPED, clip_out > ANY_CLIPPED
        share = float((in_core | out_core).mean())
        self.stats.frames += 1
        self.stats.clipped_share = share
        self.stats.clipped_share_sum += share
        self.stats.reference_age = None
        result = enhanced
        entry = Entry(now, thumb_in, clip_in, float(in_core.mean()), image=source)
        if in_core.any() or out_core.any():
            chosen = None
            if in_core.any():
                chosen = self.selector.choose(entry, self.buffer.candidates(), now)
                self.buffer.pin(chosen[0] if chosen else None)
                self.stats.switches = self.selector.switches
            if chosen is not None:
                self.stats.reference_age = chosen[1].age
                self.stats.reference_age_sum += chosen[1].age
                self.stats.frames_with_reference += 1
            if chosen is not None or (out_core & ~in_core).any():
                result = self._fill(source, enhanced, (thumb_in, clip_in), (thumb_out, clip_out), chosen)
                self.stats.filled_frames += 1
        self.buffer.push(entry)            # its luma, measured as the current frame, serves it as a candidate
        return result

    def _watch_for_cut(self, source: YuvImage, thumb: np.ndarray) -> None:
        """Flush the buffer at a scene cut or a change of picture layout."""
        layout = (source.y.shape, source.u.shape, source.bit_depth, source.full_range)
        luma = thumb.mean(axis=2)
        normalised = luma / (float(luma.mean()) + 0.02)     # exposure ramps are not cuts
        previous, self._previous = self._previous, (layout, normalised)
        if previous is None:
            return
        if previous[0] != layout or float(np.abs(previous[1] - normalised).mean()) > CUT_RELATIVE_CHANGE:
            self.reset()
            self._previous = (layout, normalised)
            self.stats.flushes += 1

    def _fill(self, source: YuvImage, enhanced: YuvImage, thumbs_in: tuple[np.ndarray, np.ndarray],
              thumbs_out: tuple[np.ndarray, np.ndarray], chosen: tuple[Entry, CandidateScore] | None) -> YuvImage:
        """Step 4 of the module docstring. ``thumbs_in`` / ``thumbs_out``: (thumbnail R'G'B', its
        clipping mask) of the input and of the enhanced picture, as ``__call__`` made them."""
        height, width = source.height, source.width
        radius = dilation_radius(width)
        box = _box(np.maximum(thumbs_in[1], thumbs_out[1]) > 0.05, (height, width), stage_reach(width) + 2, source)
        self.last_box = box
        if box is None:
            return enhanced
        grid = _box_grid(box)
        cur_in = np.clip(image_to_rgb_float(_crop(source, box)), 0.0, 1.0)
        cur_out = cur_in if enhanced is source else np.clip(image_to_rgb_float(_crop(enhanced, box)), 0.0, 1.0)
        m_in, m_out = clipped_any(cur_in), clipped_any(cur_out)
        lin_in = to_linear(cur_in)
        source_lin = lin_in
        weight_in = np.zeros_like(m_in)
        if chosen is not None:
            warped, confidence = self._aligned_reference(chosen, source, grid, thumbs_in[1])
            source_lin = lin_in + m_in[..., None] * (chosen[1].ratio * warped - lin_in)
            weight_in = feathered(m_in, radius) * confidence
        if enhanced is not source:
            gain = _sample_onto_box(_gain_map(thumbs_in, thumbs_out), grid, (height, width))
            source_lin = source_lin * gain[..., None]
        weight = np.maximum(weight_in, feathered(m_out * (1.0 - m_in), radius))
        fill = to_display(roll_off(source_lin))
        fused = (self.fuse or classical_fill)(cur_out, fill, weight)
        return _paste(enhanced, fused, box, weight > 0)

    def _aligned_reference(self, chosen: tuple[Entry, CandidateScore], source: YuvImage,
                           grid: tuple[np.ndarray, np.ndarray], thumb_clipped: np.ndarray
                           ) -> tuple[np.ndarray, np.ndarray]:
        """The reference warped onto the box (h, w, 3) linear, unmatched; per-pixel confidence (h, w).

        ``grid``: the box's pixel coordinates (``_box_grid``); ``thumb_clipped``: the current
        input's clipping mask at thumbnail size (largest channel).
        """
        entry, score = chosen
        assert entry.image is not None
        height, width = source.height, source.width
        if self._reference is None or self._reference.index != entry.index:
            self._reference = _Reference(entry.index, to_linear(image_to_rgb_float(entry.image)))
        thumb_size = (entry.rgb.shape[1], entry.rgb.shape[0])
        fw, fh = flow_size(height, width)
        current_small = _luma_small(source, (fw, fh))
        reference_small = _luma_small(entry.image, (fw, fh))
        h_flow = scale_homography(score.homography, thumb_size, (fw, fh))
        warped_small, inside = warp_image(reference_small, h_flow, (fw, fh))
        matched_linear = score.ratio * to_linear(warped_small)
        matched = to_display(matched_linear)                         # clipped at white, as the current frame is
        if flow_possible((fw, fh)):
            flow = local_flow(np.minimum(current_small, 1.0), matched, self._flow_engine())
        else:                                                        # too small or thin for DIS: homography only
            flow = np.zeros((fh, fw, 2), np.float32)
        matched_moved, matched_linear_moved = warp(matched, flow), warp(matched_linear, flow)
        clipped = cv2.resize(thumb_clipped, (fw, fh), interpolation=cv2.INTER_LINEAR) > 0.5
        confidence = _pixel_confidence(current_small, clipped, matched_moved, matched_linear_moved) * inside
        # Full-resolution sampling positions of the box: local flow first, then the homography.
        xs, ys = grid
        dx, dy = (_sample_onto_box(flow[..., k], grid, (height, width)) * scale for k, scale in
                  ((0, width / fw), (1, height / fh)))
        h_full = scale_homography(score.homography, thumb_size, (width, height)).astype(np.float64)
        px, py = xs + dx, ys + dy
        denominator = h_full[2, 0] * px + h_full[2, 1] * py + h_full[2, 2]
        qx = ((h_full[0, 0] * px + h_full[0, 1] * py + h_full[0, 2]) / denominator).astype(np.float32)
        qy = ((h_full[1, 0] * px + h_full[1, 1] * py + h_full[1, 2]) / denominator).astype(np.float32)
        warped = cv2.remap(self._reference.linear, qx, qy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return warped, np.clip(_sample_onto_box(confidence, grid, (height, width)), 0.0, 1.0)

    def _flow_engine(self) -> cv2.DISOpticalFlow:
        if self._dis is None:
            # MEDIUM, not FAST: +0.08 of structure on the dashcam's dev segment for about 1 ms.
            self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        return self._dis


def _pixel_confidence(current: np.ndarray, clipped: np.ndarray, matched: np.ndarray,
                      matched_linear: np.ndarray) -> np.ndarray:
    """Per-pixel trust in the aligned reference at flow resolution, (h, w) in [0, 1].

    ``current``: the frame's luma (R' scale); ``clipped``: where any of its channels is clipped
    (a saturated red lamp is clipped at a luma of 0.5); ``matched``: the reference brought there,
    display and linear.

    Outside the clipped area: the photometric residual. Inside it nothing can be
    compared, so the surroundings' confidence is spread in (normalised Gaussian
    averaging; far from any known pixel, the mean of all), times a consistency check: the reference, matched, must be at
    least near the clip level there (else it saw something else at that spot).
    """
    tau = RESIDUAL_TOLERANCE + 3.0 * noise_sigma(current)
    residual = cv2.blur(np.abs(current - matched), (3, 3))
    trust = np.exp(-np.square(residual / tau)).astype(np.float32)
    known = (~clipped).astype(np.float32)
    # Deep inside a large clipped area no known pixel is near: it takes the mean trust of all of them.
    overall = float(trust[known > 0].mean()) if known.any() else 0.0
    spread = _spread(trust, known, overall)
    consistent = np.clip((matched_linear - 0.75 * CONSISTENT_LINEAR) / (0.25 * CONSISTENT_LINEAR), 0.0, 1.0)
    return np.where(clipped, np.clip(spread, 0.0, 1.0) * consistent, trust).astype(np.float32)


def _gain_map(thumbs_in: tuple[np.ndarray, np.ndarray], thumbs_out: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The enhancement's local gain in linear light (out / in) at thumbnail size, (h, w) float32:
    measured where neither picture is clipped, spread over clipped areas (the frame's median
    ratio where nothing measured is near). ``thumbs_*``: (R'G'B', clipping mask)."""
    lin_in, lin_out = luma_linear(to_linear(thumbs_in[0])), luma_linear(to_linear(thumbs_out[0]))
    usable = ((thumbs_in[1] < 0.05) & (thumbs_out[1] < 0.05) & (lin_in > 0.005)).astype(np.float32)
    ratio = exposure_ratio(lin_out, lin_in, usable > 0) or 1.0
    # A ratio of two local averages over the same usable pixels: their common normaliser cancels.
    return (_spread(lin_out, usable, ratio) / np.maximum(_spread(lin_in, usable, 1.0), 1e-6)).astype(np.float32)


def _spread(values: np.ndarray, known: np.ndarray, fallback: float, sigma: float = 3.0) -> np.ndarray:
    """Gaussian average of ``values`` over the ``known`` pixels (0/1 float), σ in pixels; ``fallback``
    where fewer than 5 % of the window is known (normalised convolution)."""
    support = cv2.GaussianBlur(known, (0, 0), sigma)
    average = cv2.GaussianBlur(values * known, (0, 0), sigma) / np.maximum(support, 1e-6)
    return np.where(support > 0.05, average, fallback)


def _box_grid(box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Full-resolution pixel coordinates (x, y) of the box, each (h, w) float32."""
    return np.meshgrid(np.arange(box[0], box[2], dtype=np.float32), np.arange(box[1], box[3], dtype=np.float32))


def _sample_onto_box(small: np.ndarray, grid: tuple[np.ndarray, np.ndarray], size: tuple[int, int]) -> np.ndarray:
    """A reduced map (h', w') of a (H, W) = ``size`` picture, sampled bilinearly at the box's pixels
    ``grid`` (``_box_grid``; pixel centres aligned), (h, w) float32."""
    height, width = size
    xs, ys = grid
    sh, sw = small.shape[:2]
    return cv2.remap(small.astype(np.float32, copy=False), (xs + 0.5) * (sw / width) - 0.5,
                     (ys + 0.5) * (sh / height) - 0.5, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _luma_small(image: YuvImage, size: tuple[int, int]) -> np.ndarray:
    """Luma at ``size`` (w, h), R'-scale float32 in [0, 1]."""
    black, white = image.luma_black_white()
    small = cv2.resize(image.y, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    return np.clip((small - black) / (white - black), 0.0, 1.0)


def _box(mask: np.ndarray, size: tuple[int, int], margin: int, image: YuvImage) -> tuple[int, int, int, int] | None:
    """Bounding box (x0, y0, x1, y1) at full resolution of a thumbnail mask, grown by ``margin`` px and
    aligned to the chroma subsampling so that the planes crop cleanly."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    height, width = size
    th, tw = mask.shape
    sx, sy = width / tw, height / th
    step_x, step_y = _subsampling(image)
    margin += math.ceil(max(sx, sy))    # a thumbnail pixel below the mask's threshold may still hold clipped pixels
    x0 = max(0, int(xs.min() * sx) - margin) // step_x * step_x
    y0 = max(0, int(ys.min() * sy) - margin) // step_y * step_y
    x1 = min(width, -(-(int((xs.max() + 1) * sx) + margin) // step_x) * step_x)
    y1 = min(height, -(-(int((ys.max() + 1) * sy) + margin) // step_y) * step_y)
    return x0, y0, x1, y1


def _subsampling(image: YuvImage) -> tuple[int, int]:
    """Chroma subsampling (horizontal, vertical), 1 or 2; odd sizes round the chroma planes up (FFmpeg)."""
    return (1 if image.u.shape[1] == image.width else 2, 1 if image.u.shape[0] == image.height else 2)


def _crop(image: YuvImage, box: tuple[int, int, int, int]) -> YuvImage:
    x0, y0, x1, y1 = box
    step_x, step_y = _subsampling(image)
    cx0, cy0, cx1, cy1 = x0 // step_x, y0 // step_y, -(-x1 // step_x), -(-y1 // step_y)
    return YuvImage(image.y[y0:y1, x0:x1], image.u[cy0:cy1, cx0:cx1], image.v[cy0:cy1, cx0:cx1],
                    image.bit_depth, image.full_range, image.matrix)


def _paste(image: YuvImage, rgb: np.ndarray, box: tuple[int, int, int, int], touched: np.ndarray) -> YuvImage:
    """``image`` with the box replaced by ``rgb`` where ``touched`` (and untouched code values elsewhere)."""
    x0, y0, x1, y1 = box
    crop = _crop(image, box)
    new = image_from_rgb_float(rgb, image.bit_depth, image.full_range, image.matrix, crop.u.shape)
    step_x, step_y = _subsampling(image)
    # A chroma sample is replaced when any of its luma pixels was touched (area average > 0, in float).
    touched_chroma = cv2.resize(touched.astype(np.float32), (crop.u.shape[1], crop.u.shape[0]),
                                interpolation=cv2.INTER_AREA) > 0 if (step_x, step_y) != (1, 1) else touched
    y, u, v = image.y.copy(), image.u.copy(), image.v.copy()
    cx0, cy0 = x0 // step_x, y0 // step_y
    y[y0:y1, x0:x1] = np.where(touched, new.y, crop.y)
    u[cy0:cy0 + crop.u.shape[0], cx0:cx0 + crop.u.shape[1]] = np.where(touched_chroma, new.u, crop.u)
    v[cy0:cy0 + crop.v.shape[0], cx0:cx0 + crop.v.shape[1]] = np.where(touched_chroma, new.v, crop.v)
    return YuvImage(y, u, v, image.bit_depth, image.full_range, image.matrix)
