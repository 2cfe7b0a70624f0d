"""A real RTSP round trip: GStreamer's RTSP server as the camera, nocturne in between, clients after it.

The camera is killed and started again; frames must flow within 2 s of its
return, the republished stream must keep going through the outage, and the
latency nocturne adds stays within a generous bound.
"""

from __future__ import annotations

import threading
import time

import av
import pytest

from stream.config import load_live_config
from stream.live.service import LiveService

from live_media import free_port

pytestmark = [pytest.mark.needs_gstreamer, pytest.mark.slow]
LATENCY_BOUND_S = 1.0       # generous: 2 shared cores run the camera, nocturne and the viewer at once


class Viewer:
    """Reads an RTSP URL in a thread and notes when each frame arrived (time.monotonic())."""

    def __init__(self, url: str, **options: str) -> None:
        self.url, self.options = url, options
        self.arrivals: list[float] = []
        self.error: str | None = None
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        deadline = time.monotonic() + 20
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                with av.open(self.url, options={"rtsp_transport": "tcp", **self.options}, timeout=(5, 5)) as container:
                    for _frame in container.decode(video=0):
                        self.arrivals.append(time.monotonic())
                        if self._stop.is_set():
                            return
            except av.error.FFmpegError as error:
                self.error = str(error)
                time.sleep(0.2)            # the mount appears with nocturne's first frame

    def frames_between(self, start: float, end: float) -> int:
        return sum(start <= t < end for t in self.arrivals)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=10)


def wait_for(condition, timeout: float, step: float = 0.02) -> float | None:
    """Poll ``condition`` until true; the monotonic time it became true, or None on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(step)
    return None


def test_camera_drop_and_return_with_restream(rtsp_camera, tmp_path):
    camera = rtsp_camera()
    camera.start()
    serve_port = free_port()
    config = load_live_config(None, source=camera.url,
                              outputs=[f"rtsp://@127.0.0.1:{serve_port}/night", str(tmp_path / "rec.mp4")],
                              overrides={"live.fps": 15, "live.signal_loss_after_s": 0.3})
    events: list[str] = []
    service = LiveService(config, lambda cam, message: events.append(message))
    runner = threading.Thread(target=service.run, daemon=True)
    runner.start()
    frames_in = lambda: service.metrics.value("nocturne_frames_total", {"camera": "cam0", "kind": "in"})  # noqa: E731
    viewer = None
    try:
        assert wait_for(lambda: frames_in() >= 15, timeout=30), f"no frames from the camera: {events}"
        viewer = Viewer(f"rtsp://127.0.0.1:{serve_port}/night")
        assert wait_for(lambda: len(viewer.arrivals) >= 10, timeout=20), f"restream not watchable: {viewer.error}"

        camera.kill()
        lost_at = time.monotonic()
        assert wait_for(lambda: service.metrics.value("nocturne_source_connected", {"camera": "cam0"}) == 0, 15)
        time.sleep(1.5)                                    # away long enough for a few failed reconnects
        before_return = frames_in()
        back_at = camera.start()
        flowing_at = wait_for(lambda: frames_in() > before_return, timeout=10)

        assert flowing_at is not None, f"no frames after the camera came back: {events}"
        assert flowing_at - back_at < 2.0, f"frames resumed {flowing_at - back_at:.2f} s after the camera's return"
        # The restream never stopped: "no signal" frames kept viewers watching while the camera was away.
        assert viewer.frames_between(lost_at + 0.5, back_at) >= 5
        assert runner.is_alive() and all(c.summary.error is None for c in service.cameras)
        assert any("back after" in e for e in events), events
        assert service.metrics.value("nocturne_reconnects_total", {"camera": "cam0", "target": "source"}) >= 1
        assert service.cameras[0].summary.no_signal > 0
    finally:
        if viewer is not None:
            viewer.stop()
        service.request_stop()
        runner.join(timeout=30)
    summary = service.cameras[0].summary
    assert summary.latency_percentile(95) < LATENCY_BOUND_S, summary.latency_percentile(95)
    with av.open(str(tmp_path / "rec.mp4")) as recording:       # the recording went on through the outage
        assert sum(1 for _ in recording.decode(video=0)) >= summary.frames_out - 15


def test_publish_to_an_rtsp_server(tmp_path):
    """``--out rtsp://host:port/name`` publishes (ANNOUNCE/RECORD); FFmpeg's listening RTSP server receives it."""
    port = free_port()
    received: list[int] = []
    errors: list[str] = []

    def listen() -> None:
        try:
            with av.open(f"rtsp://127.0.0.1:{port}/pub", options={"rtsp_flags": "listen", "listen_timeout": "30"}) as server:
                for frame in server.decode(video=0):
                    received.append(frame.width)
        except av.error.FFmpegError as error:
            errors.append(str(error))

    receiver = threading.Thread(target=listen, daemon=True)
    receiver.start()
    time.sleep(0.5)
    config = load_live_config(None, source="test://night?size=320x180&fps=15",
                              outputs=[f"rtsp://127.0.0.1:{port}/pub"])
    service = LiveService(config, lambda cam, message: None)
    service.run(duration_s=4)
    receiver.join(timeout=15)
    assert len(received) >= 15 and set(received) == {320}, (len(received), errors)


def test_a_served_stream_with_a_password_turns_away_viewers_without_it():
    port = free_port()
    config = load_live_config(None, source="test://night?size=320x180&fps=15",
                              outputs=[f"rtsp://@127.0.0.1:{port}/gate?user=viewer&password=s3cret"])
    events: list[str] = []
    service = LiveService(config, lambda cam, message: events.append(message))
    runner = threading.Thread(target=service.run, kwargs={"duration_s": 30}, daemon=True)
    runner.start()
    try:
        allowed = Viewer(f"rtsp://viewer:s3cret@127.0.0.1:{port}/gate")
        assert wait_for(lambda: len(allowed.arrivals) >= 10, timeout=20), f"with the password: {allowed.error}"
        allowed.stop()
        with pytest.raises(av.error.FFmpegError, match="401|Unauthorized|authori"):
            av.open(f"rtsp://127.0.0.1:{port}/gate", options={"rtsp_transport": "tcp"}, timeout=(5, 5))
        with pytest.raises(av.error.FFmpegError, match="401|Unauthorized|authori"):
            av.open(f"rtsp://viewer:wrong@127.0.0.1:{port}/gate", options={"rtsp_transport": "tcp"}, timeout=(5, 5))
    finally:
        service.request_stop()
        runner.join(timeout=30)
    assert not any("s3cret" in e for e in events), events
