"""``LiveService`` driven directly (no CLI): it ends with its cameras, on request or after a duration,
always finalises the outputs, and a mistake fails before anything runs and leaves nothing bound."""

from __future__ import annotations

import socket
import threading
import time

import pytest

import media
from live_media import free_port
from stream.config import load_live_config
from stream.errors import OutputError
from stream.live.service import LiveService

FAST = {"enhance.model": "none"}       # the service is under test, not the model


def service_for(source: str, outputs: list[str], metrics: str | None = None, **overrides) -> LiveService:
    config = load_live_config(None, source=source, outputs=outputs, overrides={**FAST, **overrides}, metrics=metrics)
    return LiveService(config, lambda camera, message: None)


def test_a_file_camera_ends_the_run_and_its_recording_plays(tmp_path):
    clip = media.write_video(tmp_path / "clip.mp4", frames=10, size=(64, 48), rate=25)
    recording = tmp_path / "out.mp4"
    service = service_for(str(clip), [str(recording), "null://"])
    started = time.monotonic()
    [summary] = service.run()                           # no duration: returns when the file has played
    assert time.monotonic() - started < 10
    assert summary.name == "cam0" and summary.error is None and summary.frames_in == 10
    assert summary.frames_out >= 1 and len(media.video_times(recording)) >= 1
    assert service.cameras[0].finished


def test_request_stop_ends_an_endless_camera_and_finalises(tmp_path):
    recording = tmp_path / "out.mkv"
    service = service_for("test://testsrc2?size=64x48&fps=20", [str(recording)])
    summaries: list = []
    runner = threading.Thread(target=lambda: summaries.extend(service.run()), daemon=True)
    runner.start()
    frames_in = {"camera": "cam0", "kind": "in"}
    deadline = time.monotonic() + 10
    while service.metrics.value("nocturne_frames_total", frames_in) < 10 and time.monotonic() < deadline:
        time.sleep(0.02)                                # polls a condition, with a deadline
    service.request_stop()
    runner.join(timeout=20)
    assert not runner.is_alive() and service.closing
    assert summaries[0].frames_in >= 10 and summaries[0].error is None
    assert len(media.video_times(recording)) >= 1       # finalised: it plays


def test_a_duration_ends_the_run():
    service = service_for("test://testsrc2?size=64x48&fps=20", ["null://"])
    started = time.monotonic()
    [summary] = service.run(duration_s=0.5)
    assert 0.5 <= time.monotonic() - started < 10 and summary.frames_in >= 1


def test_a_bad_output_fails_before_anything_runs_and_frees_the_metrics_port(tmp_path):
    port = free_port()
    with pytest.raises(OutputError):
        service_for("test://testsrc2", [str(tmp_path / "missing" / "out.mp4")], metrics=f"127.0.0.1:{port}")
    with socket.socket() as probe:                      # the metrics endpoint was closed again
        probe.bind(("127.0.0.1", port))


def test_a_taken_metrics_port_is_an_output_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OutputError, match="metrics cannot listen"):
            service_for("test://testsrc2", ["null://"], metrics=f"127.0.0.1:{port}")
