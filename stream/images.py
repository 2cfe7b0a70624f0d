"""Still images in and out (PNG, JPEG, …) as 8-bit full-range 4:4:4 ``YuvImage``.

OpenCV reads them (it applies the JPEG EXIF orientation, so phone photos come
out upright) and writes them back with the same name and format. An alpha
channel is kept aside and restored untouched.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from engines.image import YuvImage, image_from_rgb, image_to_rgb
from stream.errors import DecodeError, InputNotFoundError, OutputError

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
_MATRIX = "bt601"            # the JPEG convention; any matrix round-trips, this one is customary


def is_image_path(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def list_images(folder: Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name (frame order for --sequence)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and is_image_path(p))


def read_image(path: Path) -> tuple[YuvImage, np.ndarray | None]:
    """Load an image as full-range BT.601 4:4:4 planes, plus its alpha channel if any."""
    if not path.exists():
        raise InputNotFoundError(f"input not found: {path}")
    # JPEG has no alpha, and IMREAD_COLOR applies its EXIF orientation (IMREAD_UNCHANGED does not).
    jpeg = path.suffix.lower() in (".jpg", ".jpeg")
    data = cv2.imread(str(path), cv2.IMREAD_COLOR if jpeg else cv2.IMREAD_UNCHANGED)
    if data is None:
        raise DecodeError(f"cannot read {path.name}: not an image, or damaged")
    if data.dtype != np.uint8:                     # 16-bit PNG/TIFF: work in 8 bits
        log.warning("%s: %s samples are processed and written as 8-bit", path.name, data.dtype)
        data = (data.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    alpha = None
    if data.ndim == 2:
        data = cv2.cvtColor(data, cv2.COLOR_GRAY2BGR)
    elif data.shape[2] == 4:
        alpha = data[:, :, 3].copy()
        data = data[:, :, :3]
    image = image_from_rgb(data[:, :, ::-1], _MATRIX, full_range=True, chroma_420=False)
    return image, alpha


def write_image(path: Path, image: YuvImage, alpha: np.ndarray | None = None) -> None:
    """Write an image in the format of ``path``'s suffix (JPEG at quality 95)."""
    bgr = image_to_rgb(image)[:, :, ::-1]
    if alpha is not None:
        bgr = np.dstack([bgr, alpha])
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if path.suffix.lower() in (".jpg", ".jpeg") else []
    try:
        ok = cv2.imwrite(str(path), np.ascontiguousarray(bgr), params)
    except cv2.error as error:
        raise OutputError(f"cannot write {path}: {str(error).strip().splitlines()[-1]}") from error
    if not ok:
        raise OutputError(f"cannot write {path}: permission denied or unsupported format")
