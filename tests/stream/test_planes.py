"""PyAV frames ↔ YuvImage: every pixel format and odd sizes come out even-sized and round-trip."""

import av
import numpy as np
import pytest

from stream.frame import ColourTags
from stream.planes import frame_to_image, image_to_frame


@pytest.mark.parametrize("fmt", ["yuv420p", "yuvj420p", "yuv422p", "yuv444p", "yuv420p10le", "yuv422p10le",
                                 "nv12", "rgb24"])
@pytest.mark.parametrize("size", [(160, 96), (161, 97), (7, 5)])
def test_any_format_and_size_becomes_even_planes(fmt, size):
    width, height = size
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=fmt)
    image, display, tags = frame_to_image(frame)
    assert display == (width, height)
    assert image.y.shape == (height + height % 2, width + width % 2)
    assert image.bit_depth == (10 if "10" in fmt else 8)
    assert image.full_range == (fmt == "yuvj420p")
    if fmt == "rgb24":       # converted with a stated matrix, and tagged so (never "RGB")
        assert tags.colorspace == 5 and tags.color_range == 1 and image.matrix == "bt601"
    out = image_to_frame(image, "yuv420p10le" if image.bit_depth == 10 else "yuv420p", ColourTags())
    assert (out.width, out.height) == (width + width % 2, height + height % 2)


def test_420_round_trip_is_exact():
    rng = np.random.default_rng(1)
    frame = av.VideoFrame(64, 48, "yuv420p")
    for plane in frame.planes:
        view = np.frombuffer(plane, np.uint8)
        view[:] = rng.integers(0, 256, view.shape, dtype=np.uint8)
    image, _, _ = frame_to_image(frame)
    back, _, _ = frame_to_image(image_to_frame(image, "yuv420p", ColourTags()))
    for a, b in ((image.y, back.y), (image.u, back.u), (image.v, back.v)):
        assert np.array_equal(a, b)
