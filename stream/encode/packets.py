"""One encode, several muxers: what live cameras use.

Live cameras encode once for several outputs: ``PacketEncoder`` produces
``EncodedPacket`` items and each ``PacketSink`` muxes them (MP4, RTSP, HLS)
without encoding again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

import av
from av.codec.context import Flags as CodecFlags
from av.video.frame import PictureType

from engines.image import resize_image
from stream.encode.container import add_video_stream, failure_reason, open_container, start_container
from stream.encode.durations import FrameDurations
from stream.encode.settings import ENCODERS, EncoderSettings
from stream.errors import OutputError, UsageError
from stream.frame import Frame
from stream.planes import image_to_frame


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
                              bool(p.is_keyframe), self._durations.take(p.pts, p.duration)) for p in packets]


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
        # Annotated so that tools.pyav_uses (which follows return types within one file only) sees a PyAV container.
        self._container: av.container.OutputContainer = open_container(str(target), format_name,
                                                                       dict(options or {}), self.display)
        try:
            self._stream = self._container.add_stream_from_template(template)
            if template.codec_context.name == "libx265" and format_name in ("mp4", "mov"):
                self._stream.codec_context.codec_tag = "hvc1"        # the template's tag is reset on copy
            start_container(self._container, self.display)
        except (OutputError, av.error.FFmpegError, ValueError) as error:
            self._container.close()                                # e.g. the refused RTSP connection
            if isinstance(error, OutputError):
                raise
            raise OutputError(f"cannot write {self.display}: {failure_reason(error)}") from error
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
