"""An RTSP server (GStreamer's, through PyGObject) that serves the camera's already encoded stream.

The served stream arrives already encoded (the camera's shared encode,
``stream.live.encoded``), so the server only parses and packetises. GStreamer
is loaded when a server is made (``stream.live.gst_init``), never at import.
"""

from __future__ import annotations

import threading

from stream.errors import NocturneError
from stream.live.gst_init import require_gst

# A served codec: (caps name, parser, RTP payloader).
PAYLOADERS = {"h264": ("h264", "h264parse", "rtph264pay"), "hevc": ("h265", "h265parse", "rtph265pay")}
SERVED_BACKLOG_BYTES = 4_000_000  # what a served mount's appsrc may hold (seconds of video) before dropping


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

    def mount_packets(self, path: str, codec: str) -> RtspMount:
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
