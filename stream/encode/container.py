"""Output containers and the encoding video stream, shared by ``FileSink`` and the packet muxers.

``open_container`` and ``start_container`` turn PyAV's failures into one-line
``OutputError`` messages (URLs redacted); ``add_video_stream`` adds an x264 or
x265 stream sized and colour-tagged after the first frame.
"""

from __future__ import annotations

from fractions import Fraction

import av

from stream.encode.settings import ENCODERS, EncoderSettings
from stream.errors import OutputError
from stream.frame import Frame
from stream.uri import redact


def open_container(target: str, format_name: str, options: dict[str, str],
                   display: str) -> av.container.OutputContainer:
    """``av.open`` for writing; a failure becomes a one-line ``OutputError`` naming ``display`` (redacted)."""
    try:
        return av.open(target, "w", format=format_name, options=options)
    except (av.error.FFmpegError, OSError) as error:
        raise OutputError(f"cannot write {display}: {failure_reason(error)}") from error


def start_container(container: av.container.OutputContainer, display: str) -> None:
    """Write the header (for RTSP: the ANNOUNCE, so a refusing server is seen here)."""
    try:
        container.start_encoding()
    except (av.error.FFmpegError, OSError) as error:
        raise OutputError(f"cannot write {display}: {failure_reason(error)}") from error


def failure_reason(error: BaseException) -> str:
    """What went wrong, for a one-line message: the OS error's text or the FFmpeg error's, URLs redacted."""
    return redact(str(getattr(error, "strerror", None) or error))


def add_video_stream(container: av.container.OutputContainer, settings: EncoderSettings, rate: Fraction | None,
                     time_base: Fraction, first: Frame, format_name: str) -> av.VideoStream:
    """An encoding video stream sized and colour-tagged after ``first``, with ``settings``' x264/x265 options."""
    encoder = ENCODERS[settings.codec]
    stream = container.add_stream(encoder, rate=rate)
    ctx = stream.codec_context
    ctx.width, ctx.height = first.image.width, first.image.height
    ctx.pix_fmt = settings.pix_fmt
    ctx.time_base = time_base
    stream.time_base = time_base
    ctx.color_range = first.tags.color_range or (2 if first.image.full_range else 1)
    ctx.colorspace = first.tags.colorspace
    ctx.color_primaries = first.tags.color_primaries
    ctx.color_trc = first.tags.color_trc
    # Frame threads hold (threads - 1) pictures back, and FFmpeg's libx264 wrapper turns x264's sliced
    # threads off unless asked for slices, undoing what zerolatency sets: live encodes must use slices.
    ctx.thread_type = "SLICE" if settings.tune == "zerolatency" else "AUTO"
    ctx.options = {"crf": str(settings.crf), "preset": settings.preset,
                   **({"tune": settings.tune} if settings.tune else {})}
    if settings.gop:
        ctx.gop_size = settings.gop
    if encoder == "libx265":
        ctx.options = {**ctx.options, "x265-params": "log-level=error"}
    if encoder == "libx265" and format_name in ("mp4", "mov"):
        ctx.codec_tag = "hvc1"       # what Apple players expect for HEVC in MP4
    return stream
