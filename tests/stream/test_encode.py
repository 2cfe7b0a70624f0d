"""FileSink's fragmented recordings while they are written; PacketEncoder's one encode in several muxers.

FileSink's other duties are in ``test_file_sink.py``."""

from __future__ import annotations

import dataclasses
import shutil
from fractions import Fraction

import av
import numpy as np
import pytest

from engines.image import YuvImage, resize_image
from stream.encode import (
    FRAGMENTED_OPTIONS,
    EncodedPacket,
    EncoderSettings,
    FileSink,
    FrameDurations,
    PacketEncoder,
    PacketSink,
)
from stream.errors import OutputError, UsageError
from stream.frame import Frame

GOP = 10


def flat_frame(index: int) -> Frame:
    """A flat grey 64x48 picture: a few hundred bytes per frame, like a still camera at night."""
    y = np.full((48, 64), 40 + index % 3, np.uint8)
    chroma = np.full((24, 32), 128, np.uint8)
    return Frame(image=YuvImage(y, chroma, chroma), pts=index, time_base=Fraction(1, 10), index=index,
                 display_size=(64, 48))


def test_a_fragmented_recording_is_on_disk_up_to_its_last_keyframe(tmp_path):
    """A crash (here: a copy taken before close) loses at most one keyframe interval, even at a tiny bitrate."""
    target = tmp_path / "live.mp4"
    sink = FileSink(target, EncoderSettings(fragmented=True, gop=GOP, tune="zerolatency"),
                    time_base=Fraction(1, 10), rate=Fraction(10))
    written = 4 * GOP + 5
    for index in range(written):
        sink.write(flat_frame(index))
    snapshot = tmp_path / "crashed.mp4"
    shutil.copy(target, snapshot)                    # what a SIGKILL would leave
    sink.close()

    assert target.stat().st_size < 32 * 1024        # small enough to sit whole in FFmpeg's write buffer
    with av.open(str(snapshot)) as crashed:
        on_disk = sum(1 for _ in crashed.decode(video=0))
    assert written - GOP <= on_disk <= written
    with av.open(str(target)) as finished:
        assert sum(1 for _ in finished.decode(video=0)) == written


def moving_frame(index: int, size: tuple[int, int] = (96, 64)) -> Frame:
    """A bar moving across grey: every frame differs, so packets carry real content."""
    width, height = size
    y = np.full((height, width), 60, np.uint8)
    y[:, (index * 5) % width] = 220
    chroma = np.full((height // 2, width // 2), 128, np.uint8)
    return Frame(image=YuvImage(y, chroma, chroma), pts=index, time_base=Fraction(1, 10), index=index,
                 display_size=size)


def encode_all(settings: EncoderSettings, count: int) -> tuple[PacketEncoder, list[EncodedPacket]]:
    encoder = PacketEncoder(settings, time_base=Fraction(1, 10), rate=Fraction(10))
    packets = [p for i in range(count) for p in encoder.encode(moving_frame(i))]
    return encoder, packets + encoder.flush()


def decoded_frames(path, format_name: str | None = None) -> int:
    with av.open(str(path), format=format_name) as container:
        return sum(1 for _ in container.decode(video=0))


def test_one_encode_muxed_into_mp4_matroska_and_hls(tmp_path):
    encoder, packets = encode_all(EncoderSettings(gop=GOP, tune="zerolatency"), 3 * GOP)
    assert len(packets) == 3 * GOP and packets[0].keyframe
    (tmp_path / "hls").mkdir()
    sinks = [PacketSink(tmp_path / "a.mp4", encoder.template, "mp4", FRAGMENTED_OPTIONS),
             PacketSink(tmp_path / "a.mkv", encoder.template, "matroska"),
             PacketSink(tmp_path / "hls" / "index.m3u8", encoder.template, "hls",
                        {"hls_time": "1", "hls_segment_filename": str(tmp_path / "hls" / "seg_%03d.ts")})]
    for packet in packets:
        for sink in sinks:
            sink.write(packet)
    for sink in sinks:
        sink.close()
    encoder.close()
    assert decoded_frames(tmp_path / "a.mp4") == decoded_frames(tmp_path / "a.mkv") == 3 * GOP
    assert decoded_frames(tmp_path / "hls" / "index.m3u8") == 3 * GOP
    # The parameter sets are in the encoder's extradata, not in the packets: every HLS segment still
    # decodes on its own because the MPEG-TS muxer puts them before each keyframe. (The format is named:
    # a segment of a few tiny frames is too short for FFmpeg to recognise by probing.)
    segments = sorted((tmp_path / "hls").glob("seg_*.ts"))
    assert len(segments) >= 2 and sum(decoded_frames(s, "mpegts") for s in segments) == 3 * GOP


def test_a_packet_sink_shifts_a_segment_to_start_at_zero(tmp_path):
    encoder, packets = encode_all(EncoderSettings(gop=GOP, tune="zerolatency"), 2 * GOP)
    start = next(i for i, p in enumerate(packets) if i >= GOP and p.keyframe)   # x264 may cut earlier than GOP
    sink = PacketSink(tmp_path / "second.mp4", encoder.template, "mp4")
    for packet in packets[start:]:
        sink.write(packet, pts_offset=packets[start].pts)
    sink.close()
    encoder.close()
    with av.open(str(tmp_path / "second.mp4")) as container:
        times = [frame.time for frame in container.decode(video=0)]
    count = 2 * GOP - start
    assert len(times) == count and times[0] == 0 and abs(times[-1] - (count - 1) / 10) < 1e-6


def test_hevc_packets_in_mp4_are_tagged_hvc1(tmp_path):
    encoder, packets = encode_all(EncoderSettings(codec="hevc", gop=GOP, tune="zerolatency"), GOP)
    sink = PacketSink(tmp_path / "h.mp4", encoder.template, "mp4")
    for packet in packets:
        sink.write(packet)
    sink.close()
    encoder.close()
    with av.open(str(tmp_path / "h.mp4")) as container:
        assert container.streams.video[0].codec_context.codec_tag == "hvc1"
        assert sum(1 for _ in container.decode(video=0)) == GOP


def test_a_packet_sink_that_cannot_write_says_so_in_one_line(tmp_path):
    encoder, _ = encode_all(EncoderSettings(gop=GOP), 1)
    with pytest.raises(OutputError) as caught:
        PacketSink(tmp_path / "missing" / "a.mp4", encoder.template, "mp4")
    encoder.close()
    assert "cannot write" in str(caught.value) and "\n" not in str(caught.value)


def test_a_zero_latency_encode_returns_each_picture_with_itself():
    """Live encodes use slice threads: frame threads would hold (threads - 1) pictures back."""
    encoder = PacketEncoder(EncoderSettings(gop=GOP, tune="zerolatency"), time_base=Fraction(1, 10), rate=Fraction(10))
    returned = [[p.pts for p in encoder.encode(moving_frame(i, size=(640, 368)))] for i in range(8)]
    encoder.close()
    assert returned == [[i] for i in range(8)]


def test_frame_durations_are_the_frames_own_else_the_interval():
    durations = FrameDurations()
    for pts, duration in ((0, None), (4, None), (6, 3)):
        durations.note(dataclasses.replace(flat_frame(0), pts=pts, duration=duration))
    assert durations.take(0) == 4           # known once the next frame came
    assert durations.take(4) == 2           # the interval to the next frame
    assert durations.take(6) == 3           # its own
    durations.note(dataclasses.replace(flat_frame(0), pts=8, duration=None))
    assert durations.take(8) == 2           # the newest, none of its own: the last interval
    assert durations.take(5) == 0 and durations.take(None) == 0


def test_an_encoders_own_duration_wins_and_the_picture_is_still_forgotten():
    """An encoder that sets durations (not libx264 today) must not leave one entry per frame behind on a
    stream that never ends."""
    durations = FrameDurations()
    for pts in range(1000):
        durations.note(dataclasses.replace(flat_frame(0), pts=pts, duration=1))
        assert durations.take(pts, 7) == 7
    assert durations.take(500) == 0                              # taken, so forgotten
    assert len(durations._by_pts) == 0


@pytest.mark.parametrize("fragmented", [False, True])
def test_every_packet_written_has_a_duration_and_the_last_frame_plays(tmp_path, fragmented):
    # libx264 leaves packet durations at 0; PyAV 17's MP4 muxer then cut the last frame off (issue 12).
    target = tmp_path / "out.mp4"
    sink = FileSink(target, EncoderSettings(gop=GOP, fragmented=fragmented), time_base=Fraction(1, 10), rate=None)
    for index in range(GOP + 3):
        sink.write(moving_frame(index))
    sink.close()
    with av.open(str(target)) as container:
        seconds = [float(p.duration * p.time_base) for p in container.demux(video=0) if p.size]
        assert seconds == pytest.approx([0.1] * (GOP + 3))
    with av.open(str(target)) as container:
        assert sum(1 for _ in container.decode(video=0)) == GOP + 3


def test_packets_carry_the_frames_time_base_and_a_duration_each():
    """x264 leaves durations at 0: the encoder fills them in (FrameDurations), in the frames' time base."""
    encoder, packets = encode_all(EncoderSettings(gop=GOP), GOP + 3)       # frame threads, B-frames: reordered
    encoder.close()
    assert sorted(p.pts for p in packets) == list(range(GOP + 3))
    assert all(type(p.time_base) is Fraction and p.time_base == Fraction(1, 10) for p in packets)
    assert [p.duration for p in packets] == [1] * (GOP + 3)
    assert all(p.dts <= p.pts for p in packets) and packets[0].keyframe


def test_a_forced_keyframe_starts_a_new_gop_where_asked():
    encoder = PacketEncoder(EncoderSettings(gop=50, tune="zerolatency"), time_base=Fraction(1, 10), rate=Fraction(10))
    packets = [p for i in range(10) for p in encoder.encode(moving_frame(i), keyframe=i == 6)]
    encoder.close()
    assert [p.pts for p in packets if p.keyframe] == [0, 6]


def sharp_bar_frame(index: int, size: tuple[int, int]) -> Frame:
    """Grey with a white bar 2 px wide per 96 px of width at x = 10/96 of it: area averaging keeps its edges sharp."""
    width, height = size
    y = np.full((height, width), 60, np.uint8)
    scale = width // 96 or 1
    y[:, 10 * scale:12 * scale] = 220
    chroma = np.full((height // 2, width // 2), 128, np.uint8)
    return Frame(image=YuvImage(y, chroma, chroma), pts=index, time_base=Fraction(1, 10), index=index,
                 display_size=size)


def test_later_frames_of_another_size_are_area_averaged_to_the_first(tmp_path):
    """The encoder resizes with ``resize_image`` (area averaging), not the encoder's own scaler (which
    rings around edges): losslessly encoded (crf 0), the decoded picture is exactly the averaged one."""
    encoder = PacketEncoder(EncoderSettings(crf=0, preset="ultrafast", gop=GOP, tune="zerolatency"),
                            time_base=Fraction(1, 10), rate=Fraction(10))
    sizes = [(96, 64), (96, 64), (192, 128), (288, 192)]
    frames = [sharp_bar_frame(i, size) for i, size in enumerate(sizes)]
    packets = [p for f in frames for p in encoder.encode(f)] + encoder.flush()
    assert encoder.size == (96, 64) and len(packets) == len(sizes)
    sink = PacketSink(tmp_path / "sized.mkv", encoder.template, "matroska")
    for packet in packets:
        sink.write(packet)
    sink.close()
    sink.close()                                                           # a second close does nothing
    encoder.close()
    encoder.close()
    with av.open(str(tmp_path / "sized.mkv")) as container:
        decoded = list(container.decode(video=0))
    assert [(f.width, f.height) for f in decoded] == [(96, 64)] * len(sizes)
    for frame, av_frame in zip(frames, decoded):
        assert np.array_equal(av_frame.to_ndarray()[:64], resize_image(frame.image, (96, 64)).y)


def test_a_packet_encoder_without_frames_flushes_nothing_and_closes():
    encoder = PacketEncoder(EncoderSettings(), time_base=Fraction(1, 10), rate=None)
    assert encoder.flush() == [] and encoder.template is None
    encoder.close()


def test_a_packet_encoder_refuses_an_unknown_codec():
    with pytest.raises(UsageError, match="unknown codec 'av1'; choose one of h264, hevc"):
        PacketEncoder(EncoderSettings(codec="av1"), time_base=Fraction(1, 10), rate=None)
