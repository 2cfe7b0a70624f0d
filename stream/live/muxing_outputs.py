"""Outputs that mux the camera's shared encode: recordings, RTSP publish, HLS, and the served RTSP mount.

Each is handed ``LivePacket`` items (``stream.live.encoded``): packets of one
x264/x265 encode shared by all of them, with the encoder's stream as the
template a ``PacketSink`` is built from. Recordings, RTSP publish and HLS are
``SinkOutput``s: a ``PacketSink`` opened at the first keyframe (what comes
before it would not decode) and finalised by an idempotent ``close``; the
subclasses add only where and how their sink opens. The served mount
(``RtspServeOutput``) hands packets to GStreamer's RTSP server instead.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import av

from stream.encode import FRAGMENTED_OPTIONS, PacketSink, check_output_path
from stream.errors import OutputError
from stream.live.av_failures import describe_failure
from stream.live.backoff import Backoff
from stream.live.encoded import LivePacket
from stream.live.output import OutputContext
from stream.live.rtsp_server import RtspMount
from stream.uri import OutputSpec


class SinkOutput:
    """A muxing output writing into a ``PacketSink`` that opens at the first keyframe it is handed.

    Packets before that keyframe are skipped: the pictures they hold would not
    decode (the ``GopQueue`` in front resumes at a keyframe after drops, so the
    same holds later). ``close`` finalises the sink; it is idempotent, and a
    later keyframe opens a new sink (the next segment, a reconnected server).
    Subclasses give ``_open`` and may refine ``_may_open``, ``_write`` and ``_close_sink``.
    """

    encoded = True
    name: str

    def __init__(self) -> None:
        self._sink: PacketSink | None = None

    def write(self, item: LivePacket) -> None:
        if self._sink is None:
            if not item.packet.keyframe or not self._may_open():
                return                   # a muxer starts at a keyframe (the queue resumes at one after drops)
            self._sink = self._open(item)
        self._write(item)

    def _may_open(self) -> bool:
        """Whether a sink may open now (at a keyframe); RTSP publishing waits out its backoff."""
        return True

    def _open(self, item: LivePacket) -> PacketSink:
        """A new sink for the stream of ``item`` (a keyframe's packet; ``item.template`` is the encoder's stream)."""
        raise NotImplementedError

    def _write(self, item: LivePacket) -> None:
        self._sink.write(item.packet)

    def close(self) -> None:
        sink, self._sink = self._sink, None
        if sink is not None:
            self._close_sink(sink)

    def _close_sink(self, sink: PacketSink) -> None:
        sink.close()


class FileOutput(SinkOutput):
    """Record to a file: fragmented MP4 (a crash loses at most a keyframe interval), optionally in segments.

    With ``live.segment_s`` the recording is cut at the first keyframe after
    every that many seconds, into ``NAME-YYYYmmdd-HHMMSS.ext`` (local time of
    the segment's first frame); each segment starts at time 0.
    """

    def __init__(self, spec: OutputSpec, ctx: OutputContext) -> None:
        super().__init__()
        self.path = Path(spec.target)
        self.format = check_output_path(self.path)
        self.name, self.ctx = spec.display, ctx
        self.segment_s = ctx.live.segment_s
        self.files: list[Path] = []
        self._segment_start_pts = 0      # in the packets' time base: where the open segment's time 0 is

    def write(self, item: LivePacket) -> None:
        packet = item.packet
        if (self._sink is not None and self.segment_s and packet.keyframe
                and (packet.pts - self._segment_start_pts) * packet.time_base >= self.segment_s):
            self.close()                 # this keyframe opens the next segment
        super().write(item)

    def _open(self, item: LivePacket) -> PacketSink:
        path = self.path
        if self.segment_s:
            path = self.path.with_name(f"{self.path.stem}-{time.strftime('%Y%m%d-%H%M%S')}{self.path.suffix}")
            if path in self.files:       # two segments in one second (tiny segment_s): keep both
                path = path.with_name(f"{path.stem}-{len(self.files)}{path.suffix}")
        options = FRAGMENTED_OPTIONS if self.format in ("mp4", "mov") else {}
        sink = PacketSink(path, item.template, self.format, options)
        self.files.append(path)
        self._segment_start_pts = item.packet.pts
        return sink

    def _write(self, item: LivePacket) -> None:
        self._sink.write(item.packet, pts_offset=self._segment_start_pts)


class RtspPublishOutput(SinkOutput):
    """Publish to an RTSP server (ANNOUNCE/RECORD, e.g. MediaMTX) with PyAV; reconnects with backoff.

    While the server is away packets are skipped; the next attempt waits
    ``reconnect`` backoff and starts at the next keyframe (so attempts are at
    least ``live.keyint_s`` apart: forcing keyframes for it would bloat the
    other outputs for as long as the server stays away).
    """

    def __init__(self, spec: OutputSpec, ctx: OutputContext) -> None:
        super().__init__()
        self.url, self.name, self.ctx = spec.target, spec.display, ctx
        self._backoff = Backoff(ctx.live.reconnect.initial_s, ctx.live.reconnect.max_s)
        self._retry_at = 0.0             # monotonic time before which no new connection is tried
        self._down_reason = ""

    def write(self, item: LivePacket) -> None:
        try:
            super().write(item)
        except (OutputError, av.error.FFmpegError, OSError) as error:
            self._fail(str(error) if isinstance(error, OutputError) else describe_failure(error, self.ctx.live.timeout_s))

    def _may_open(self) -> bool:
        return time.monotonic() >= self._retry_at

    def _open(self, item: LivePacket) -> PacketSink:
        return PacketSink(self.url, item.template, "rtsp", display=self.name,
                          options={"rtsp_transport": self.ctx.live.rtsp_transport})

    def _write(self, item: LivePacket) -> None:
        self._sink.write(item.packet)
        if self._down_reason:
            self.ctx.on_event(f"{self.name}: publishing again")
            self._down_reason = ""
        self._backoff.reset()

    def _fail(self, reason: str) -> None:
        self.close()
        wait = self._backoff.next()
        self._retry_at = time.monotonic() + wait
        self.ctx.on_reconnect(self.name)
        if reason != self._down_reason:
            self.ctx.on_event(f"{self.name}: {reason}; retrying every ≤ {self.ctx.live.reconnect.max_s:g} s")
            self._down_reason = reason

    def _close_sink(self, sink: PacketSink) -> None:
        try:
            sink.close()
        except (av.error.FFmpegError, OSError):
            pass       # the server is gone: nothing left to flush to


class HlsOutput(SinkOutput):
    """HLS into a folder: ``index.m3u8`` and ``seg_NNNNN.ts`` segments (the newest few kept)."""

    SEGMENTS_KEPT = 6

    def __init__(self, spec: OutputSpec, ctx: OutputContext) -> None:
        super().__init__()
        self.folder, self.name, self.ctx = Path(spec.target), spec.display, ctx
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(f"cannot create {self.folder}: {error.strerror}") from None
        if not os.access(self.folder, os.W_OK):
            raise OutputError(f"cannot write into {self.folder}: permission denied")

    def _open(self, item: LivePacket) -> PacketSink:
        seconds = max(1, round(2 * self.ctx.live.keyint_s))
        options = {"hls_time": str(seconds), "hls_list_size": str(self.SEGMENTS_KEPT),
                   "hls_flags": "delete_segments+independent_segments",
                   "hls_segment_filename": str(self.folder / "seg_%05d.ts")}
        return PacketSink(self.folder / "index.m3u8", item.template, "hls", options, display=self.name)


class RtspServeOutput:
    """Serve the enhanced stream ourselves at ``rtsp://host:port/path`` (GStreamer's RTSP server).

    It muxes the camera's shared encode like the other muxing outputs: the
    server parses and packetises, it encodes nothing. The parameter sets (in
    the encoder's extradata) go before every keyframe, so a viewer can join at any;
    the first viewer of the media gets one at once (``wants_keyframe``), and
    while nobody watches the encode rests if no other output needs it (``idle``).
    """

    encoded = True

    def __init__(self, spec: OutputSpec, ctx: OutputContext) -> None:
        self.spec, self.ctx = spec, ctx
        self.name = f"rtsp://{spec.host}:{spec.port}{spec.path}"
        user, password = spec.options.get("user"), spec.options.get("password")
        self.server = ctx.servers.rtsp_server(spec.host, spec.port, (user, password) if user else None)
        self._mount: RtspMount | None = None
        self._parameter_sets = b""

    @property
    def idle(self) -> bool:
        """Mounted and nobody watching: the shared encode may rest (see ``stream.live.encoded``)."""
        return self._mount is not None and not self._mount.watched

    def wants_keyframe(self) -> bool:
        return self._mount is not None and self._mount.take_keyframe_request()

    def write(self, item: LivePacket) -> None:
        if self._mount is None:
            self._mount = self.server.mount_packets(self.spec.path, self.ctx.encode.codec)
            self._parameter_sets = bytes(item.template.codec_context.extradata or b"")
            self.ctx.on_event(f"serving {self.name}")
        packet = item.packet
        self._mount.push(self._parameter_sets + packet.data if packet.keyframe else packet.data)

    def close(self) -> None:
        self._mount = None           # the shared server is closed by its owner
