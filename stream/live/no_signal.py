"""The "NO SIGNAL" picture the pacer shows while a camera is away (``live.on_signal_loss: no_signal``)."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from engines.image import YuvImage, image_from_rgb
from stream.planes import matrix_for, rgb_source_tags


def no_signal_picture(size: tuple[int, int], camera: str, bits: int = 8) -> YuvImage:
    """A dark grey picture saying NO SIGNAL and the camera's name, at ``size`` (width, height).

    ``bits`` (8..16) is the output's bit depth: the 8-bit codes are shifted up to it.
    """
    width, height = size
    rgb = np.full((height, width, 3), 40, np.uint8)
    scale = max(0.4, width / 640)
    for text, y, weight in (("NO SIGNAL", 0.48, 2.0), (camera, 0.6, 1.0)):
        (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale * weight, max(1, round(2 * scale)))
        cv2.putText(rgb, text, ((width - w) // 2, int(height * y) + h // 2), cv2.FONT_HERSHEY_SIMPLEX,
                    scale * weight, (220, 220, 220), max(1, round(2 * scale)), cv2.LINE_AA)
    image = image_from_rgb(rgb, matrix=matrix_for(rgb_source_tags(height).colorspace, height))
    if bits > 8:
        image = dataclasses.replace(image, y=image.y.astype(np.uint16) << (bits - 8),
                                    u=image.u.astype(np.uint16) << (bits - 8), v=image.v.astype(np.uint16) << (bits - 8),
                                    bit_depth=bits)
    return image
