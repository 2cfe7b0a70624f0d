"""Live sources: reconnect with capped backoff, give up when told, the live clock, real PyAV readers."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import media
from engines.image import YuvImage
from stream.config import LiveSection, ReconnectSection
from stream.errors import SourceError, SourceGaveUp
from stream.frame import ColourTags
from stream.live.av_failures import describe_failure
from stream.live.av_reader import AvReader
from stream.live.backoff import Backoff
from stream.live.reader import Decoded
from stream.live.reconnect import LiveSource
from stream.live.sources import open_reader
from stream.uri import parse_source


def picture(value: int = 40) -> YuvImage:
    return YuvImage(np.full((8, 8), value, np.uint8), np.full((4, 4), 128, np.uint8), np.full((4, 4), 128, np.uint8))


class ScriptedReader:
    """A reader that plays a script shared by all its connections: ints are frame counts, strings failures."""

    def __init__(self, script: list, opened: list) -> None:
        self.script, self.opened = script, opened
        self.nominal_fps = 10.0

    def open(self, known_fps=None) -> None:
        self.opened.append(time.monotonic())
        step = self.script.pop(0) if self.script else "refused"
        if isinstance(step, str):
            raise SourceError(step)
        self.count = step

    def frames(self, stop):
        for _ in range(self.count):
            yield Decoded(picture(), (8, 8), ColourTags(), 0, 0.001)
        if self.script and isinstance(self.script[0], str) and self.script[0] == "end":
            self.script.pop(0)
            return
        raise SourceError("the camera went away")

    def close(self) -> None:
        pass


def live(**reconnect) -> LiveSection:
    return LiveSection(reconnect=ReconnectSection(**{"initial_s": 0.01, "max_s": 0.04, **reconnect}))


def test_backoff_doubles_up_to_its_cap_and_resets():
    backoff = Backoff(0.25, 1.0)
    assert [backoff.next() for _ in range(5)] == [0.25, 0.5, 1.0, 1.0, 1.0]
    backoff.reset()
    assert backoff.next() == 0.25


def test_reconnects_until_frames_flow_again():
    script, opened, events, states = ["refused", 3, "refused", "refused", 2], [], [], []
    source = LiveSource(parse_source("rtsp://cam/x"), live(), events.append, on_connected=states.append,
                        reader_factory=lambda spec, cfg: ScriptedReader(script, opened))
    stop = threading.Event()
    frames = []
    for frame in source.frames(stop):
        frames.append(frame)
        if len(frames) == 5:
            stop.set()
    assert [f.index for f in frames] == [0, 1, 2, 3, 4]
    assert all(b.pts > a.pts for a, b in zip(frames, frames[1:]))           # one live clock across connections
    assert frames[0].time_base == frames[-1].time_base and frames[0].arrival_s is not None
    assert states == [True, False, True]
    assert any("connected" in e for e in events) and any("back after" in e for e in events)
    gaps = np.diff(opened)
    assert len(opened) == 5 and gaps.max() < 1.0


def test_failures_are_told_once_not_per_retry():
    events = []
    source = LiveSource(parse_source("rtsp://cam/x"), live(give_up_after_s=0.3), events.append,
                        reader_factory=lambda spec, cfg: ScriptedReader([], []))
    with pytest.raises(SourceGaveUp, match="refused; gave up after"):
        list(source.frames(threading.Event()))
    assert len([e for e in events if "refused" in e]) == 1


def test_end_of_a_file_ends_the_source():
    events = []
    source = LiveSource(parse_source("clip.mp4"), live(), events.append,
                        reader_factory=lambda spec, cfg: ScriptedReader([4, "end"], []))
    assert len(list(source.frames(threading.Event()))) == 4
    assert source.ended and events[-1].endswith("end of stream")


def test_stop_interrupts_the_backoff_wait():
    source = LiveSource(parse_source("rtsp://cam/x"), live(initial_s=30, max_s=30), lambda e: None,
                        reader_factory=lambda spec, cfg: ScriptedReader([], []))
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    assert list(source.frames(stop)) == []
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("uri, dark", [("test://night?size=64x36&fps=20", True),
                                       ("test://testsrc2?size=64x36&fps=20", False)])
def test_test_patterns_are_paced_in_real_time(uri, dark):
    reader = open_reader(parse_source(uri), LiveSection())
    reader.open()
    stop = threading.Event()
    started = time.monotonic()
    frames = []
    for decoded in reader.frames(stop):
        frames.append(decoded)
        if len(frames) == 11:
            break
    reader.close()
    assert time.monotonic() - started >= 0.45                  # 10 intervals of 50 ms
    assert frames[0].image.y.shape == (36, 64) and reader.nominal_fps == 20
    assert (np.mean(frames[0].image.y) < 50) == dark           # the "night" street is dark


def test_a_file_without_video_is_a_clear_failure(tmp_path):
    audio = media.write_audio_only(tmp_path / "voice.m4a")
    reader = AvReader(parse_source(str(audio)), LiveSection())
    with pytest.raises(SourceError, match="holds no video stream"):
        reader.open()


def test_unknown_pattern():
    with pytest.raises(SourceError, match="unknown pattern"):
        AvReader(parse_source("test://plasma"), LiveSection())


def test_refused_connection_is_described_without_the_url():
    import av

    with pytest.raises(av.error.FFmpegError) as caught:
        av.open("rtsp://admin:hunter2@127.0.0.1:9/x", timeout=(2, 2))
    text = describe_failure(caught.value, 2)
    assert "refused" in text and "hunter2" not in text


class RateAtFirstFrame(ScriptedReader):
    """Like a GStreamer reader: the rate is known from the first sample's caps, not at open."""

    def open(self, known_fps=None) -> None:
        super().open(known_fps)
        self.nominal_fps = None

    def frames(self, stop):
        self.nominal_fps = 30.0
        yield from super().frames(stop)


def test_a_rate_learnt_at_the_first_frame_reaches_the_source():
    source = LiveSource(parse_source("v4l2:///dev/video0"), live(), lambda e: None,
                        reader_factory=lambda spec, cfg: RateAtFirstFrame([2, "end"], []))
    first = next(source.frames(threading.Event()))
    assert first.index == 0 and source.nominal_fps == 30.0
