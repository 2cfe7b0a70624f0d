"""GStreamer camera pipelines (``v4l2://``, ``csi://``) read through an appsink.

Camera pictures arrive as I420 (8-bit 4:2:0, limited range): what
``videoconvert`` and ``nvvidconv`` speak, and what nocturne's planes already
are. GStreamer itself is loaded only when a reader opens (``stream.live.gst_init``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np

from engines.image import YuvImage
from stream.errors import SourceError
from stream.live.gst_init import require_gst
from stream.live.reader import Decoded
from stream.pacing import frame_rate
from stream.planes import matrix_for, pad_even, rgb_source_tags
from stream.uri import SourceSpec, parse_rate, parse_size

_PULL_NS = 200_000_000            # appsink polls (0.2 s) so a stop request is seen quickly


def pipeline_for(spec: SourceSpec) -> str:
    """The gst-launch description of a ``v4l2://`` or ``csi://`` source, ending in ``appsink name=sink``."""
    sink = "video/x-raw,format=I420 ! appsink name=sink max-buffers=2 drop=true sync=false"
    size = parse_size(spec.options["size"], spec.display) if "size" in spec.options else None
    fps = parse_rate(spec.options["fps"], spec.display) if "fps" in spec.options else None
    if spec.kind == "v4l2":
        fields = ([f"width={size[0]}", f"height={size[1]}"] if size else []) + \
                 ([f"framerate={_fraction(fps)}"] if fps else [])
        mjpeg = spec.options.get("format", "").lower() in ("mjpeg", "mjpg", "jpeg")
        caps = ",".join(["image/jpeg" if mjpeg else "video/x-raw", *fields])
        decode = " ! jpegdec" if mjpeg else ""
        return f"v4l2src device={spec.target} do-timestamp=true ! {caps}{decode} ! videoconvert ! {sink}"
    if spec.kind == "csi":
        width, height = size or (1280, 720)
        flip = int(spec.options.get("flip", "0"))
        return (f"nvarguscamerasrc sensor-id={int(spec.target)} ! video/x-raw(memory:NVMM),width={width},"
                f"height={height},framerate={_fraction(fps or 30)} ! nvvidconv flip-method={flip} ! {sink}")
    raise ValueError(f"no GStreamer pipeline for {spec.kind} sources")


def _fraction(rate: float) -> str:
    """GStreamer's n/d for a rate; 29.97 and kin are the NTSC rates (30000/1001), as users mean them."""
    value = frame_rate(rate)
    return f"{value.numerator}/{value.denominator}"


class GstReader:
    """A GStreamer pipeline that ends in ``appsink name=sink`` producing I420, read frame by frame."""

    def __init__(self, description: str, timeout_s: float) -> None:
        self.description, self.timeout_s = description, timeout_s
        self.nominal_fps: float | None = None
        self._pipeline = None

    def open(self, known_fps: float | None = None) -> None:
        repo = require_gst()
        Gst = repo.Gst
        try:
            self._pipeline = Gst.parse_launch(self.description)
        except Exception as error:  # noqa: BLE001 — GLib.Error: an element is missing or the syntax is wrong
            raise SourceError(f"GStreamer cannot build the pipeline: {getattr(error, 'message', error)}") from None
        self._sink = self._pipeline.get_by_name("sink")
        if self._pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            reason = self._bus_error() or "the pipeline refused to start"
            self.close()
            raise SourceError(reason)

    def frames(self, stop: threading.Event) -> Iterator[Decoded]:
        GstVideo = require_gst().GstVideo
        silent_since = time.monotonic()
        caps = info = tags = matrix = None           # what a sample's caps say, worked out once per caps
        while not stop.is_set():
            sample = self._sink.emit("try-pull-sample", _PULL_NS)
            if sample is None:
                if self._sink.get_property("eos"):
                    return
                error = self._bus_error()
                if error:
                    raise SourceError(error)
                if time.monotonic() - silent_since > self.timeout_s:
                    raise SourceError(f"no frame within {self.timeout_s:g} s")
                continue
            started = time.perf_counter()
            if caps is None or not sample.get_caps().is_equal(caps):
                caps = sample.get_caps()
                info = GstVideo.VideoInfo.new_from_caps(caps)
                if info.fps_n and info.fps_d:
                    self.nominal_fps = info.fps_n / info.fps_d
                tags = rgb_source_tags(info.height)      # videoconvert/nvvidconv give untagged limited range
                matrix = matrix_for(tags.colorspace, info.height)
            image = _i420_image(sample.get_buffer(), info, matrix)
            silent_since = time.monotonic()
            yield Decoded(image, (info.width, info.height), tags, 0, time.perf_counter() - started)

    def _bus_error(self) -> str | None:
        if self._pipeline is None:
            return None
        Gst = require_gst().Gst
        message = self._pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)
        if message is None:
            return None
        error, _debug = message.parse_error()
        return f"GStreamer: {error.message}"

    def close(self) -> None:
        if self._pipeline is not None:
            pipeline, self._pipeline = self._pipeline, None
            pipeline.set_state(require_gst().Gst.State.NULL)


def _i420_image(buffer, info, matrix: str) -> YuvImage:
    """Copy an I420 buffer's planes (strides and offsets from ``info``) into a ``YuvImage``.

    ``extract_dup`` makes the one copy: a mapped buffer's memory is GStreamer's again after
    ``unmap``, and whether PyGObject hands it out as a view or a copy depends on its overrides.
    """
    data = np.frombuffer(buffer.extract_dup(0, buffer.get_size()), dtype=np.uint8)
    planes = []
    for index, (height, width) in enumerate(((info.height, info.width),
                                             ((info.height + 1) // 2, (info.width + 1) // 2),
                                             ((info.height + 1) // 2, (info.width + 1) // 2))):
        offset, stride = info.offset[index], info.stride[index]
        rows = data[offset: offset + stride * height].reshape(height, stride)
        planes.append(np.ascontiguousarray(rows[:, :width]))
    y, u, v = pad_even(planes, info.width, info.height)       # nocturne's planes are even-sized
    return YuvImage(y, u, v, 8, False, matrix)
