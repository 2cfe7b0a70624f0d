"""PyAV ``VideoFrame`` ↔ ``engines.image.YuvImage``, with colour interpretation.

Decoded frames in a planar Y'CbCr format are used as they are (planes viewed,
not converted); anything else (NV12, RGB, 4:1:1, …) is converted once by
swscale to 4:2:0 of the same depth class. Odd widths/heights are padded to even
by repeating the last column/row, because 4:2:0 encoders (x264, x265) need
even sizes; ``Frame.display_size`` records the true size (for sinks that can
store it; the video encoders here cannot).
"""

from __future__ import annotations

import av
import numpy as np

from engines.image import YuvImage
from stream.frame import ColourTags

# Planar Y'CbCr formats used without conversion: name → (bits, full range by format).
NATIVE_FORMATS: dict[str, tuple[int, bool]] = {
    "yuv420p": (8, False), "yuv422p": (8, False), "yuv444p": (8, False),
    "yuvj420p": (8, True), "yuvj422p": (8, True), "yuvj444p": (8, True),
    "yuv420p10le": (10, False), "yuv422p10le": (10, False), "yuv444p10le": (10, False),
}
# FFmpeg AVColorSpace → matrix used for arithmetic.
_MATRIX_BY_COLORSPACE = {1: "bt709", 5: "bt601", 6: "bt601", 9: "bt2020", 10: "bt2020"}


def colour_tags(frame: av.VideoFrame) -> ColourTags:
    return ColourTags(int(frame.color_range), int(frame.colorspace),
                      int(frame.color_primaries), int(frame.color_trc))


def rgb_source_tags(height: int) -> ColourTags:
    """Tags for Y'CbCr made here from R'G'B' (or arriving untagged): limited range, BT.709 from 720 lines up,
    else BT.601 — what players assume for untagged video of that height."""
    return ColourTags(1, 1 if height >= 720 else 5, 2, 2)


def matrix_for(colorspace: int, height: int) -> str:
    """The matrix to use; unspecified follows players' convention (HD → BT.709, SD → BT.601)."""
    return _MATRIX_BY_COLORSPACE.get(colorspace, "bt709" if height >= 720 else "bt601")


def frame_to_image(frame: av.VideoFrame) -> tuple[YuvImage, tuple[int, int], ColourTags]:
    """Planes of a decoded frame as a ``YuvImage`` (even-sized), the true (width, height), and its tags.

    R'G'B' and grey sources are converted with an explicit matrix (BT.709 from
    720 lines up, else BT.601) and limited range, and the tags say so: the
    source's own "RGB" matrix tag must not reach a Y'CbCr output.
    """
    name = frame.format.name
    tags = colour_tags(frame)
    if name not in NATIVE_FORMATS:
        deep = any(c.bits > 8 for c in frame.format.components)
        target = "yuv420p10le" if deep else "yuv420p"
        if frame.format.is_rgb or name.startswith(("gray", "ya", "pal")) or tags.colorspace == 0:
            colorspace = rgb_source_tags(frame.height).colorspace
            frame = frame.reformat(format=target, dst_colorspace=colorspace, dst_color_range=1)
            tags = ColourTags(1, colorspace, tags.color_primaries, tags.color_trc)
        else:
            frame = frame.reformat(format=target)
        name = frame.format.name
    bits, full_by_format = NATIVE_FORMATS[name]
    full_range = full_by_format or tags.color_range == 2
    dtype = np.uint8 if bits == 8 else np.uint16
    planes = [_plane_view(plane, dtype) for plane in frame.planes[:3]]
    y, u, v = pad_even(planes, frame.width, frame.height)
    image = YuvImage(y, u, v, bits, full_range, matrix_for(tags.colorspace, frame.height))
    return image, (frame.width, frame.height), tags


def image_to_frame(image: YuvImage, pix_fmt: str, tags: ColourTags) -> av.VideoFrame:
    """Copy planes into a new ``VideoFrame`` of ``pix_fmt`` (4:2:0 8- or 10-bit) with ``tags``.

    The image must already be at the output depth; 4:2:2/4:4:4 chroma is
    averaged down to 4:2:0.
    """
    frame = av.VideoFrame(image.width, image.height, pix_fmt)
    planes = (image.y, _to_420(image.u, image.height, image.width), _to_420(image.v, image.height, image.width))
    dtype = np.uint8 if image.bit_depth == 8 else np.uint16
    for plane, data in zip(frame.planes, planes):
        _plane_view(plane, dtype)[...] = data
    frame.color_range = tags.color_range or (2 if image.full_range else 1)
    frame.colorspace = tags.colorspace
    frame.color_primaries = tags.color_primaries
    frame.color_trc = tags.color_trc
    return frame


def _plane_view(plane, dtype) -> np.ndarray:
    """(height, width) view of a plane's memory (rows are ``line_size`` bytes apart)."""
    item = np.dtype(dtype).itemsize
    rows = np.frombuffer(plane, dtype=dtype).reshape(plane.height, plane.line_size // item)
    return rows[:, : plane.width]


def pad_even(planes: list[np.ndarray], width: int, height: int) -> list[np.ndarray]:
    """Pad luma to even (width, height) by edge repetition, and chroma to match its subsampling.

    4:2:0 chroma of an odd-sized frame is already ceil(size / 2) and needs nothing;
    4:4:4 and the full-height side of 4:2:2 grow with the luma.
    """
    even_h, even_w = height + height % 2, width + width % 2
    y, u, v = planes
    if (even_h, even_w) == (height, width):
        return [y, u, v]
    y = np.pad(y, ((0, even_h - height), (0, even_w - width)), mode="edge")
    sub_y = 1 if u.shape[0] == height else 2          # chroma rows per luma row: full or half
    sub_x = 1 if u.shape[1] == width else 2
    pad = ((0, even_h // sub_y - u.shape[0]), (0, even_w // sub_x - u.shape[1]))
    if any(p for _, p in pad):
        u, v = np.pad(u, pad, mode="edge"), np.pad(v, pad, mode="edge")
    return [y, u, v]


def _to_420(chroma: np.ndarray, luma_height: int, luma_width: int) -> np.ndarray:
    """Average 4:2:2 or 4:4:4 chroma (even-sized) down to 4:2:0; 4:2:0 passes through."""
    if chroma.shape == (luma_height // 2, luma_width // 2):
        return chroma
    c = chroma.astype(np.float32)
    if c.shape[0] == luma_height:
        c = 0.5 * (c[0::2] + c[1::2])
    if c.shape[1] == luma_width:
        c = 0.5 * (c[:, 0::2] + c[:, 1::2])
    return np.rint(c).astype(chroma.dtype)
