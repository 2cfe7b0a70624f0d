"""``nocturne live`` from the command line: bad input is one line and a non-zero exit, secrets stay hidden,
SIGTERM finalises the recording, the metrics endpoint answers."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import av
import pytest

import media
from live_media import free_port

pytestmark = pytest.mark.slow          # each test starts nocturne live in a subprocess, some an HTTP or RTSP server

SECRET = "hunter2"


def error_line(result) -> str:
    lines = [line for line in result.lines if line.startswith("nocturne: error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_unknown_scheme_is_a_usage_error(cli):
    result = cli("live", "ftp://cam/x", "--out", "null://")
    assert result.code == 2 and "unknown scheme ftp://" in error_line(result)


def test_no_output_is_a_usage_error(cli):
    result = cli("live", "test://night")
    assert result.code == 2 and "outputs" in error_line(result)


def test_refused_camera_gives_up_and_hides_credentials(cli):
    port = free_port()
    result = cli("live", f"rtsp://admin:{SECRET}@127.0.0.1:{port}/cam", "--out", "null://", "--give-up-after", "1")
    assert result.code == 3
    line = error_line(result)
    assert "connection refused" in line and "gave up after" in line and "rtsp://***@127.0.0.1" in line
    assert SECRET not in result.stderr


@pytest.mark.needs_gstreamer
@pytest.mark.parametrize("user, path, reason", [
    ("admin:wrong", "/cam", "wrong or missing credentials (401)"),
    ("admin:" + SECRET, "/elsewhere", "not found (404)"),
])
def test_wrong_credentials_or_path(cli, rtsp_camera, user, path, reason):
    camera = rtsp_camera("--user", "admin", "--password", SECRET)
    camera.start()
    result = cli("live", f"rtsp://{user}@127.0.0.1:{camera.port}{path}", "--out", "null://", "--give-up-after", "1")
    assert result.code == 3 and reason in error_line(result)
    assert SECRET not in result.stderr and "wrong@" not in result.stderr


def test_a_stream_that_is_not_video(cli, tmp_path):
    media.write_audio_only(tmp_path / "voice.m4a")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = cli("live", f"http://127.0.0.1:{server.server_address[1]}/voice.m4a", "--out", "null://",
                     "--give-up-after", "1")
    finally:
        server.shutdown()
    assert result.code == 3 and "holds no video stream" in error_line(result)


def test_a_file_in_real_time_to_a_recording(cli, clips, tmp_path):
    result = cli("live", clips.av_mkv, "--out", tmp_path / "live.mp4", "--model", "none")
    assert result.code == 0, result.stderr
    with av.open(str(tmp_path / "live.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) >= 10
    assert "end of stream" in result.stderr and "frames in" in result.stderr


def test_sigterm_finalises_the_recording_and_metrics_answer(tmp_path):
    metrics_port = free_port()
    out = tmp_path / "night.mp4"
    process = subprocess.Popen(
        [sys.executable, "-m", "stream.cli", "live", "test://night?size=160x90&fps=15", "--out", str(out),
         "--metrics", f"127.0.0.1:{metrics_port}", "--name", "porch"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        text = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and 'nocturne_frames_total{camera="porch",kind="out"}' not in text:
            time.sleep(0.5)
            try:
                text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2).read().decode()
            except OSError:
                continue
        time.sleep(1.5)                                  # past the first one-second fps window
        text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2).read().decode()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    samples = {line.split("{")[0] for line in text.splitlines() if line.startswith("nocturne_") and 'camera="porch"' in line}
    for series in ("nocturne_stage_seconds_bucket", "nocturne_latency_seconds_bucket", "nocturne_fps",
                   "nocturne_mean_luma", "nocturne_clipped_share", "nocturne_source_connected", "nocturne_flicker"):
        assert series in samples, series                 # a value for this camera, not only a declaration
    for family in ("nocturne_dropped_frames_total", "nocturne_reconnects_total"):
        assert f"# TYPE {family} counter" in text, family        # none happened in this run: declared only
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) >= 15
    assert "porch:" in stderr and "Traceback" not in stderr


def test_hls_out_and_back_in(cli, tmp_path):
    """nocturne writes HLS; a second nocturne reads that playlist over HTTP (the http(s)/HLS source)."""
    result = cli("live", "test://night?size=160x90&fps=15", "--out", f"hls://{tmp_path / 'hls'}", "--duration", "5",
                 "--model", "none")
    assert result.code == 0, result.stderr
    playlist = (tmp_path / "hls" / "index.m3u8").read_text()
    assert playlist.count(".ts") >= 2
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "hls")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        back = cli("live", f"http://127.0.0.1:{server.server_address[1]}/index.m3u8", "--out", tmp_path / "back.mp4",
                   "--model", "none", "--duration", "4", "--give-up-after", "3")
    finally:
        server.shutdown()
    with av.open(str(tmp_path / "back.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) >= 10, back.stderr


def test_recordings_are_cut_into_segments(cli, tmp_path):
    result = cli("live", "test://night?size=160x90&fps=15", "--out", tmp_path / "cam.mp4", "--segment", "2",
                 "--duration", "5.5", "--model", "none")
    assert result.code == 0, result.stderr
    segments = sorted(tmp_path.glob("cam-*.mp4"))
    assert len(segments) >= 2
    for segment in segments:
        with av.open(str(segment)) as container:
            frames = [f.pts for f in container.decode(video=0)]
            assert frames and frames[0] == 0                     # each segment starts its own clock
