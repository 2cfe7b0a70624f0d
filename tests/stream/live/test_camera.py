"""One camera's threads: the pacer's constant clock, repeat / "no signal", latest-wins outputs, the shared encode."""

from __future__ import annotations

import time

import numpy as np
import pytest

from engines.image import YuvImage
from engines.runtimes import select_runtime
from stream.config import load_live_config
from stream.errors import SourceError
from stream.frame import ColourTags
from stream.live.camera import Camera
from stream.live.metrics import LiveMetrics
from stream.live.no_signal import no_signal_picture
from stream.live.reader import Decoded
from stream.live.servers import SharedServers
from stream.pipeline import make_enhancer

FPS = 20


class Recorder:
    """An output that keeps what it is given; ``delay_s`` makes it slow, ``fail_after`` makes it break."""

    def __init__(self, name: str = "recorder", delay_s: float = 0.0, fail_after: int | None = None) -> None:
        self.name, self.delay_s, self.fail_after = name, delay_s, fail_after
        self.items: list = []
        self.closed = False

    def write(self, item) -> None:
        if self.fail_after is not None and len(self.items) >= self.fail_after:
            raise OSError("disk full")
        time.sleep(self.delay_s)
        self.items.append(item)

    def close(self) -> None:
        self.closed = True


class Muxer(Recorder):
    """A muxing output (it takes the shared encode's packets); ``delay_s`` makes it slow."""

    encoded = True


class Camera8x8:
    """A camera of 16×16 pictures at ``FPS``: frames for ``on_s``, then away for ``away_s``, then back."""

    def __init__(self, on_s: float, away_s: float, back_s: float) -> None:
        self.plan = [("frames", on_s), ("away", away_s), ("frames", back_s)]
        self.started = time.monotonic()
        self.nominal_fps = float(FPS)
        self.value = 30

    def _phase(self) -> str:
        elapsed = time.monotonic() - self.started
        for kind, length in self.plan:
            if elapsed < length:
                return kind
            elapsed -= length
        return "end"

    def factory(self, spec, live):
        return self

    def open(self, known_fps=None) -> None:
        if self._phase() != "frames":
            raise SourceError("connection refused")

    def frames(self, stop):
        while not stop.is_set():
            phase = self._phase()
            if phase == "end":
                return
            if phase != "frames":
                raise SourceError("the camera went away")
            self.value += 1
            y = np.full((16, 16), self.value % 200 + 20, np.uint8)
            yield Decoded(YuvImage(y, np.full((8, 8), 128, np.uint8), np.full((8, 8), 128, np.uint8)), (16, 16),
                          ColourTags(), 0, 0.0)
            time.sleep(1.0 / FPS)

    def close(self) -> None:
        pass


def make_camera(outputs, reader, **live) -> tuple[Camera, list[str]]:
    config = load_live_config(None, source="rtsp://cam/x", outputs=["null://"], overrides={
        "enhance.model": "none", "live.fps": FPS, "live.reconnect.initial_s": 0.02, "live.reconnect.max_s": 0.05,
        **{f"live.{k}": v for k, v in live.items()}})
    events: list[str] = []
    enhancer, _ = make_enhancer(config.cameras[0], select_runtime("auto", "cpu", 1))
    camera = Camera(config.cameras[0], enhancer, LiveMetrics().camera("cam0"),
                    SharedServers(), lambda name, message: events.append(message), reader_factory=reader.factory,
                    extra_outputs=tuple(outputs))
    return camera, events


def run_for(camera: Camera, seconds: float) -> None:
    camera.start()
    time.sleep(seconds)
    camera.stop()
    assert camera.join(10)


@pytest.mark.parametrize("policy", ["no_signal", "repeat"])
def test_outputs_keep_their_clock_while_the_camera_is_away(policy):
    recorder = Recorder()
    camera, events = make_camera([recorder], Camera8x8(on_s=0.5, away_s=1.0, back_s=10), on_signal_loss=policy,
                                 signal_loss_after_s=0.2)
    run_for(camera, 2.2)
    items = recorder.items
    pts = [item.frame.pts for item in items]
    assert pts == sorted(set(pts))                                  # one clock, never backwards
    assert len(items) >= 0.8 * 2.2 * FPS                            # the pacer kept its rate through the outage
    kinds = ["fresh" if i.fresh else ("no_signal" if np.array_equal(i.frame.image.y, no_signal_picture(
        (16, 16), "cam0").y) else "repeat") for i in items]
    assert kinds[0] == "fresh" and "fresh" in kinds[-5:]              # back: new frames again
    away = kinds[:len(kinds) - 5]
    if policy == "no_signal":
        assert "no_signal" in away and "repeat" in away              # repeated first, then the loss is shown
    else:
        assert "no_signal" not in away
    assert recorder.closed and camera.summary.reconnects >= 1 and any("back after" in e for e in events)


def test_a_slow_output_drops_its_frames_and_delays_no_other():
    fast, slow = Recorder("fast"), Recorder("slow", delay_s=0.2)
    camera, _ = make_camera([fast, slow], Camera8x8(on_s=10, away_s=0, back_s=0))
    run_for(camera, 1.5)
    assert len(fast.items) >= 0.8 * 1.5 * FPS
    assert len(slow.items) <= 1.5 / 0.2 + 3
    assert camera.summary.dropped >= len(fast.items) - len(slow.items) - 4
    assert camera.summary.latency_percentile(50) < 0.2


def test_every_enhanced_frame_goes_out_once_or_is_counted_as_dropped():
    """A camera faster than the output rate: the pacer takes every 4th picture, the others are counted drops."""
    recorder = Recorder()
    camera, _ = make_camera([recorder], Camera8x8(on_s=10, away_s=0, back_s=0), fps=FPS / 4)
    run_for(camera, 1.5)
    count = camera.metrics.count
    fresh = count("nocturne_frames_total", kind="out") - count("nocturne_frames_total", kind="repeated")
    assert fresh > 0 and recorder.closed
    dropped_at_enhance = count("nocturne_dropped_frames_total", where="enhance")
    assert dropped_at_enhance > 0
    assert count("nocturne_frames_total", kind="enhanced") == fresh + dropped_at_enhance
    assert camera.summary.dropped >= dropped_at_enhance          # the summary line reports them too


def test_a_broken_output_stops_alone():
    good, broken = Recorder("good"), Recorder("broken", fail_after=3)
    camera, events = make_camera([good, broken], Camera8x8(on_s=10, away_s=0, back_s=0))
    run_for(camera, 1.0)
    assert len(broken.items) == 3 and len(good.items) >= 0.8 * FPS
    assert any(e == "broken: stopped: disk full" for e in events) and broken.closed


def test_muxers_share_one_encode_and_a_slow_one_loses_whole_gops(monkeypatch):
    monkeypatch.setattr("stream.live.camera.PACKET_BACKLOG_S", 0.5)      # so the slow one drains quickly at the end
    fast, slow = Muxer("fast"), Muxer("slow", delay_s=0.15)
    camera, _ = make_camera([fast, slow], Camera8x8(on_s=10, away_s=0, back_s=0), keyint_s=0.5)
    run_for(camera, 3.0)
    fast_pts = [item.packet.pts for item in fast.items]
    assert fast_pts == list(range(len(fast_pts))) and len(fast_pts) >= 0.8 * 3.0 * FPS   # nothing lost
    slow_items = {item.packet.pts: item for item in slow.items}
    assert set(slow_items) < set(fast_pts)
    assert all(slow_items[pts] is fast.items[pts] for pts in slow_items)                # the same packets
    # Wherever the slow muxer's packets skip, they resume at a keyframe: what it muxes still decodes.
    resumed = [pts for pts in slow_items if pts > 0 and pts - 1 not in slow_items]
    assert resumed and all(slow_items[pts].packet.keyframe for pts in resumed)
    assert camera.metrics.count("nocturne_dropped_frames_total", where="output:slow") > 0
    assert camera.metrics.count("nocturne_dropped_frames_total", where="output:fast") == 0
    assert fast.closed and slow.closed


def test_the_end_of_a_file_ends_the_camera_after_its_last_frame():
    recorder = Recorder()
    camera, _ = make_camera([recorder], Camera8x8(on_s=0.5, away_s=0, back_s=0))
    camera.source.spec = camera.spec.__class__("file", "x.mp4", {}, "x.mp4")     # a file's end ends the camera
    camera.start()
    assert camera.join(10)
    reader_last = 20 + (30 + camera.summary.frames_in) % 200          # Camera8x8's last picture value
    last_fresh = [item for item in recorder.items if item.fresh][-1]
    assert last_fresh.frame.image.y[0, 0] == reader_last and camera.summary.error is None


def test_no_signal_picture():
    image = no_signal_picture((320, 180), "gate")
    assert (image.width, image.height) == (320, 180)
    assert image.y.max() > 150 and np.median(image.y) < 60          # light letters on dark grey
    deep = no_signal_picture((64, 36), "gate", bits=10)
    assert deep.bit_depth == 10 and deep.y.dtype == np.uint16
