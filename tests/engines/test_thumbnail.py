"""engines.thumbnail: its colour conversion agrees with FFmpeg's swscale for each matrix and range; its size."""

import av
import numpy as np
import pytest

from engines.image import YuvImage
from engines.thumbnail import make_thumbnail, reduction_factor, thumbnail_size


def _flat_frame(rgb, colorspace, color_range):
    data = np.empty((64, 64, 3), np.uint8)
    data[:] = rgb
    frame = av.VideoFrame.from_ndarray(data, format="rgb24")
    return frame.reformat(format="yuv444p", dst_colorspace=colorspace, dst_color_range=color_range)


@pytest.mark.parametrize("colorspace,matrix", [("ITU709", "bt709"), ("ITU601", "bt601")])
@pytest.mark.parametrize("color_range,full", [("MPEG", False), ("JPEG", True)])
def test_yuv_to_rgb_matches_swscale(colorspace, matrix, color_range, full):
    for rgb in [(200, 40, 30), (20, 180, 90), (60, 70, 220), (128, 128, 128)]:
        frame = _flat_frame(rgb, colorspace, color_range)
        planes = [np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width].copy()
                  for p in frame.planes]
        image = YuvImage(*planes, bit_depth=8, full_range=full, matrix=matrix)
        ours = make_thumbnail(image).rgb[:, 0, 0] * 255.0
        assert np.abs(ours - np.array(rgb)).max() <= 2.5, (rgb, ours)


def test_thumbnail_size_is_about_160_and_factor_even():
    assert thumbnail_size(720, 1280) == (90, 160)
    assert thumbnail_size(1080, 1920) == (90, 160)
    assert reduction_factor(97, 161) % 2 == 0
    h, w = thumbnail_size(2160, 3840)
    assert max(h, w) <= 160
