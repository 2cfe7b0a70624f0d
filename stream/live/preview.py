"""The preview page: a live before/after split view of each camera, and its metrics.

A small HTTP server from the standard library (one thread per viewer):

    /                              the page (``?camera=NAME`` picks a camera)
    /stream/NAME/before.mjpg       Motion JPEG (multipart/x-mixed-replace): the camera as it comes
    /stream/NAME/after.mjpg        … and enhanced
    /stats.json                    {camera: {fps_in, fps_out, dropped, latency_ms, …}} from the metrics

It binds 127.0.0.1 unless told otherwise. With a token every request must carry
``?token=T`` (the page passes it on); anything else is 401. Pictures are
reduced to at most ``MAX_WIDTH`` (planes first, RGB only at that size),
JPEG-encoded once however many viewers watch, and sent to each at most
``MAX_FPS`` times a second, so watching costs the pipeline little.
"""

from __future__ import annotations

import hmac
import html
import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, quote, urlsplit

import cv2

from engines.image import YuvImage, image_to_rgb, resize_image
from stream.errors import OutputError

log = logging.getLogger(__name__)
MAX_WIDTH = 640
MAX_FPS = 12.0
JPEG_QUALITY = 80
_BOUNDARY = "nocturneframe"


class CameraFeed:
    """The newest before/after pair of one camera; viewers wait on it."""

    def __init__(self, name: str, snapshot: Callable[[], dict]) -> None:
        self.name, self.snapshot = name, snapshot
        self._condition = threading.Condition()
        self._pictures: tuple[YuvImage | None, YuvImage | None] = (None, None)
        self._jpegs: dict[tuple[int, bool], bytes] = {}      # (sequence, after) → JPEG, current sequence only
        self.sequence = 0
        self.closed = False
        self._updated_at = -1.0

    def update(self, before: YuvImage | None, after: YuvImage | None) -> None:
        """A new pair; (None, None) ends the feed (viewers' streams end). Pairs closer than 1/``MAX_FPS``
        to the last one kept are ignored, so that viewers who wake at different moments still share
        one JPEG per picture instead of each encoding the pacer's newest."""
        now = time.monotonic()
        if after is not None and now - self._updated_at < 1.0 / MAX_FPS:
            return
        self._updated_at = now
        with self._condition:
            self._pictures = (before, after)
            self._jpegs.clear()
            self.sequence += 1
            self.closed = before is None
            self._condition.notify_all()

    def wait_newer(self, sequence: int, timeout: float, after: bool) -> tuple[int, bytes | None]:
        """The sequence number and JPEG of the newest picture of one side once it is newer than ``sequence``
        (or after ``timeout``); encoded once however many viewers ask."""
        with self._condition:
            self._condition.wait_for(lambda: self.sequence != sequence or self.closed, timeout=timeout)
            current, picture = self.sequence, self._pictures[1 if after else 0]
            if picture is None:
                return current, None
            key = (current, after)
            if key not in self._jpegs:
                self._jpegs[key] = jpeg(picture)
            return current, self._jpegs[key]


def jpeg(image: YuvImage) -> bytes:
    """The picture as a JPEG at most ``MAX_WIDTH`` wide (planes reduced first: RGB only at preview size)."""
    if image.width > MAX_WIDTH:
        height = max(2, 2 * round(image.height * MAX_WIDTH / image.width / 2))
        image = resize_image(image, (MAX_WIDTH, height))
    rgb = image_to_rgb(image)
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return data.tobytes()


class PreviewServer:
    """The HTTP server of the preview page on ``host:port``; cameras join with ``add_camera``."""

    def __init__(self, host: str, port: int, token: str | None) -> None:
        self.host, self.port, self.token = host, port, token
        self.feeds: dict[str, CameraFeed] = {}
        self.template = resources.files("stream.live").joinpath("preview.html").read_text()
        handler = type("Handler", (_Handler,), {"preview": self})
        try:
            self.httpd = ThreadingHTTPServer((host, port), handler)
        except OSError as error:
            raise OutputError(f"preview cannot listen on {host}:{port}: {error.strerror}") from None
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        if host not in ("127.0.0.1", "localhost", "::1") and not token:
            log.warning("the preview on %s:%d is reachable from other machines and has no token "
                        "(add ?token=… to the preview:// URI)", host, self.port)
        self._thread = threading.Thread(target=self.httpd.serve_forever, name=f"preview:{self.port}", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        token = f"?token={quote(self.token)}" if self.token else ""
        return f"http://{self.host}:{self.port}/{token}"

    def add_camera(self, name: str, snapshot: Callable[[], dict]) -> CameraFeed:
        self.feeds[name] = CameraFeed(name, snapshot)
        return self.feeds[name]

    def close(self) -> None:
        for feed in self.feeds.values():
            feed.update(None, None)
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    preview: PreviewServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:     # "format": the base class's name
        log.debug("preview: " + format, *args)

    def do_GET(self) -> None:     # http.server's naming
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        token = self.preview.token
        if token and not hmac.compare_digest(query.get("token", [""])[0], token):
            self._send(401, "text/plain; charset=utf-8", b"a token is needed: ?token=...\n")
            return
        route = parts.path.strip("/").split("/")
        if parts.path == "/":
            self._send(200, "text/html; charset=utf-8", self._page(query.get("camera", [""])[0]))
        elif route == ["stats.json"]:
            stats = {name: feed.snapshot() for name, feed in self.preview.feeds.items()}
            self._send(200, "application/json", json.dumps(stats).encode())
        elif len(route) == 3 and route[0] == "stream" and route[1] in self.preview.feeds \
                and route[2] in ("before.mjpg", "after.mjpg"):
            self._stream(self.preview.feeds[route[1]], route[2] == "after.mjpg")
        else:
            self._send(404, "text/plain; charset=utf-8", b"not found\n")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _page(self, camera: str) -> bytes:
        names = list(self.preview.feeds)
        camera = camera if camera in names else (names[0] if names else "")
        token = self.preview.token or ""
        template = self.preview.template
        suffix = f"?token={quote(token)}" if token else ""
        links = " ".join(f'<a href="/?camera={quote(n)}{"&token=" + quote(token) if token else ""}">{html.escape(n)}</a>'
                         for n in names)
        page = (template.replace("{{CAMERA}}", html.escape(camera)).replace("{{CAMERA_URL}}", quote(camera))
                .replace("{{TOKEN_QUERY}}", html.escape(suffix)).replace("{{CAMERAS}}", links))
        return page.encode()

    def _stream(self, feed: CameraFeed, after: bool) -> None:
        """Motion JPEG until the viewer leaves or the feed ends; at most ``MAX_FPS`` pictures a second."""
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={_BOUNDARY}")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        sequence = -1
        interval = 1.0 / MAX_FPS
        try:
            while not feed.closed:
                sequence, data = feed.wait_newer(sequence, timeout=1.0, after=after)
                if data is None:
                    continue
                self.wfile.write(f"--{_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(data)}\r\n\r\n"
                                 .encode() + data + b"\r\n")
                self.wfile.flush()
                time.sleep(interval)
        except (BrokenPipeError, ConnectionResetError):
            pass                        # the viewer closed the page
        self.close_connection = True
