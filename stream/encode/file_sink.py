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
from fractions import Fraction
from pathlib import Path

import av

from stream.encode.container import add_video_stream, open_container, start_container
from stream.encode.durations import FrameDurations
from stream.encode.settings import ENCODERS, FRAGMENTED_OPTIONS, EncoderSettings, check_output_path
from stream.errors import UsageError
from stream.frame import Frame, SidePacket
from stream.planes import image_to_frame

log = logging.getLogger(__name__)


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
            packet.duration = self._durations.take(packet.pts, packet.duration)
            self._container.mux(packet)

    def _mux_side(self, item: SidePacket) -> None:
        out = self._side_map.get(item.stream_index)
        if out is None:
            return
        packet = item.packet
        packet.stream = out
        self._container.mux(packet)


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
