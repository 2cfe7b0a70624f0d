"""File sink: encode frames with libx264/libx265 and mux them with copied streams.

The container follows the output's extension (.mp4/.m4v/.mov → MP4/MOV,
.mkv → Matroska). Audio and subtitle streams of the input are copied packet
for packet (never re-encoded, so they stay bit-exact and in sync) when the
container can hold their codec; otherwise they are dropped with a warning.
Data streams are dropped with a warning: FFmpeg's MP4/MOV muxers accept some
of them at the header and then fail at the trailer, which would lose the whole
file. A timecode (what MOV ``tmcd`` data tracks carry) is kept as the video
stream's ``timecode`` tag, from which the MP4/MOV muxer writes a fresh track.
Colour tags and display rotation are carried over. ``close()`` flushes the
encoder and writes the trailer, so an interrupted run still leaves a playable
file of the frames done.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from stream.errors import OutputError, UsageError
from stream.frame import Frame, SidePacket
from stream.planes import image_to_frame
from stream.uri import redact

log = logging.getLogger(__name__)

ENCODERS = {"h264": "libx264", "hevc": "libx265"}
CONTAINER_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
# A fragmented file must also reach the disk fragment by fragment: without flush_packets FFmpeg keeps
# up to 32 KB in its write buffer, which at a dark, still camera's bitrate is many seconds (measured:
# 5.6 s of a 320x240 recording were 28 bytes on disk). The muxer only writes whole fragments, so a
# flush per packet costs nothing between keyframes.
FRAGMENTED_OPTIONS = {"movflags": "+frag_keyframe+empty_moov+default_base_moof", "flush_packets": "1"}


@dataclass(frozen=True)
class EncoderSettings:
    """Video encoder settings. ``pix_fmt`` decides the output bit depth (8 or 10)."""

    codec: str = "h264"
    crf: int = 20
    preset: str = "veryfast"
    pix_fmt: str = "yuv420p"
    fragmented: bool = False
    gop: int | None = None         # frames between keyframes (None: the encoder's default, 250 for x264)
    tune: str | None = None        # x264/x265 tune, e.g. "zerolatency" for live: no B-frames, no lookahead

    @property
    def bit_depth(self) -> int:
        return 10 if self.pix_fmt.endswith("10le") else 8


def check_output_path(path: Path) -> str:
    """Validate an output video path before any work; returns the container format name."""
    fmt = CONTAINER_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(f"output {path.name}: unknown container; use one of {', '.join(CONTAINER_FORMATS)}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"cannot write {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise OutputError(f"cannot write {path}: permission denied")
    return fmt


class FileSink:
    """Encodes ``Frame`` items and muxes ``SidePacket`` items into one file.

    The container is opened at the first frame (its size decides the encoder's),
    side packets that arrive before it are held back. Not thread-safe: one
    thread writes. ``close()`` is idempotent.
    """

    def __init__(self, path: str | os.PathLike, settings: EncoderSettings, time_base: Fraction,
                 rate: Fraction | None, side_streams: list | None = None, timecode: str | None = None,
                 container_format: str | None = None, container_options: dict[str, str] | None = None,
                 display: str | None = None) -> None:
        """``container_format`` (with its muxer ``container_options``) names a muxer the path's suffix
        does not (``hls``, ``rtsp`` with a URL as ``path``); ``display`` is the name used in messages
        (a redacted URL)."""
        self.path = Path(path)
        self._target = str(path)
        self.display = display or str(self.path)
        self.format = container_format or check_output_path(self.path)
        self.container_options = dict(container_options or {})
        if settings.codec not in ENCODERS:
            raise UsageError(f"unknown codec {settings.codec!r}; choose one of {', '.join(ENCODERS)}")
        self.settings = settings
        self.time_base = time_base
        self.rate = rate
        self.side_streams = side_streams or []
        self.timecode = timecode
        self.dropped_streams: list[str] = []
        self.frames_written = 0
        self.first_time_s: float | None = None     # presentation times of the first/last frame written
        self.last_time_s: float | None = None
        self._container = None
        self._video = None
        self._side_map: dict[int, object] = {}
        self._pending: list[SidePacket] = []
        self._closed = False
        self._size: tuple[int, int] = (0, 0)
        self._size_warned = False

    def write(self, item: Frame | SidePacket) -> None:
        if isinstance(item, SidePacket):
            if self._container is None:
                self._pending.append(item)
            else:
                self._mux_side(item)
            return
        if self._container is None:
            self._open(item)
        elif (item.image.width, item.image.height) != self._size and not self._size_warned:
            self._size_warned = True
            log.warning("resolution changed mid-stream (%dx%d → %dx%d); scaling to the first size",
                        *self._size, item.image.width, item.image.height)
        av_frame = image_to_frame(item.image, self.settings.pix_fmt, item.tags)
        av_frame.pts = item.pts
        av_frame.time_base = item.time_base
        self._mux(self._video.encode(av_frame))
        self.frames_written += 1
        self.last_time_s = float(item.time)
        if self.first_time_s is None:
            self.first_time_s = self.last_time_s

    def close(self) -> None:
        """Flush the encoder, write the trailer. Safe to call twice or after a failure."""
        if self._closed:
            return
        self._closed = True
        if self._container is None:
            return
        try:
            self._mux(self._video.encode(None))
        finally:
            self._container.close()

    def _open(self, first: Frame) -> None:
        options = FRAGMENTED_OPTIONS if self.settings.fragmented and self.format in ("mp4", "mov") else {}
        try:
            self._container = av.open(self._target, "w", format=self.format, options={**options, **self.container_options})
        except (av.error.FFmpegError, OSError) as error:
            reason = redact(str(getattr(error, "strerror", None) or error))
            raise OutputError(f"cannot write {self.display}: {reason}") from error
        self._video = self._add_video_stream(first)
        for stream in self.side_streams:
            if stream.type != "data" and _muxable(self.format, stream):
                self._side_map[stream.index] = self._container.add_stream_from_template(stream)
                continue
            name = f"#{stream.index} {stream.type} ({_codec_name(stream)})"
            if stream.type != "data":
                reason = f"{self.path.suffix} cannot hold it"
            elif stream.metadata.get("timecode") and self.timecode:
                reason = f"its timecode {self.timecode} is kept on the video stream"
            else:
                reason = "data streams are not copied (the muxers accept them, then fail at the end of the file)"
            self.dropped_streams.append(name)
            log.warning("stream %s dropped: %s", name, reason)
        for packet in self._pending:
            self._mux_side(packet)
        self._pending.clear()
        # Write the header now, not at the encoder's first packet (frames later with frame threads): a
        # muxer that cannot start (a refused RTSP server: its header is the ANNOUNCE) fails at the first frame.
        try:
            self._container.start_encoding()
        except (av.error.FFmpegError, OSError) as error:
            reason = redact(str(getattr(error, "strerror", None) or error))
            raise OutputError(f"cannot write {self.display}: {reason}") from error

    def _add_video_stream(self, first: Frame):
        encoder = ENCODERS[self.settings.codec]
        stream = self._container.add_stream(encoder, rate=self.rate)
        ctx = stream.codec_context
        ctx.width, ctx.height = self._size = (first.image.width, first.image.height)
        ctx.pix_fmt = self.settings.pix_fmt
        ctx.time_base = self.time_base
        stream.time_base = self.time_base
        ctx.color_range = first.tags.color_range or (2 if first.image.full_range else 1)
        ctx.colorspace = first.tags.colorspace
        ctx.color_primaries = first.tags.color_primaries
        ctx.color_trc = first.tags.color_trc
        ctx.thread_type = "AUTO"
        ctx.options = {"crf": str(self.settings.crf), "preset": self.settings.preset,
                       **({"tune": self.settings.tune} if self.settings.tune else {})}
        if self.settings.gop:
            ctx.gop_size = self.settings.gop
        if encoder == "libx265":
            ctx.options = {**ctx.options, "x265-params": "log-level=error"}
            if self.format in ("mp4", "mov"):
                ctx.codec_tag = "hvc1"       # what Apple players expect for HEVC in MP4
        if first.rotation:
            stream.set_display_rotation(first.rotation)
        if self.timecode:
            stream.metadata["timecode"] = self.timecode
        return stream

    def _mux(self, packets) -> None:
        for packet in packets:
            self._container.mux(packet)

    def _mux_side(self, item: SidePacket) -> None:
        out = self._side_map.get(item.stream_index)
        if out is None:
            return
        packet = item.packet
        packet.stream = out
        self._container.mux(packet)


def _codec_name(stream) -> str:
    ctx = getattr(stream, "codec_context", None)
    return getattr(ctx, "name", None) or "unknown codec"


def _muxable(format_name: str, stream) -> bool:
    """Whether a ``format_name`` container accepts a copy of ``stream`` (tried in memory)."""
    try:
        probe = av.open(io.BytesIO(), "w", format=format_name)
        try:
            probe.add_stream_from_template(stream)
            probe.start_encoding()
        finally:
            probe.close()
        return True
    except (av.error.FFmpegError, ValueError, TypeError, NotImplementedError):
        return False
