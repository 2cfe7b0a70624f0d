"""GStreamer (through PyGObject): camera pipelines into an appsink, and an RTSP server.

Imported only when a ``v4l2://``/``csi://`` source or an ``rtsp://@…`` output
is used: GStreamer comes from the system's packages (Debian:
gstreamer1.0-plugins-{good,bad,ugly}, gstreamer1.0-rtsp,
gir1.2-gst-rtsp-server-1.0; PyGObject < 3.51 builds in a venv against
libgirepository1.0-dev), never from PyPI, so a machine without it must still
run everything else.

Camera pictures arrive as I420 (8-bit 4:2:0, limited range): what
``videoconvert`` and ``nvvidconv`` speak, and what nocturne's planes already
are. The served stream goes the other way already encoded (the camera's shared
encode), so the RTSP server only parses and packetises.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from engines.image import YuvImage
from stream.errors import NocturneError
from stream.live.reader import Decoded, SourceError
from stream.pacing import frame_rate
from stream.planes import matrix_for, pad_even, rgb_source_tags
from stream.uri import SourceSpec, parse_rate, parse_size

_PULL_NS = 200_000_000            # appsink polls (0.2 s) so a stop request is seen quickly
# A served codec: (caps name, parser, RTP payloader).
PAYLOADERS = {"h264": ("h264", "h264parse", "rtph264pay"), "hevc": ("h265", "h265parse", "rtph265pay")}
SERVED_BACKLOG_BYTES = 4_000_000  # what a served mount's appsrc may hold (seconds of video) before dropping
APT_PACKAGES = ("gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly "
                "gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 libgirepository1.0-dev")


class GStreamerMissingError(NocturneError, RuntimeError):
    """GStreamer or PyGObject is not installed; the message says what to install."""

    exit_code = 2


def require_gst(rtsp_server: bool = False) -> Any:
    """The ``gi.repository`` module with Gst initialised (and GstRtspServer loadable if asked)."""
    try:
        import gi

        gi.require_version("Gst", "1.0")
        gi.require_version("GstVideo", "1.0")
        if rtsp_server:
            gi.require_version("GstRtspServer", "1.0")
            from gi.repository import GstRtspServer  # noqa: F401 — loads the typelib into gi.repository
        from gi import repository
        from gi.repository import GLib, Gst, GstVideo  # noqa: F401
    except (ImportError, ValueError) as error:
        raise GStreamerMissingError(f"this needs GStreamer with PyGObject ({error}); on Debian/Ubuntu: "
                                    f"apt-get install {APT_PACKAGES}, then pip install 'PyGObject<3.51'") from None
    Gst.init(None)
    return repository


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

    def frames(self, stop) -> Iterator[Decoded]:
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


class RtspServer:
    """A GStreamer RTSP server on ``host:port``; its GLib main loop runs in a daemon thread.

    ``mount_packets`` serves the H.264/HEVC access units nocturne pushes (its
    camera's shared encode: nothing is encoded here); ``mount_launch`` serves
    any gst-launch description (the tests' camera). ``credentials`` (user,
    password) requires basic auth.
    """

    def __init__(self, host: str, port: int, credentials: tuple[str, str] | None = None) -> None:
        repo = require_gst(rtsp_server=True)
        self._GLib, self._Gst, self._Rtsp = repo.GLib, repo.Gst, repo.GstRtspServer
        self.host, self.port, self.credentials = host, port, credentials
        self.server = self._Rtsp.RTSPServer()
        self.server.set_address(host)
        self.server.set_service(str(port))
        if credentials:
            self._set_auth(*credentials)
        self._context = self._GLib.MainContext.new()
        self._loop = self._GLib.MainLoop.new(self._context, False)
        try:
            self._source_id = self.server.attach(self._context)
        except Exception as error:  # noqa: BLE001 — GLib.Error: the port is taken or not ours
            raise NocturneError(f"cannot serve RTSP on {host}:{port}: {getattr(error, 'message', error)}") from None
        self._thread = threading.Thread(target=self._loop.run, name=f"rtsp-server:{port}", daemon=True)
        self._thread.start()

    def _set_auth(self, user: str, password: str) -> None:
        Rtsp = self._Rtsp
        auth = Rtsp.RTSPAuth()
        token = Rtsp.RTSPToken()
        token.set_string(Rtsp.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "user")
        auth.add_basic(Rtsp.RTSPAuth.make_basic(user, password), token)
        self.server.set_auth(auth)

    def _factory(self, launch: str):
        factory = self._Rtsp.RTSPMediaFactory()
        factory.set_launch(launch)
        factory.set_shared(True)
        if self.credentials:
            permissions = self._Rtsp.RTSPPermissions()
            permissions.add_role_from_structure(self._Gst.Structure.new_from_string(
                "user, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"))
            factory.set_permissions(permissions)
        return factory

    def mount_launch(self, path: str, launch: str) -> None:
        """Serve ``launch`` (payloader named ``pay0``) at ``rtsp://host:port{path}``."""
        self.server.get_mount_points().add_factory(path, self._factory(launch))

    def mount_packets(self, path: str, codec: str) -> "RtspMount":
        """A mount fed by ``RtspMount.push`` with Annex B access units of ``codec`` (``h264``/``hevc``),
        parameter sets before each keyframe; one media shared by every viewer. The viewer who starts
        the media asks for a keyframe (``RtspMount.take_keyframe_request``); later viewers of the
        shared media wait for the next one (``live.keyint_s``)."""
        caps = f"video/x-{PAYLOADERS[codec][0]},stream-format=byte-stream,alignment=au"
        launch = (f"( appsrc name=src is-live=true format=time do-timestamp=true caps={caps} "
                  f"max-bytes={SERVED_BACKLOG_BYTES} "
                  f"! {PAYLOADERS[codec][1]} config-interval=-1 ! {PAYLOADERS[codec][2]} name=pay0 pt=96 )")
        mount = RtspMount(self._Gst)
        factory = self._factory(launch)
        factory.connect("media-configure", mount.attach)
        self.server.get_mount_points().add_factory(path, factory)
        return mount

    def close(self) -> None:
        """Stop serving: viewers are disconnected, the port is released."""
        if self._loop is None:
            return
        self.server.client_filter(lambda _server, _client, _data=None: self._Rtsp.RTSPFilterResult.REMOVE)
        source = self._context.find_source_by_id(self._source_id)
        if source is not None:
            source.destroy()
        self._loop.quit()
        self._thread.join(timeout=2.0)
        self._loop = None


class RtspMount:
    """The appsrc of a served mount. ``push`` is a no-op while nobody watches (``watched`` is False);
    ``take_keyframe_request`` is True once after a viewer started the media (its picture needs one).

    ``attach`` and ``_detach`` run in GStreamer's main-loop thread, the rest in
    the camera's output thread: one lock keeps the two sides consistent.
    """

    def __init__(self, Gst) -> None:
        self._Gst = Gst
        self._lock = threading.Lock()
        self._media = None
        self._appsrc = None
        self._keyframe_wanted = False

    @property
    def watched(self) -> bool:
        return self._appsrc is not None

    def take_keyframe_request(self) -> bool:
        with self._lock:
            wanted, self._keyframe_wanted = self._keyframe_wanted, False
        return wanted

    def attach(self, _factory, media) -> None:
        """media-configure: a viewer made the shared media start."""
        appsrc = media.get_element().get_by_name_recurse_up("src")
        # Bounded: if the media stalls, the oldest data goes (viewers recover at the next keyframe).
        # leaky-type is GStreamer >= 1.20; older ones (JetPack 5 has 1.16) block-free queue past max-bytes.
        if appsrc.find_property("leaky-type") is not None:
            appsrc.set_property("leaky-type", "downstream")
        with self._lock:
            self._media = media
            self._appsrc = appsrc
            self._keyframe_wanted = True
        media.connect("unprepared", self._detach)

    def _detach(self, media) -> None:
        with self._lock:
            if media is self._media:           # an older media's late "unprepared" must not end a newer one
                self._media = self._appsrc = None

    def push(self, access_unit: bytes) -> None:
        appsrc = self._appsrc
        if appsrc is not None:
            appsrc.emit("push-buffer", self._Gst.Buffer.new_wrapped(access_unit))
