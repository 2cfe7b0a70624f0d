"""Helpers of the live tests: the stand-in RTSP camera in its own process, free loopback ports, and a
tiny live encode whose packets the muxing outputs can be fed directly."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from fractions import Fraction

import numpy as np

from engines.image import YuvImage
from stream.config import EncodeSection, LiveSection
from stream.encode import PacketEncoder
from stream.frame import Frame
from stream.live.encoded import LivePacket, live_encoder_settings
from tools.rtsp_camera import CameraProcess as RtspCamera  # noqa: F401 — shared with the benches
from tools.rtsp_camera import free_port  # noqa: F401


def live_picture(index: int, size: tuple[int, int] = (64, 48)) -> YuvImage:
    """A small 8-bit picture: a bright square that moves one pixel right per ``index`` on grey.

    Motion rather than a fade or a jump: x264 then places keyframes only where
    the GOP says (a brightness change makes it cut a new scene at once).
    """
    width, height = size
    y = np.full((height, width), 60, np.uint8)
    x = index % (width - 8)
    y[8:24, x:x + 8] = 200
    chroma = np.full((height // 2, width // 2), 128, np.uint8)
    return YuvImage(y, chroma, chroma.copy())


@contextlib.contextmanager
def live_packets(count: int, rate: int = 10, keyint_s: float = 0.5,
                 size: tuple[int, int] = (64, 48)) -> Iterator[list[LivePacket]]:
    """``count`` pictures at ``rate`` fps through the live encode (x264, zerolatency, a keyframe every
    ``keyint_s``), as the ``LivePacket`` items a muxing output is handed: ``pts`` = picture index in
    time base 1/rate. The encoder (whose stream is every packet's ``template``) stays open inside the block."""
    settings = live_encoder_settings(EncodeSection(), LiveSection(keyint_s=keyint_s), float(rate))
    encoder = PacketEncoder(settings, time_base=Fraction(1, rate), rate=Fraction(rate))
    try:
        packets = []
        for index in range(count):
            frame = Frame(image=live_picture(index, size), pts=index, time_base=Fraction(1, rate), index=index,
                          display_size=size)
            packets += encoder.encode(frame)
        packets += encoder.flush()
        yield [LivePacket(packet, encoder.template, latency_from=None) for packet in packets]
    finally:
        encoder.close()
