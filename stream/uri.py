"""One parser for every source and output a user can name, and redaction of secrets.

Sources (``nocturne live SOURCE``), as jetson-utils' videoSource names them:

    rtsp://[user:pass@]host[:port]/path     a camera (PyAV; TCP unless ``live.rtsp_transport: udp``)
    http(s)://host/path[.m3u8]              HTTP streams and HLS playlists (PyAV); rtmp:// and srt:// alike
    v4l2:///dev/videoN                      a USB camera (GStreamer ``v4l2src``)
    csi://N                                 a Jetson CSI camera (GStreamer ``nvarguscamerasrc``)
    test://PATTERN?size=WxH&fps=N           a synthetic pattern (FFmpeg's lavfi), paced in real time
    FILE | file://FILE                      a file, played at its own pace with ``--realtime``

Outputs (``--out``):

    FILE.mp4|.mkv|.mov | file://FILE        record (fragmented MP4: a crash loses at most a keyframe interval)
    rtsp://host:port/name                   publish to an RTSP server (e.g. MediaMTX), ANNOUNCE/RECORD
    rtsp://@[bind]:port/name[?user=U&password=P]
                                            serve RTSP ourselves (GStreamer RTSP server; ``@`` as in
                                            jetson-utils; bind defaults to 127.0.0.1; with ``user`` and
                                            ``password`` viewers need basic authentication)
    hls://FOLDER                            HLS playlist ``FOLDER/index.m3u8`` and its segments
    preview://[bind]:port[?token=T]         a web page with a live before/after view and the metrics
    null://                                 discard (for benchmarks)

Options ride in the query string (``test://night?size=640x360&fps=25``); anything
the parser does not know, or a value it cannot read, is a ``UsageError`` naming it. ``redact`` removes
credentials (``user:pass@``, ``password=``/``token=`` query values) from any
text that may reach a log, an error message or a metric label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from stream.errors import UsageError
from stream.formats import CONTAINER_FORMATS

_USERINFO = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
_SECRET_PARAMS = re.compile(r"(?i)\b(password|passwd|pass|pwd|token|key|secret|auth)=[^&\s]*")
# Query options each source kind accepts (their values are parsed where they are used).
_SOURCE_OPTIONS = {"v4l2": {"size", "fps", "format"}, "csi": {"size", "fps", "flip"}, "test": {"size", "fps"}}
_PREVIEW_OPTIONS = {"token"}
_SERVE_OPTIONS = {"user", "password"}


def redact(text: str) -> str:
    """``text`` with URL credentials and secret query values replaced by ``***``.

    >>> redact("rtsp://admin:hunter2@10.0.0.5/stream?token=abc&x=1")
    'rtsp://***@10.0.0.5/stream?token=***&x=1'
    """
    text = _USERINFO.sub(r"\1***@", text)
    return _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}=***", text)


@dataclass(frozen=True)
class SourceSpec:
    """A parsed source.

    Attributes:
        kind: rtsp | http | v4l2 | csi | test | file.
        target: what the opener needs: the URL (with credentials, never logged), the
            device path, the sensor number, the pattern name or the file path.
        options: query options, validated per kind.
        display: the URI with credentials redacted, for logs and errors.
    """

    kind: str
    target: str
    options: dict[str, str] = field(default_factory=dict)
    display: str = ""


@dataclass(frozen=True)
class OutputSpec:
    """A parsed output. ``kind``: file | rtsp-publish | rtsp-serve | hls | preview | null.

    ``host``/``port``/``path`` are set for network outputs (``path`` is the RTSP
    mount, e.g. ``/night``); ``target`` is the file or folder for file and hls,
    the full URL for rtsp-publish.
    """

    kind: str
    target: str = ""
    host: str = ""
    port: int = 0
    path: str = ""
    options: dict[str, str] = field(default_factory=dict)
    display: str = ""


def parse_source(uri: str) -> SourceSpec:
    """Parse a source URI (or a plain file path); raises ``UsageError`` naming what is wrong."""
    uri, display, scheme, rest = _split(uri)
    if scheme == "file":
        return SourceSpec("file", rest, {}, display)
    if scheme in ("rtsp", "rtsps", "rtmp", "srt"):
        _require_host(uri, display)
        return SourceSpec("rtsp" if scheme.startswith("rtsp") else "http", uri, {}, display)
    if scheme in ("http", "https"):
        _require_host(uri, display)
        return SourceSpec("http", uri, {}, display)
    parts = urlsplit(uri)
    options = _options(parts.query, _SOURCE_OPTIONS.get(scheme, set()), display)
    _check_source_options(options, display)
    if scheme == "v4l2":
        device = parts.path or parts.netloc
        if not device.startswith("/dev/"):
            raise UsageError(f"source {display}: expected v4l2:///dev/videoN")
        return SourceSpec("v4l2", device, options, display)
    if scheme == "csi":
        sensor = parts.netloc or parts.path.strip("/")
        if not sensor.isdigit():
            raise UsageError(f"source {display}: expected csi://N with N the sensor number")
        return SourceSpec("csi", sensor, options, display)
    if scheme == "test":
        pattern = parts.netloc or parts.path.strip("/") or "night"
        return SourceSpec("test", pattern, options, display)
    raise UsageError(f"source {display}: unknown scheme {scheme}:// (use rtsp, http(s), v4l2, csi, test, "
                     "file or a path)")


def parse_output(uri: str) -> OutputSpec:
    """Parse an output URI (or a plain file path); raises ``UsageError`` naming what is wrong."""
    uri, display, scheme, rest = _split(uri)
    if scheme == "file":
        if Path(rest).suffix.lower() not in CONTAINER_FORMATS:
            raise UsageError(f"output {display}: a recording needs a video file ({', '.join(CONTAINER_FORMATS)})")
        return OutputSpec("file", target=rest, display=display)
    if scheme == "null":
        return OutputSpec("null", display=display)
    if scheme == "hls":
        if not rest.strip("/"):
            raise UsageError(f"output {display}: expected hls://FOLDER")
        return OutputSpec("hls", target=rest, display=display)
    parts = urlsplit(uri)
    if scheme == "rtsp":
        port = _port(parts, display, default=8554)
        mount = parts.path if parts.path not in ("", "/") else ""
        if not mount:
            raise UsageError(f"output {display}: an RTSP output needs a path, e.g. rtsp://@:8554/night")
        if "@" in parts.netloc and not parts.username and not parts.password:
            # rtsp://@[bind]:port/name: we are the server.
            options = _options(parts.query, _SERVE_OPTIONS, display)
            if bool(options.get("user")) != bool(options.get("password")):
                raise UsageError(f"output {display}: give both user= and password=, or neither")
            return OutputSpec("rtsp-serve", host=parts.hostname or "127.0.0.1", port=port, path=mount,
                              options=options, display=display)
        _require_host(uri, display)
        return OutputSpec("rtsp-publish", target=uri, host=parts.hostname or "", port=port, path=mount,
                          display=display)
    if scheme == "preview":
        options = _options(parts.query, _PREVIEW_OPTIONS, display)
        return OutputSpec("preview", host=parts.hostname or "127.0.0.1", port=_port(parts, display, default=8080),
                          options=options, display=display)
    raise UsageError(f"output {display}: unknown scheme {scheme}:// (use a file path, rtsp, hls, preview or null)")


def parse_size(text: str, where: str) -> tuple[int, int]:
    """``"1280x720"`` → (1280, 720); even sizes from 16 to 8192 pixels."""
    match = re.fullmatch(r"(\d+)[xX](\d+)", text.strip())
    if not match:
        raise UsageError(f"{where}: size {text!r} is not WIDTHxHEIGHT")
    width, height = int(match.group(1)), int(match.group(2))
    if not (16 <= width <= 8192 and 16 <= height <= 8192) or width % 2 or height % 2:
        raise UsageError(f"{where}: size {text} must be even and between 16 and 8192 pixels")
    return width, height


def parse_rate(text: str, where: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        raise UsageError(f"{where}: fps {text!r} is not a number") from None
    if not 0 < rate <= 240:
        raise UsageError(f"{where}: fps {text} must be in (0, 240]")
    return rate


def _split(uri: str) -> tuple[str, str, str, str]:
    """(stripped URI, its redacted form, lower-case scheme, everything after ``scheme://``).

    A plain path is scheme ``file`` with the path as the rest, like ``file://PATH``.
    """
    uri = uri.strip()
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*)://(.*)$", uri, re.DOTALL)
    scheme, rest = (match.group(1).lower(), match.group(2)) if match else ("file", uri)
    return uri, redact(uri), scheme, rest


def _check_source_options(options: dict[str, str], display: str) -> None:
    """Fail at parse time, not in the camera's thread: the values stay text for the readers to use."""
    if "size" in options:
        parse_size(options["size"], display)
    if "fps" in options:
        parse_rate(options["fps"], display)
    if options.get("flip", "0") not in tuple("01234567"):
        raise UsageError(f"{display}: flip {options['flip']!r} is not nvvidconv's flip-method 0-7")


def _options(query: str, allowed: set[str], display: str) -> dict[str, str]:
    options = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(options) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        raise UsageError(f"{display}: unknown option {unknown[0]!r} (known: {known})")
    return options


def _port(parts, display: str, default: int) -> int:
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"{display}: the port is not a number from 1 to 65535") from None
    return port or default


def _require_host(uri: str, display: str) -> None:
    if not urlsplit(uri).hostname:
        raise UsageError(f"{display}: no host in the URL")
