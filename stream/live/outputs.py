"""Live outputs: record, publish or serve RTSP, HLS, the preview page, null.

An output is opened in two steps: construction (at start, before any frame:
paths checked, ports bound, so a mistake fails at once) and the first
``write`` (the size and rate are known then). Each runs in its own thread
behind its own queue (``stream.live.camera``), so a slow or broken output
never holds the others back. ``close`` is idempotent and finalises files.

Two kinds: frame outputs take the paced pictures (``OutFrame``: the preview,
null); muxing outputs (``encoded = True``: recordings, RTSP publish and serve,
HLS) take the packets of the camera's one shared encode (``stream.live.encoded``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import av

from engines.image import YuvImage
from stream.config import EncodeSection, LiveSection
from stream.encode import FRAGMENTED_OPTIONS, PacketSink, check_output_path
from stream.errors import OutputError
from stream.frame import Frame
from stream.live.encoded import LivePacket
from stream.live.sources import Backoff, describe_failure
from stream.uri import OutputSpec



@dataclass(frozen=True)
class OutFrame:
    """What the pacer hands every output at each tick.

    ``frame``: the enhanced picture, ``pts`` = tick index in ``time_base`` 1/fps;
    ``before``: the picture as the camera gave it (the preview's left side);
    ``fresh``: False for a repeated frame or a "no signal" frame.
    """

    frame: Frame
    before: YuvImage
    fresh: bool

    @property
    def latency_from(self) -> float | None:
        """When the picture arrived from the camera (monotonic), for fresh pictures; None for repeats."""
        return self.frame.arrival_s if self.fresh else None


class Output(Protocol):
    name: str

    def write(self, item: OutFrame) -> None: ...

    def close(self) -> None: ...


@dataclass
class OutputContext:
    """What an output needs from its camera and the process."""

    camera: str
    encode: EncodeSection
    live: LiveSection
    on_event: Callable[[str], None]
    on_reconnect: Callable[[str], None]
    servers: "SharedServers"


@dataclass
class SharedServers:
    """RTSP and preview servers of the process, one per (host, port), shared by cameras."""

    rtsp: dict[tuple[str, int], object] = field(default_factory=dict)
    previews: dict[tuple[str, int], object] = field(default_factory=dict)

    def rtsp_server(self, host: str, port: int, credentials: tuple[str, str] | None = None):
        from stream.live.gst import RtspServer

        key = (host, port)
        if key not in self.rtsp:
            self.rtsp[key] = RtspServer(host, port, credentials=credentials)
        elif self.rtsp[key].credentials != credentials:
            raise OutputError(f"RTSP server on {host}:{port}: cameras sharing it must use the same user and password")
        return self.rtsp[key]

    def preview_server(self, host: str, port: int, token: str | None):
        from stream.live.preview import PreviewServer

        key = (host, port)
        if key not in self.previews:
            self.previews[key] = PreviewServer(host, port, token)
        elif self.previews[key].token != token:
            raise OutputError(f"preview on {host}:{port}: cameras sharing it must use the same token")
        return self.previews[key]

    def close(self) -> None:
        for server in [*self.rtsp.values(), *self.previews.values()]:
            server.close()
        self.rtsp.clear()
        self.previews.clear()


class FileOutput:
    """Record to a file: fragmented MP4 (a crash loses at most a keyframe interval), optionally in segments.

    With ``live.segment_s`` the recording is cut at the first keyframe after
    every that many seconds, into ``NAME-YYYYmmdd-HHMMSS.ext`` (local time of
    the segment's first frame); each segment starts at time 0.
    """

    encoded = True

    def __init__(self, spec: OutputSpec, ctx: OutputContext) -> None:
        self.path = Path(spec.target)
        self.format = check_output_path(self.path)
        self.name, self.ctx = spec.display, ctx
        self.segment_s = ctx.live.segment_s
        self.files: list[Path] = []
        self._sink: PacketSink | None = None
        self._segment_start_pts = 0

    def write(self, item: LivePacket) -> None:
        packet = item.packet
        if self._sink is not None and self.segment_s and packet.keyframe:
            if (packet.pts - self._segment_start_pts) * packet.time_base >= self.segment_s:
                self._sink.close()
                self._sink = None
        if self._sink is None:
            if not packet.keyframe:
                return                   # a file starts at a keyframe (the queue resumes at one after drops)
            self._sink = self._open(item)
            self._segment_start_pts = packet.pts
        self._sink.write(packet, pts_offset=self._segment_start_pts)

    def _open(self, item: LivePacket) -> PacketSink:
        path = self.path
        if self.segment_s:
            path = self.path.with_name(f"{self.path.stem}-{time.strftime('%Y%m%d-%H%M%S')}{self.path.suffix}")
            if path in self.files:       # two segments in one second (tiny segment_s): keep both
                path = path.with_name(f"{path.stem}-{len(self.files)}{path.suffix}")
        options = FRAGMENTED_OPTIONS if self.format in ("mp4", "mov") else {}
        sink = PacketSink(path, item.template, self.format, options)
        self.files.append(path)
        return sink

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None


class RtspPublishOutput:
    """Publish to an RTSP server (ANNOUNCE/RECORD, e.g. MediaMTX) with PyAV; reconnects with backoff.

    While the server is away packets are skipped; the next attempt waits
    ``reconnect`` backoff and starts at the next keyframe (so attempts are at
    least ``live.keyint_s`` apart: forcing keyframes for it would bloat the
    other outputs for as long as the server stays away).
    """

    encoded = True

    def __init__(self, spec: OutputSpec, ctx: OutputContext) -> None:
        self.url, self.name, self.ctx = spec.target, spec.display, ctx
        self._sink: PacketSink | None = None
        self._backoff = Backoff(ctx.live.reconnect.initial_s, ctx.live.reconnect.max_s)
        self._retry_at = 0.0
        self._down_reason = ""

    def write(self, item: LivePacket) -> None:
        if self._sink is None and (time.monotonic() < self._retry_at or not item.packet.keyframe):
            return
        try:
            if self._sink is None:
                self._sink = PacketSink(self.url, item.template, "rtsp", display=self.name,
                                        options={"rtsp_transport": self.ctx.live.rtsp_transport})
            self._sink.write(item.packet)
            if self._down_reason:
                self.ctx.on_event(f"{self.name}: publishing again")
                self._down_reason = ""
            self._backoff.reset()
        except (OutputError, av.error.FFmpegError, OSError) as error:
            self._fail(str(error) if isinstance(error, OutputError) else describe_failure(error, self.ctx.live.timeout_s))

    def _fail(self, reason: str) -> None:
        self._close_quietly()
        wait = self._backoff.next()
        self._retry_at = time.monotonic() + wait
        self.ctx.on_reconnect(self.name)
        if reason != self._down_reason:
            self.ctx.on_event(f"{self.name}: {reason}; retrying every ≤ {self.ctx.live.reconnect.max_s:g} s")
            self._down_reason = reason

    def _close_quietly(self) -> None:
        sink, self._sink = self._sink, None
        if sink is not None:
            try:
                sink.close()
            except (av.error.FFmpegError, OSError):
                pass       # the server is gone: nothing left to flush to

    def close(self) -> None:
        self._close_quietly()


class HlsOutput:
    """HLS into a folder: ``index.m3u8`` and ``seg_NNNNN.ts`` segments (the newest few kept)."""

    encoded = True
    SEGMENTS_KEPT = 6

    def __init__(self, spec: OutputSpec, ctx: OutputContext) -> None:
        self.folder, self.name, self.ctx = Path(spec.target), spec.display, ctx
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(f"cannot create {self.folder}: {error.strerror}") from None
        if not os.access(self.folder, os.W_OK):
            raise OutputError(f"cannot write into {self.folder}: permission denied")
        self._sink: PacketSink | None = None

    def write(self, item: LivePacket) -> None:
        if self._sink is None:
            if not item.packet.keyframe:
                return
            seconds = max(1, round(2 * self.ctx.live.keyint_s))
            options = {"hls_time": str(seconds), "hls_list_size": str(self.SEGMENTS_KEPT),
                       "hls_flags": "delete_segments+independent_segments",
                       "hls_segment_filename": str(self.folder / "seg_%05d.ts")}
            self._sink = PacketSink(self.folder / "index.m3u8", item.template, "hls", options, display=self.name)
        self._sink.write(item.packet)

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None


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
        self._mount = None
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


class PreviewOutput:
    """Feed this camera's before/after pictures to the preview page."""

    def __init__(self, spec: OutputSpec, ctx: OutputContext, snapshot: Callable[[], dict]) -> None:
        token = spec.options.get("token") or None
        self.server = ctx.servers.preview_server(spec.host, spec.port, token)
        self.feed = self.server.add_camera(ctx.camera, snapshot)
        self.name = f"preview http://{spec.host}:{spec.port}/"

    def write(self, item: OutFrame) -> None:
        self.feed.update(item.before, item.frame.image)

    def close(self) -> None:
        self.feed.update(None, None)


class NullOutput:
    name = "null://"

    def write(self, item: OutFrame) -> None:
        pass

    def close(self) -> None:
        pass


def open_output(spec: OutputSpec, ctx: OutputContext, snapshot: Callable[[], dict]) -> Output:
    """The output for a parsed URI (the one registry of output kinds); binds and checks at once."""
    if spec.kind == "file":
        return FileOutput(spec, ctx)
    if spec.kind == "rtsp-publish":
        return RtspPublishOutput(spec, ctx)
    if spec.kind == "rtsp-serve":
        return RtspServeOutput(spec, ctx)
    if spec.kind == "hls":
        return HlsOutput(spec, ctx)
    if spec.kind == "preview":
        return PreviewOutput(spec, ctx, snapshot)
    return NullOutput()
