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

Live cameras encode once for several outputs: ``PacketEncoder`` produces
``EncodedPacket`` items and each ``PacketSink`` muxes them (MP4, RTSP, HLS)
without encoding again.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.codec.context import Flags as CodecFlags
from av.video.frame import PictureType

from engines.image import resize_image
from stream.errors import OutputError, UsageError
from stream.formats import CONTAINER_FORMATS
from stream.frame import Frame, SidePacket
from stream.planes import image_to_frame
from stream.uri import redact

log = logging.getLogger(__name__)

ENCODERS = {"h264": "libx264", "hevc": "libx265"}
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


class FrameDurations:
    """Each encoded picture's duration, for the packet the encoder makes of it.

    libx264 and libx265 leave packet durations at 0, and the MP4 muxer then
    guesses the last sample's: FFmpeg 8.1.1 (PyAV 17, the PyAV of Python 3.10)
    gives it none, so players and decoders drop the last frame. A frame's own
    duration is used, else the interval since the frame before; both in the
    frames' time base, which is the encoder's.
    """

    def __init__(self) -> None:
        self._by_pts: dict[int, int] = {}
        self._last_pts: int | None = None
        self._step = 0

    def note(self, frame: Frame) -> None:
        """Call for each frame before it is encoded."""
        if self._last_pts is not None and frame.pts > self._last_pts:
            self._step = frame.pts - self._last_pts
            if self._by_pts.get(self._last_pts) == 0:       # its packet is still to come: now its duration is known
                self._by_pts[self._last_pts] = self._step
        self._by_pts[frame.pts] = frame.duration or 0
        self._last_pts = frame.pts

    def take(self, pts: int | None) -> int:
        """The duration of the picture at ``pts`` (0 where unknown), forgotten once taken.

        The newest picture without a duration of its own gets the last interval.
        """
        if pts is None:
            return 0
        return self._by_pts.pop(pts, 0) or (self._step if pts == self._last_pts else 0)


class FileSink:
    """Encodes ``Frame`` items and muxes ``SidePacket`` items into one file.

    The container is opened at the first frame (its size decides the encoder's),
    side packets that arrive before it are held back. Not thread-safe: one
    thread writes. ``close()`` is idempotent.
    """

    def __init__(self, path: str | os.PathLike, settings: EncoderSettings, time_base: Fraction,
                 rate: Fraction | None, side_streams: list[av.stream.Stream] | None = None,
                 timecode: str | None = None) -> None:
        self.path = Path(path)
        self.format = check_output_path(self.path)
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
        self._container: av.container.OutputContainer | None = None
        self._video: av.VideoStream | None = None
        self._side_map: dict[int, av.stream.Stream] = {}
        self._pending: list[SidePacket] = []
        self._closed = False
        self._size: tuple[int, int] = (0, 0)
        self._size_warned = False
        self._durations = FrameDurations()

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
        self._durations.note(item)
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
        self._container = open_container(str(self.path), self.format, options, str(self.path))
        self._size = (first.image.width, first.image.height)
        self._video = add_video_stream(self._container, self.settings, self.rate, self.time_base, first, self.format)
        if first.rotation:
            self._video.set_display_rotation(first.rotation)
        if self.timecode:
            self._video.metadata["timecode"] = self.timecode
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
        # Write the header now, not at the encoder's first packet (frames later with frame threads), so a
        # muxer that cannot start fails at the first frame.
        start_container(self._container, str(self.path))

    def _mux(self, packets: list[av.Packet]) -> None:
        for packet in packets:
            packet.duration = packet.duration or self._durations.take(packet.pts)
            self._container.mux(packet)

    def _mux_side(self, item: SidePacket) -> None:
        out = self._side_map.get(item.stream_index)
        if out is None:
            return
        packet = item.packet
        packet.stream = out
        self._container.mux(packet)


def open_container(target: str, format_name: str, options: dict[str, str],
                   display: str) -> av.container.OutputContainer:
    """``av.open`` for writing; a failure becomes a one-line ``OutputError`` naming ``display`` (redacted)."""
    try:
        return av.open(target, "w", format=format_name, options=options)
    except (av.error.FFmpegError, OSError) as error:
        raise OutputError(f"cannot write {display}: {_reason(error)}") from error


def start_container(container: av.container.OutputContainer, display: str) -> None:
    """Write the header (for RTSP: the ANNOUNCE, so a refusing server is seen here)."""
    try:
        container.start_encoding()
    except (av.error.FFmpegError, OSError) as error:
        raise OutputError(f"cannot write {display}: {_reason(error)}") from error


def _reason(error: BaseException) -> str:
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


@dataclass(frozen=True)
class EncodedPacket:
    """One compressed picture from ``PacketEncoder``: immutable, so one packet can go to several muxers.

    ``pts``/``dts``/``duration`` are in ``time_base`` units (the frames' own;
    ``duration`` 0 where unknown); ``keyframe`` marks where a muxer (a new
    segment, a reconnected server) may start.
    """

    data: bytes
    pts: int | None
    dts: int | None
    time_base: Fraction
    keyframe: bool
    duration: int = 0


class PacketEncoder:
    """Encode frames once for several muxers (``PacketSink``), e.g. a live camera's recording, restream and HLS.

    The encoder puts its parameter sets in the stream's extradata (a global
    header) rather than in the bitstream: MP4 needs them there (avcC/hvcC), the
    RTSP muxer writes them into its SDP, and FFmpeg's MPEG-TS muxer (HLS)
    inserts them before every keyframe itself. ``template`` — the stream
    ``PacketSink`` copies its parameters from — exists from the first frame on.
    Not thread-safe: one thread encodes.
    """

    def __init__(self, settings: EncoderSettings, time_base: Fraction, rate: Fraction | None) -> None:
        if settings.codec not in ENCODERS:
            raise UsageError(f"unknown codec {settings.codec!r}; choose one of {', '.join(ENCODERS)}")
        self.settings, self.time_base, self.rate = settings, time_base, rate
        self.template: av.VideoStream | None = None
        self._holder: av.container.OutputContainer | None = None   # a "null" muxer: PyAV streams live in containers
        self.size: tuple[int, int] = (0, 0)
        self._durations = FrameDurations()

    def encode(self, frame: Frame, keyframe: bool = False) -> list[EncodedPacket]:
        """Packets ready after ``frame``: with ``tune=zerolatency`` (slice threads, no lookahead, no
        B-frames) that is ``frame``'s own, otherwise possibly earlier pictures' or none yet.
        ``keyframe`` forces this picture to be one (an IDR with x264's closed GOPs)."""
        if self.template is None:
            self._open(frame)
        av_frame = image_to_frame(resize_image(frame.image, self.size), self.settings.pix_fmt, frame.tags)
        av_frame.pts = frame.pts
        av_frame.time_base = frame.time_base
        if keyframe:
            av_frame.pict_type = PictureType.I
        self._durations.note(frame)
        return self._packets(self.template.encode(av_frame))

    def flush(self) -> list[EncodedPacket]:
        """The packets the encoder still holds; call once, at the end."""
        return self._packets(self.template.encode(None)) if self.template is not None else []

    def close(self) -> None:
        if self._holder is not None:
            holder, self._holder = self._holder, None
            holder.close()

    def _open(self, first: Frame) -> None:
        self._holder = av.open(os.devnull, "w", format="null")
        self.size = (first.image.width, first.image.height)
        self.template = add_video_stream(self._holder, self.settings, self.rate, self.time_base, first, "null")
        self.template.codec_context.flags |= CodecFlags.global_header
        self._holder.start_encoding()        # opens the encoder: the extradata is there from now on

    def _packets(self, packets: list[av.Packet]) -> list[EncodedPacket]:
        # PyAV 19 gives time bases as its own AVRational; packets carry a Fraction, as frames do.
        return [EncodedPacket(bytes(p), p.pts, p.dts, Fraction(p.time_base) if p.time_base else self.time_base,
                              bool(p.is_keyframe), p.duration or self._durations.take(p.pts)) for p in packets]


class PacketSink:
    """Mux ``EncodedPacket`` items of a ``PacketEncoder`` into one container, without encoding.

    ``target`` is a path or URL, ``format_name`` the muxer (``mp4``, ``hls``,
    ``rtsp`` …) with its ``options``; ``display`` names it in messages (a
    redacted URL). The header is written at construction, so a target that
    cannot be written (a refusing RTSP server) fails there, as ``OutputError``.
    ``write`` shifts timestamps back by ``pts_offset`` (a segment starting at 0).
    """

    def __init__(self, target: str | os.PathLike, template: av.VideoStream, format_name: str,
                 options: dict[str, str] | None = None, display: str | None = None) -> None:
        self.display = display or str(target)
        self._container = open_container(str(target), format_name, dict(options or {}), self.display)
        try:
            self._stream = self._container.add_stream_from_template(template)
            if template.codec_context.name == "libx265" and format_name in ("mp4", "mov"):
                self._stream.codec_context.codec_tag = "hvc1"        # the template's tag is reset on copy
            start_container(self._container, self.display)
        except (OutputError, av.error.FFmpegError, ValueError) as error:
            self._container.close()                                # e.g. the refused RTSP connection
            if isinstance(error, OutputError):
                raise
            raise OutputError(f"cannot write {self.display}: {_reason(error)}") from error
        self._closed = False

    def write(self, packet: EncodedPacket, pts_offset: int = 0) -> None:
        out = av.Packet(packet.data)
        out.pts = None if packet.pts is None else packet.pts - pts_offset
        out.dts = None if packet.dts is None else packet.dts - pts_offset
        out.time_base = packet.time_base
        out.duration = packet.duration
        out.is_keyframe = packet.keyframe
        out.stream = self._stream
        self._container.mux(out)

    def close(self) -> None:
        """Write the trailer. Safe to call twice."""
        if not self._closed:
            self._closed = True
            self._container.close()


def _codec_name(stream: av.stream.Stream) -> str:
    ctx = getattr(stream, "codec_context", None)
    return getattr(ctx, "name", None) or "unknown codec"


def _muxable(format_name: str, stream: av.stream.Stream) -> bool:
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
