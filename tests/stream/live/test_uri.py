"""URI parsing (one parser for sources and outputs) and redaction of credentials."""

from __future__ import annotations

import pytest

from stream.errors import UsageError
from stream.uri import parse_output, parse_size, parse_source, redact


@pytest.mark.parametrize("text, expected", [
    ("rtsp://admin:hunter2@10.0.0.5:554/live", "rtsp://***@10.0.0.5:554/live"),
    ("error at 'http://user@cam.local/x.m3u8'", "error at 'http://***@cam.local/x.m3u8'"),
    ("rtsp://cam/live?user=a&password=s3cret&channel=1", "rtsp://cam/live?user=a&password=***&channel=1"),
    ("preview://:8080?token=abc", "preview://:8080?token=***"),
    ("rtsp://@:8554/night", "rtsp://@:8554/night"),        # serving: no credentials, nothing to hide
])
def test_redact(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("uri, kind, target", [
    ("rtsp://u:p@cam:554/h264", "rtsp", "rtsp://u:p@cam:554/h264"),
    ("https://example.org/live/index.m3u8", "http", "https://example.org/live/index.m3u8"),
    ("v4l2:///dev/video2", "v4l2", "/dev/video2"),
    ("csi://1", "csi", "1"),
    ("test://night?size=640x360&fps=25", "test", "night"),
    ("test://", "test", "night"),
    ("clips/night.mp4", "file", "clips/night.mp4"),
    ("file:///srv/night.mkv", "file", "/srv/night.mkv"),
])
def test_sources(uri, kind, target):
    spec = parse_source(uri)
    assert (spec.kind, spec.target) == (kind, target)


def test_source_display_hides_credentials():
    assert parse_source("rtsp://admin:hunter2@cam/x").display == "rtsp://***@cam/x"


@pytest.mark.parametrize("uri, message", [
    ("ftp://cam/x", "unknown scheme ftp://"),
    ("v4l2://video0", "v4l2:///dev/videoN"),
    ("csi://left", "csi://N"),
    ("test://night?colour=red", "unknown option 'colour'"),
    ("test://testsrc2?size=abc", "not WIDTHxHEIGHT"),          # read at start-up, not in the camera's thread
    ("v4l2:///dev/video0?fps=0", "must be in"),
    ("csi://0?flip=x", "flip-method"),
    ("rtsp:///nohost", "no host"),
])
def test_bad_sources(uri, message):
    with pytest.raises(UsageError, match=message):
        parse_source(uri)


def test_outputs():
    assert parse_output("night.mp4").kind == "file"
    serve = parse_output("rtsp://@:8554/night")
    assert (serve.kind, serve.host, serve.port, serve.path) == ("rtsp-serve", "127.0.0.1", 8554, "/night")
    assert parse_output("rtsp://@0.0.0.0:9000/x").host == "0.0.0.0"
    guarded = parse_output("rtsp://@0.0.0.0:8554/gate?user=viewer&password=s3cret")
    assert guarded.options == {"user": "viewer", "password": "s3cret"} and "s3cret" not in guarded.display
    publish = parse_output("rtsp://user:pw@mediamtx:8554/night")
    assert (publish.kind, publish.target, publish.display) == (
        "rtsp-publish", "rtsp://user:pw@mediamtx:8554/night", "rtsp://***@mediamtx:8554/night")
    assert parse_output("hls:///var/www/live").target == "/var/www/live"
    preview = parse_output("preview://:8081?token=t0k")
    assert (preview.kind, preview.host, preview.port, preview.options) == ("preview", "127.0.0.1", 8081, {"token": "t0k"})
    assert parse_output("null://").kind == "null"


@pytest.mark.parametrize("uri, message", [
    ("night.avi", "needs a video file"),
    ("rtsp://@:8554", "needs a path"),
    ("rtsp://@:99999/x", "port"),
    ("preview://:8080?colour=1", "unknown option"),
    ("rtsp://@:8554/x?user=viewer", "both user= and password="),
    ("rtsp://@:8554/x?pass=1", "unknown option"),
    ("hls://", "hls://FOLDER"),
    ("udp://1.2.3.4:5", "unknown scheme"),
])
def test_bad_outputs(uri, message):
    with pytest.raises(UsageError, match=message):
        parse_output(uri)


def test_sizes():
    assert parse_size("1280x720", "x") == (1280, 720)
    for bad in ("1280", "0x0", "641x360", "99999x2"):
        with pytest.raises(UsageError):
            parse_size(bad, "x")
