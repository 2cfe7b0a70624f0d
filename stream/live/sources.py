"""Live sources by kind: which reader opens a parsed source (``open_reader``, the one registry of source kinds).

A read has four outcomes, kept apart: a frame, the end of the stream (files and
test patterns only), a typed ``SourceError`` (refused, wrong credentials, wrong
path, not video, silent for ``timeout_s``), and — for the reconnecting
``LiveSource`` (``stream.live.reconnect``) — giving up after
``reconnect.give_up_after_s`` without a frame.

Readers by kind:

- rtsp/http/HLS, files and ``test://`` lavfi patterns: PyAV (FFmpeg's demuxers;
  ``stream.live.av_reader``).
- ``test://night``: the demo's dark street rendered live (``stream.live.scene_reader``).
- ``v4l2://`` and ``csi://``: GStreamer pipelines ending in an appsink
  (``stream.live.gst_reader``); PyAV's wheels carry no V4L2 demuxer.
"""

from __future__ import annotations

from stream.config import LiveSection
from stream.live.av_reader import AvReader
from stream.live.gst_reader import GstReader, pipeline_for
from stream.live.patterns import SCENE_PATTERN
from stream.live.reader import Reader
from stream.live.scene_reader import SceneReader
from stream.uri import SourceSpec


def open_reader(spec: SourceSpec, live: LiveSection) -> Reader:
    """The reader for a parsed source (the one registry of source kinds)."""
    if spec.kind == "test" and spec.target == SCENE_PATTERN:
        return SceneReader(spec, live)
    if spec.kind in ("v4l2", "csi"):
        return GstReader(pipeline_for(spec), live.timeout_s)
    return AvReader(spec, live)
