"""Aligning a past frame to the current one: global homography, then local flow.

- Global: ECC (OpenCV ``findTransformECC``, homography) on thumbnails in
  linear light. ECC maximises a correlation coefficient, so it does not care
  that the two frames were exposed differently — the very case we align for.
  The caller (``select.score_candidate``) gives it the two lumas clipped
  alike, so white areas match white areas.
- Local: DIS optical flow at ``FLOW_WIDTH`` between the current luma and the
  globally aligned, exposure-matched reference luma, both clipped at the same
  level — a lamp that is white in one and a bright disc in the other then
  look alike, so the flow follows the lamp's outline; inside a clipped area
  the flow is the smooth continuation of its surroundings (DIS's variational
  refinement), which is what a fill needs.

Coordinates: a homography ``H`` maps current-frame pixel coordinates to the
reference's (``cv2.WARP_INVERSE_MAP`` convention), in the resolution it was
estimated at; ``scale_homography`` moves it to another resolution.
"""

from __future__ import annotations

import cv2
import numpy as np

from engines.temporal import reduced_size


FLOW_WIDTH = 320
ECC_ITERATIONS = 30
ECC_EPSILON = 1e-4
# Pixels used for the exposure ratio must be above this (linear): below it, noise and
# quantisation dominate the ratio.
MIN_LINEAR = 0.02


def to_linear(rgb: np.ndarray) -> np.ndarray:
    """R'G'B' (any shape) in [0, 1] → linear light (sRGB transfer, the usual camera approximation).

    ``engines.colour.srgb_to_linear`` with OpenCV's power (twice as fast as numpy's here, where it
    runs on every clipped frame's box)."""
    x = np.clip(rgb, 0.0, 1.0).astype(np.float32)
    high = cv2.pow(cv2.multiply(cv2.add(x, 0.055), 1.0 / 1.055), 2.4)
    return np.where(x <= 0.04045, x * np.float32(1.0 / 12.92), high)


def to_display(linear: np.ndarray) -> np.ndarray:
    """Linear light (any shape) → R'G'B' in [0, 1] (clipped first); ``engines.colour.linear_to_srgb``."""
    x = np.clip(linear, 0.0, 1.0).astype(np.float32)
    high = cv2.subtract(cv2.multiply(cv2.pow(x, 1.0 / 2.4), 1.055), 0.055)
    return np.where(x <= 0.0031308, x * np.float32(12.92), high)


def luma_linear(rgb_linear: np.ndarray) -> np.ndarray:
    """(H, W, 3) linear RGB → (H, W) linear luminance (BT.709 weights)."""
    return (0.2126 * rgb_linear[..., 0] + 0.7152 * rgb_linear[..., 1] + 0.0722 * rgb_linear[..., 2]).astype(np.float32)


def global_homography(current: np.ndarray, reference: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """ECC homography taking current-frame coordinates to the reference's.

    Args:
        current, reference: (h, w) float32 linear luma thumbnails (the caller clips them alike).
        start: the estimate for this pair one frame earlier, if any (ECC then converges in a
            few iterations instead of searching from the identity).

    Returns:
        H (3, 3) float32 in thumbnail coordinates; on failure ``start`` (or the identity) — the
        caller scores it against the identity either way.
    """
    initial = np.eye(3, dtype=np.float32) if start is None else start.astype(np.float32)
    # Matched at half the thumbnail size (80 px wide): a quarter of the cost, and global motion
    # needs no more; the homography is conjugated back to thumbnail coordinates.
    height, width = current.shape
    half = (max(8, width // 2), max(8, height // 2))
    shrink = lambda x: cv2.resize(x, half, interpolation=cv2.INTER_AREA)     # noqa: E731
    to_half = scale_homography(initial, (width, height), half)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, ECC_ITERATIONS, ECC_EPSILON)
    try:
        _, warp = cv2.findTransformECC(shrink(current), shrink(reference), to_half, cv2.MOTION_HOMOGRAPHY,
                                       criteria, None, 3)
    except cv2.error:                 # no convergence (flat pictures, huge motion)
        return initial
    if not np.all(np.isfinite(warp)):
        return initial
    return scale_homography(warp, half, (width, height))


def warp_image(image: np.ndarray, homography: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Reference picture (h, w[, c]) brought to current coordinates; also an (h, w) bool of pixels inside it."""
    width, height = size
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    warped = cv2.warpPerspective(image, homography, (width, height), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    inside = cv2.warpPerspective(np.ones(image.shape[:2], np.uint8), homography, (width, height), flags=flags,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return warped, inside.astype(bool)


def scale_homography(homography: np.ndarray, from_size: tuple[int, int], to_size: tuple[int, int]) -> np.ndarray:
    """``homography`` estimated on pictures of ``from_size`` (w, h) → the same motion at ``to_size``.

    Pixel centres map as x' = (x + 0.5)·s − 0.5, so the conjugation uses that affine map.
    """
    sx, sy = to_size[0] / from_size[0], to_size[1] / from_size[1]
    to_small = np.array([[1 / sx, 0, 0.5 / sx - 0.5], [0, 1 / sy, 0.5 / sy - 0.5], [0, 0, 1]], np.float64)
    to_big = np.linalg.inv(to_small)
    return (to_big @ homography.astype(np.float64) @ to_small).astype(np.float32)


def exposure_ratio(current: np.ndarray, reference: np.ndarray, usable: np.ndarray) -> float | None:
    """Gain that brings the reference's linear light to the current frame's: median of the ratios.

    Args:
        current, reference: (h, w) linear luma, aligned.
        usable: (h, w) bool, pixels well exposed in both.

    Returns:
        The gain, or None when fewer than 2 % of the pixels can vouch for it.
    """
    ok = usable & (current > MIN_LINEAR) & (reference > MIN_LINEAR)
    if ok.mean() < 0.02:
        return None
    return float(np.exp(np.median(np.log(current[ok]) - np.log(reference[ok]))))


def local_flow(current: np.ndarray, reference: np.ndarray, dis: cv2.DISOpticalFlow) -> np.ndarray:
    """DIS flow (h, w, 2) float32: for each current pixel, the offset to the same content in ``reference``.

    Both are R'G'B'-scale luma in [0, 1] at flow resolution, clipped alike.
    """
    to_u8 = lambda x: np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)    # noqa: E731
    return dis.calc(to_u8(current), to_u8(reference), None)


def flow_size(height: int, width: int) -> tuple[int, int]:
    """(w, h) of the flow resolution for a picture of (height, width): ``FLOW_WIDTH`` wide at most.
    ``engines.temporal.flow_possible`` says whether DIS can run there."""
    return reduced_size(height, width, FLOW_WIDTH)

