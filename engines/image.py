"""The picture type that crosses the stream/engines boundary.

``YuvImage`` holds the three planes of a Y'CbCr picture exactly as a decoder
produced them (no conversion to RGB at full resolution: that is the single most
expensive thing a CPU pipeline could do), plus what is needed to interpret the
code values: bit depth, range and matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from engines.colour import rgb_to_yuv, yuv_to_rgb

MATRICES = ("bt601", "bt709", "bt2020")


def luma_black_white(bits: int, full_range: bool) -> tuple[float, float]:
    """Code values of black and white luma: 0..2^bits-1 full range, 16..235 (scaled) limited."""
    if full_range:
        return 0.0, float((1 << bits) - 1)
    return 16.0 * (1 << (bits - 8)), 235.0 * (1 << (bits - 8))


def chroma_centre_span(bits: int, full_range: bool) -> tuple[float, float]:
    """(centre, span) of chroma codes: code = centre + span * c for c in [-0.5, 0.5]."""
    centre = float(1 << (bits - 1))
    return centre, float((1 << bits) - 1) if full_range else 224.0 * (1 << (bits - 8))


@dataclass(frozen=True)
class YuvImage:
    """One Y'CbCr picture.

    Attributes:
        y: luma plane, shape (H, W), uint8 for 8-bit or uint16 for 9..16-bit.
        u: Cb plane, shape (Hc, Wc) (4:2:0 → (H/2, W/2), 4:4:4 → (H, W)), same dtype.
        v: Cr plane, same shape and dtype as ``u``.
        bit_depth: significant bits per sample (8 or 10 in practice).
        full_range: True for full ("JPEG", PC) range, False for limited (TV) range:
            luma 16..235 and chroma 16..240 scaled by ``2**(bit_depth-8)``.
        matrix: one of ``MATRICES``, the Y'CbCr matrix of the picture.
    """

    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    bit_depth: int = 8
    full_range: bool = False
    matrix: str = "bt709"

    def __post_init__(self) -> None:
        if self.y.ndim != 2 or self.u.shape != self.v.shape:
            raise ValueError(f"bad plane shapes: y {self.y.shape}, u {self.u.shape}, v {self.v.shape}")
        if self.matrix not in MATRICES:
            raise ValueError(f"unknown matrix {self.matrix!r}; expected one of {MATRICES}")
        expected = np.uint8 if self.bit_depth == 8 else np.uint16
        if self.y.dtype != expected or self.u.dtype != expected:
            raise ValueError(f"{self.bit_depth}-bit planes must be {np.dtype(expected).name}, got {self.y.dtype}")

    @property
    def height(self) -> int:
        return int(self.y.shape[0])

    @property
    def width(self) -> int:
        return int(self.y.shape[1])

    @property
    def max_code(self) -> int:
        """Largest code value, 255 for 8-bit, 1023 for 10-bit."""
        return (1 << self.bit_depth) - 1

    def luma_black_white(self) -> tuple[float, float]:
        """Code values of black and white luma for this depth and range."""
        return luma_black_white(self.bit_depth, self.full_range)

    def chroma_centre_span(self) -> tuple[float, float]:
        """(centre, span) of chroma codes: code = centre + span * c for c in [-0.5, 0.5]."""
        return chroma_centre_span(self.bit_depth, self.full_range)


def image_from_rgb(rgb: np.ndarray, matrix: str = "bt709", full_range: bool = False,
                   chroma_420: bool = True) -> YuvImage:
    """uint8 R'G'B' (H, W, 3) → 8-bit ``YuvImage``.

    With ``chroma_420`` (H and W even) chroma is the mean of each 2×2 block, as
    most encoders' default downsampler does; otherwise 4:4:4.
    """
    h, w = rgb.shape[:2]
    chroma_shape = (h // 2, w // 2) if chroma_420 else (h, w)
    return image_from_rgb_float(rgb.astype(np.float32) / 255.0, 8, full_range, matrix, chroma_shape)


def image_from_rgb_float(rgb: np.ndarray, bit_depth: int = 8, full_range: bool = False, matrix: str = "bt709",
                         chroma_shape: tuple[int, int] | None = None, channels_first: bool = False) -> YuvImage:
    """float R'G'B' (H, W, 3), or (3, H, W) with ``channels_first``, nominally [0, 1] → ``YuvImage``
    of ``bit_depth`` (codes clipped to its range).

    ``chroma_shape`` (Hc, Wc) is the chroma planes' size (None: 4:4:4); chroma
    is area-averaged down to it — the 2×2 mean for 4:2:0.
    """
    r, g, b = rgb if channels_first else (rgb[..., 0], rgb[..., 1], rgb[..., 2])
    y, cb, cr = rgb_to_yuv(r, g, b, matrix)
    if chroma_shape is not None and chroma_shape != y.shape:
        size = (chroma_shape[1], chroma_shape[0])
        cb, cr = (cv2.resize(np.ascontiguousarray(c, np.float32), size, interpolation=cv2.INTER_AREA)
                  for c in (cb, cr))
    black, white = luma_black_white(bit_depth, full_range)
    centre, span = chroma_centre_span(bit_depth, full_range)
    top = (1 << bit_depth) - 1
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    codes = [black + (white - black) * y, centre + span * cb, centre + span * cr]
    planes = [np.clip(np.rint(c), 0, top).astype(dtype) for c in codes]
    return YuvImage(*planes, bit_depth=bit_depth, full_range=full_range, matrix=matrix)


def image_to_rgb_float(image: YuvImage, channels_first: bool = False) -> np.ndarray:
    """``YuvImage`` (any depth, range, subsampling) → float32 R'G'B' (H, W, 3), or (3, H, W) with
    ``channels_first`` (what a network takes: no transposed copy); unclipped; chroma upsampled bilinearly."""
    black, white = image.luma_black_white()
    centre, span = image.chroma_centre_span()
    size = (image.width, image.height)
    y = (image.y.astype(np.float32) - black) / (white - black)
    cb, cr = ((cv2.resize(c.astype(np.float32), size, interpolation=cv2.INTER_LINEAR) - centre) / span
              for c in (image.u, image.v))
    return np.stack(yuv_to_rgb(y, cb, cr, image.matrix), axis=0 if channels_first else -1)


def image_to_rgb(image: YuvImage) -> np.ndarray:
    """``YuvImage`` (any depth, range, subsampling) → uint8 R'G'B' (H, W, 3); chroma upsampled bilinearly."""
    return np.clip(np.rint(image_to_rgb_float(image) * 255.0), 0, 255).astype(np.uint8)


def resize_image(image: YuvImage, size: tuple[int, int]) -> YuvImage:
    """The picture at ``size`` (width, height), every plane by area averaging; chroma keeps its subsampling."""
    if (image.width, image.height) == size:
        return image
    width, height = size
    chroma = (max(1, width * image.u.shape[1] // image.width), max(1, height * image.u.shape[0] // image.height))
    return replace(image, y=cv2.resize(image.y, size, interpolation=cv2.INTER_AREA),
                   u=cv2.resize(image.u, chroma, interpolation=cv2.INTER_AREA),
                   v=cv2.resize(image.v, chroma, interpolation=cv2.INTER_AREA))
