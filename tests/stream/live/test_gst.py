"""GStreamer pieces: camera pipelines (as text, and a real appsink read), I420 buffers."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from stream.errors import SourceError
from stream.live.gst_reader import GstReader, pipeline_for
from stream.uri import parse_source


def test_v4l2_and_csi_pipelines():
    v4l2 = pipeline_for(parse_source("v4l2:///dev/video2?size=1280x720&fps=30&format=mjpeg"))
    assert v4l2.startswith("v4l2src device=/dev/video2 ")
    assert "image/jpeg,width=1280,height=720,framerate=30/1 ! jpegdec" in v4l2
    assert v4l2.endswith("appsink name=sink max-buffers=2 drop=true sync=false")
    csi = pipeline_for(parse_source("csi://1?fps=29.97&flip=2"))
    assert "nvarguscamerasrc sensor-id=1" in csi and "framerate=30000/1001" in csi and "flip-method=2" in csi


@pytest.mark.needs_gstreamer
def test_appsink_reader_reads_a_live_pipeline():
    reader = GstReader("videotestsrc is-live=true pattern=ball ! video/x-raw,width=96,height=54,framerate=30/1 "
                       "! videoconvert ! video/x-raw,format=I420 ! appsink name=sink max-buffers=2 drop=true "
                       "sync=false", timeout_s=5)
    reader.open()
    frames = []
    try:
        for decoded in reader.frames(threading.Event()):
            frames.append(decoded)
            if len(frames) == 5:
                break
    finally:
        reader.close()
    assert frames[0].image.y.shape == (54, 96) and frames[0].image.u.shape == (27, 48)
    assert reader.nominal_fps == 30
    assert not np.array_equal(frames[0].image.y, frames[-1].image.y)       # the ball moves


@pytest.mark.needs_gstreamer
def test_a_missing_element_is_a_source_error():
    with pytest.raises(SourceError, match="nvarguscamerasrc|no element"):
        GstReader(pipeline_for(parse_source("csi://0")), timeout_s=1).open()
