"""The muxing outputs fed packets directly: each opens at the first keyframe, and ``close`` is idempotent."""

from __future__ import annotations

from fractions import Fraction

import av
import pytest

import media
from live_media import free_port, live_packets
from stream.config import EncodeSection, LiveSection
from stream.encode import EncodedPacket
from stream.live.encoded import LivePacket
from stream.live.frame_outputs import NullOutput
from stream.live.muxing_outputs import FileOutput, HlsOutput, RtspPublishOutput, SinkOutput
from stream.live.output import OutputContext
from stream.live.outputs import open_output
from stream.live.servers import SharedServers
from stream.uri import parse_output

KEYFRAME_EVERY = 5                 # live_packets' default: keyint_s 0.5 at 10 fps


class Context:
    """An ``OutputContext`` whose events and reconnections are kept."""

    def __init__(self, **live) -> None:
        self.events: list[str] = []
        self.reconnects: list[str] = []
        self.ctx = OutputContext("cam0", EncodeSection(), LiveSection(**live), self.events.append,
                                 self.reconnects.append, SharedServers())


def frames_in(path) -> list[float]:
    """Presentation times of every frame (decoding every frame: the file plays)."""
    return media.video_times(path)


# The base class, with a stand-in sink ------------------------------------------------------------

class FakeSink:
    def __init__(self) -> None:
        self.written: list[int] = []
        self.closed = 0

    def write(self, packet: EncodedPacket) -> None:
        self.written.append(packet.pts)

    def close(self) -> None:
        self.closed += 1


class FakeOutput(SinkOutput):
    name = "fake"

    def __init__(self) -> None:
        super().__init__()
        self.sinks: list[FakeSink] = []

    def _open(self, item: LivePacket) -> FakeSink:
        self.sinks.append(FakeSink())
        return self.sinks[-1]


def fake_packet(pts: int, keyframe: bool) -> LivePacket:
    return LivePacket(EncodedPacket(b"x", pts, pts, Fraction(1, 10), keyframe), template=None, latency_from=None)


def test_a_sink_output_opens_at_the_first_keyframe_and_closes_once():
    output = FakeOutput()
    for pts in range(8):
        output.write(fake_packet(pts, keyframe=pts in (3, 6)))
    assert len(output.sinks) == 1 and output.sinks[0].written == [3, 4, 5, 6, 7]
    output.close()
    output.close()
    assert output.sinks[0].closed == 1
    output.write(fake_packet(8, keyframe=False))          # after a close: again only from a keyframe
    output.write(fake_packet(9, keyframe=True))
    assert len(output.sinks) == 2 and output.sinks[1].written == [9]
    output.close()


# The real outputs, with a tiny x264 stream ---------------------------------------------------------

def test_a_recording_starts_at_the_first_keyframe_at_time_zero(tmp_path):
    context = Context()
    path = tmp_path / "night.mp4"
    output = FileOutput(parse_output(str(path)), context.ctx)
    with live_packets(12) as packets:
        assert [p.packet.pts for p in packets if p.packet.keyframe] == [0, 5, 10]
        for item in packets[2:]:                           # joins mid-GOP: 2, 3, 4 cannot be decoded alone
            output.write(item)
        assert output.files == [path]                      # one file, opened at picture 5
        output.close()
        output.close()                                     # idempotent
    assert output.files == [path]
    times = frames_in(path)
    assert len(times) == 12 - KEYFRAME_EVERY and times[0] == pytest.approx(0.0)


def test_a_segmented_recording_cuts_at_keyframes(tmp_path):
    context = Context(segment_s=2.0)                       # 20 pictures a segment at 10 fps
    output = FileOutput(parse_output(str(tmp_path / "night.mp4")), context.ctx)
    with live_packets(45) as packets:
        for item in packets:
            output.write(item)
        output.close()
    assert len(output.files) == 3 and len(set(output.files)) == 3
    assert all(path.name.startswith("night-") and path.suffix == ".mp4" for path in output.files)
    assert [len(frames_in(path)) for path in output.files] == [20, 20, 5]
    assert all(frames_in(path)[0] == pytest.approx(0.0) for path in output.files)     # each starts at 0


def test_hls_writes_a_playlist_from_the_first_keyframe(tmp_path):
    context = Context()
    folder = tmp_path / "hls"
    output = HlsOutput(parse_output(f"hls://{folder}"), context.ctx)
    assert folder.is_dir()                                 # made at construction, before any packet
    with live_packets(25) as packets:
        for item in packets[3:]:
            output.write(item)
        output.close()
        output.close()
    playlist = (folder / "index.m3u8").read_text()
    assert "seg_00000.ts" in playlist and "#EXT-X-ENDLIST" in playlist
    with av.open(str(folder / "index.m3u8")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 25 - KEYFRAME_EVERY


def test_rtsp_publish_backs_off_while_the_server_is_away(tmp_path):
    context = Context(reconnect={"initial_s": 30, "max_s": 30})
    output = RtspPublishOutput(parse_output(f"rtsp://127.0.0.1:{free_port()}/night"), context.ctx)
    with live_packets(12) as packets:
        output.write(packets[1])                           # no keyframe: nothing is even tried
        assert context.reconnects == []
        output.write(packets[5])                           # a keyframe: the connection is refused
        assert context.reconnects == [output.name]
        assert len(context.events) == 1 and "retrying every ≤ 30 s" in context.events[0]
        for item in packets[6:]:                           # within the backoff: skipped, not retried
            output.write(item)
        assert context.reconnects == [output.name] and len(context.events) == 1
        output.close()
        output.close()


def test_the_registry_builds_each_kind(tmp_path):
    context = Context()
    assert isinstance(open_output(parse_output(str(tmp_path / "a.mkv")), context.ctx, dict), FileOutput)
    assert isinstance(open_output(parse_output(f"hls://{tmp_path / 'h'}"), context.ctx, dict), HlsOutput)
    assert isinstance(open_output(parse_output("rtsp://127.0.0.1:9/x"), context.ctx, dict), RtspPublishOutput)
    assert isinstance(open_output(parse_output("null://"), context.ctx, dict), NullOutput)
    assert all(kind.encoded for kind in (FileOutput, HlsOutput, RtspPublishOutput))
