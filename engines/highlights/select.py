"""Choosing the reference frame: a scored, explainable rule with hysteresis.

Every candidate in the buffer is scored, on thumbnails, as the product of
four factors in [0, 1] (each printed by ``CandidateScore.explain``):

- coverage: share of the current frame's clipped pixels that the candidate,
  once aligned and exposure-matched, shows well exposed *and* near the clip
  level (``CONSISTENT_LINEAR``, R' ≈ 0.8) — a candidate that shows that spot dark has seen
  something else there (a headlight that has since switched on), which must
  not be "recovered" away;
- confidence: how well the aligned, exposure-matched candidate agrees with
  the current frame in the unclipped ring around the clipped area;
- exposure: 1 up to a 4× gain between the two, falling beyond (a candidate
  that must be amplified more than that brings its noise and banding along);
- age: halves every ``4·K`` frames, a mild preference for the recent.

The current reference is kept unless another scores ``SWITCH_MARGIN`` times
higher (plus a small absolute margin) on ``SWITCH_PERSISTENCE`` frames in a
row, so the choice does not flip-flop between near-equals or on one noisy
frame; it is dropped at once when it falls below ``MIN_SCORE`` or cannot be
scored at all (its picture is gone, it is clipped where the current frame
is, or it cannot be matched) — a reference that cannot serve this frame is
not kept for the sake of stability. Below ``MIN_SCORE`` nothing is used. This is a fixed
rule, not a learned keep/replace policy.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engines.highlights.align import exposure_ratio, global_homography, luma_linear, to_linear, warp_image
from engines.highlights.buffer import Entry
from engines.highlights.mask import WELL_EXPOSED_MASK, measurable, well_exposed

MIN_SCORE = 0.15
SWITCH_MARGIN = 1.25
SWITCH_ABSOLUTE = 0.05
SWITCH_PERSISTENCE = 3     # frames in a row the kept reference must be outscored before a switch
MAX_EASY_GAIN = 4.0
# In the clipped area the matched candidate must reach this (linear; R' ≈ 0.8) to count as covering it.
CONSISTENT_LINEAR = 0.6
# The age factor halves every AGE_HALF_LIFE·K frames: a mild preference for the recent, since the
# confidence already falls as a reference drifts out of alignment. 4 (48 frames at K = 12) rather
# than 2 gained 0.08 of structure on the dashcam's dev segment (its 5th second on, not evaluated).
AGE_HALF_LIFE = 4
RESIDUAL_SCALE = 0.15      # |log ratio| (≈ relative residual) at which confidence is e^-1
CLIPPED_CORE = 0.5         # a pixel more clipped than this is part of the area to fill


@dataclass(frozen=True)
class CandidateScore:
    """Why a candidate scored what it did. ``homography`` maps current thumbnail coordinates to its own."""

    index: int
    age: int
    coverage: float
    confidence: float
    exposure: float
    age_factor: float
    ratio: float
    homography: np.ndarray

    @property
    def score(self) -> float:
        return self.coverage * self.confidence * self.exposure * self.age_factor

    def explain(self) -> str:
        return (f"frame {self.index} (age {self.age}): score {self.score:.2f} = coverage {self.coverage:.2f} × "
                f"confidence {self.confidence:.2f} × exposure {self.exposure:.2f} (gain {self.ratio:.2f}) × "
                f"age {self.age_factor:.2f}")


def score_candidate(current: Entry, candidate: Entry, now: int, capacity: int,
                    start: np.ndarray | None = None) -> CandidateScore | None:
    """Score one candidate against the current frame, on thumbnails (same size). None: no match at all.

    Alignment: ECC on the two lumas *clipped alike* (the candidate brought to the
    current exposure, then clipped at white), so a white area that grew with
    the exposure is not mistaken for motion. ECC can still lock onto the wrong
    thing when most of the picture is white; the identity competes with it,
    and whichever leaves the smaller residual in the ring is kept.
    ``start``: this candidate's homography from the previous frame, to start ECC from.
    """
    height, width = current.clipped.shape
    if candidate.rgb.shape[:2] != (height, width):
        return None
    core = current.clipped > CLIPPED_CORE
    cur_luma, cand_luma = current.luma, candidate.luma
    rough = exposure_ratio(cur_luma, cand_luma, current.measurable & candidate.measurable) or 1.0
    ecc = global_homography(np.minimum(cur_luma, 1.0), np.minimum(rough * cand_luma, 1.0), start)
    best: tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float] | None = None
    for homography in (ecc, np.eye(3, dtype=np.float32)):
        warped_rgb, inside = warp_image(candidate.rgb, homography, (width, height))
        warped_luma = luma_linear(to_linear(warped_rgb))
        usable = inside & measurable(warped_rgb) & current.measurable
        ratio = exposure_ratio(cur_luma, warped_luma, usable)
        if ratio is None:
            continue
        confidence = _ring_confidence(cur_luma, ratio * warped_luma, core, usable)
        if best is None or confidence > best[0]:
            best = (confidence, homography, warped_rgb, warped_luma, inside, ratio)
    if best is None:
        return None
    confidence, homography, warped_rgb, warped_luma, inside, ratio = best
    covering = well_exposed(warped_rgb) & inside & (ratio * warped_luma >= CONSISTENT_LINEAR)
    coverage = float(covering[core].mean()) if core.any() else 0.0
    exposure = float(np.exp(-np.square(max(0.0, np.log2(ratio / MAX_EASY_GAIN)))))
    age = now - candidate.index
    age_factor = 0.5 ** (age / (AGE_HALF_LIFE * capacity))
    return CandidateScore(candidate.index, age, coverage, confidence, exposure, age_factor, ratio, homography)


def _ring_confidence(current: np.ndarray, matched: np.ndarray, core: np.ndarray, usable: np.ndarray) -> float:
    """exp(-(r / RESIDUAL_SCALE)²), r the median |log ratio| of current and matched luminance in a
    ring around the clipped core (the whole usable picture when the ring is too thin)."""
    ring = cv2.dilate(core.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool) & usable
    if ring.sum() < 8:
        ring = usable
    if not ring.any():
        return 0.0
    residual = np.abs(np.log(current[ring] + 0.01) - np.log(matched[ring] + 0.01))
    return float(np.exp(-np.square(np.median(residual) / RESIDUAL_SCALE)))


class ReferenceSelector:
    """Keeps the chosen reference across frames; switches only to a clearly, lastingly better one."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.current: int | None = None       # frame index of the reference
        self.switches = 0
        self.last_scores: list[CandidateScore] = []
        self._outscored = 0                    # consecutive frames the kept reference lost
        self._homographies: dict[int, np.ndarray] = {}

    def reset(self) -> None:
        self.current = None
        self.last_scores = []
        self._outscored = 0
        self._homographies = {}

    def choose(self, current: Entry, candidates: list[Entry], now: int) -> tuple[Entry, CandidateScore] | None:
        """Score ``candidates`` against the current frame's entry; return the reference to use, or None."""
        scored: list[tuple[Entry, CandidateScore]] = []
        for entry in candidates:
            if not _may_cover(entry, current.clipped):
                continue                      # clipped where we are: cheap to rule out before aligning
            score = score_candidate(current, entry, now, self.capacity, self._homographies.get(entry.index))
            if score is not None:
                scored.append((entry, score))
        self._homographies = {s.index: s.homography for _, s in scored}
        self.last_scores = [s for _, s in scored]
        kept = next(((e, s) for e, s in scored if e.index == self.current), None)
        best = max(scored, key=lambda pair: pair[1].score, default=None)
        if kept is not None and kept[1].score >= MIN_SCORE:
            beaten = best is not None and best[1].score > SWITCH_MARGIN * kept[1].score + SWITCH_ABSOLUTE
            self._outscored = self._outscored + 1 if beaten else 0
            if self._outscored < SWITCH_PERSISTENCE:
                return kept
        self._outscored = 0
        if best is None or best[1].score < MIN_SCORE:
            self.current = None
            return None
        if self.current is not None and best[0].index != self.current:
            self.switches += 1
        self.current = best[0].index
        return best


def _may_cover(entry: Entry, clipped: np.ndarray) -> bool:
    """Unaligned pre-check: is the candidate unclipped on at least a tenth of the current clipped core?

    A static camera with a lamp that is always clipped fails here for every candidate, so no
    alignment runs; so does a lamp that moved less than a tenth of its size (little to recover).
    """
    core = clipped > CLIPPED_CORE
    if entry.clipped.shape != core.shape or not core.any():
        return False
    free = entry.clipped < WELL_EXPOSED_MASK
    return float((free & core).sum()) >= 0.1 * float(core.sum())
