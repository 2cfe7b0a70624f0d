"""``FileSink`` and ``check_output_path`` directly (no CLI): what reaches the file, what is refused, what is dropped."""

from __future__ import annotations

import logging
import os
from fractions import Fraction
from pathlib import Path

import av
import media
import numpy as np
import pytest

from engines.image import YuvImage
from stream.decode import FileSource
from stream.encode import ENCODERS, EncoderSettings, FileSink, check_output_path
from stream.errors import OutputError, UsageError
from stream.frame import ColourTags, Frame, SidePacket

FAST = EncoderSettings(preset="ultrafast")
TIME_BASE = Fraction(1, 10)


def grey_frame(index: int, size: tuple[int, int] = (64, 48), **fields) -> Frame:
    """A flat picture (luma 60 + index) at pts ``index`` in 1/10 s; ``fields`` override ``Frame``'s."""
    width, height = size
    chroma = np.full((height // 2, width // 2), 128, np.uint8)
    return Frame(image=YuvImage(np.full((height, width), 60 + index, np.uint8), chroma, chroma), pts=index,
                 time_base=TIME_BASE, index=index, display_size=size, **fields)


def write_pcm_u8(path: Path, packets: int = 4) -> Path:
    """Matroska with one 8-bit PCM track (8 kHz mono, 0.1 s per packet): a codec MP4 cannot hold."""
    with av.open(str(path), "w") as container:
        audio = container.add_stream("pcm_u8", rate=8000, layout="mono")
        for k in range(packets):
            frame = av.AudioFrame.from_ndarray(np.full((1, 800), 128 + k, np.uint8), format="u8", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = 8000, k * 800, Fraction(1, 8000)
            container.mux(audio.encode(frame))
        container.mux(audio.encode(None))
    return path


@pytest.mark.parametrize("suffix, format_name", [(".mp4", "mp4"), (".M4V", "mp4"), (".mov", "mov"),
                                                 (".mkv", "matroska")])
def test_an_output_path_gives_its_container(tmp_path, suffix, format_name):
    assert check_output_path(tmp_path / f"out{suffix}") == format_name


def test_an_output_path_of_an_unknown_container_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match=r"output out.avi: unknown container; use one of .mp4, .m4v, .mov, .mkv"):
        check_output_path(tmp_path / "out.avi")


def test_an_output_path_in_a_missing_folder_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="folder .*missing does not exist") as caught:
        check_output_path(tmp_path / "missing" / "out.mp4")
    assert caught.value.exit_code == 5


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_an_output_path_in_a_read_only_folder_is_an_output_error(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="permission denied"):
            check_output_path(tmp_path / "out.mp4")
    finally:
        tmp_path.chmod(0o700)


def test_settings_bit_depth_follows_the_pixel_format():
    assert (EncoderSettings().bit_depth, EncoderSettings(pix_fmt="yuv420p10le").bit_depth) == (8, 10)


def test_an_unknown_codec_is_refused_before_any_file_is_made(tmp_path):
    with pytest.raises(UsageError, match=f"unknown codec 'vp9'; choose one of {', '.join(ENCODERS)}"):
        FileSink(tmp_path / "out.mp4", EncoderSettings(codec="vp9"), TIME_BASE, None)
    assert list(tmp_path.iterdir()) == []


def test_a_sink_closed_before_any_frame_writes_no_file_and_closes_twice(tmp_path):
    sink = FileSink(tmp_path / "out.mp4", FAST, TIME_BASE, None)
    sink.close()
    sink.close()
    assert list(tmp_path.iterdir()) == [] and sink.frames_written == 0 and sink.first_time_s is None


def test_frames_keep_their_times_and_the_sink_counts_them(tmp_path):
    target = tmp_path / "out.mkv"
    sink = FileSink(target, FAST, TIME_BASE, None)
    for index in (2, 3, 5, 6):                                       # starts late, one gap: VFR
        sink.write(grey_frame(index))
    sink.close()
    sink.close()                                                     # idempotent after a real close too
    assert sink.frames_written == 4 and (sink.first_time_s, sink.last_time_s) == (0.2, 0.6)
    assert media.video_times(target) == pytest.approx([0.2, 0.3, 0.5, 0.6], abs=1e-3)


def test_rotation_timecode_and_colour_tags_reach_the_file(tmp_path):
    target = tmp_path / "tagged.mp4"
    tags = ColourTags(color_range=1, colorspace=1, color_primaries=1, color_trc=1)
    sink = FileSink(target, FAST, TIME_BASE, None, timecode="01:00:00:00")
    for index in range(3):
        sink.write(grey_frame(index, rotation=90, tags=tags))
    sink.close()
    assert media.probe(target)[0]["tags"] == (1, 1, 1, 1)
    source = FileSource(target)
    try:
        frames = [item for item in source.items() if isinstance(item, Frame)]
        assert source.timecode == "01:00:00:00"
    finally:
        source.close()
    assert [(f.rotation, f.tags) for f in frames] == [(90, tags)] * 3


def test_a_size_change_mid_stream_is_scaled_to_the_first_size_with_one_warning(tmp_path, caplog):
    target = tmp_path / "out.mkv"
    sink = FileSink(target, FAST, TIME_BASE, None)
    with caplog.at_level(logging.WARNING, logger="stream.encode"):
        sink.write(grey_frame(0))
        sink.write(grey_frame(1, size=(96, 64)))
        sink.write(grey_frame(2, size=(32, 24)))
    sink.close()
    warnings = [r.getMessage() for r in caplog.records if "resolution changed" in r.getMessage()]
    assert warnings == ["resolution changed mid-stream (64x48 → 96x64); scaling to the first size"]
    assert [(f.width, f.height) for f in media.decoded_frames(target)] == [(64, 48)] * 3


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_a_side_stream_is_copied_packet_for_packet_or_dropped_with_a_warning(tmp_path, caplog, suffix):
    """Packets arriving before the first frame are held back, then muxed; a codec the container
    cannot hold (8-bit PCM in MP4) drops the stream, with a warning, and the video is still written."""
    source_path = write_pcm_u8(tmp_path / "pcm.mkv")
    target = tmp_path / f"out{suffix}"
    with av.open(str(source_path)) as source:
        audio = source.streams.audio[0]
        packets = [p for p in source.demux(audio) if p.dts is not None and p.size]
        payloads = [bytes(p) for p in packets]
        sink = FileSink(target, FAST, TIME_BASE, None, side_streams=[audio])
        with caplog.at_level(logging.WARNING, logger="stream.encode"):
            sink.write(SidePacket(packets[0], audio.index))              # before the container exists
            for index in range(4):
                sink.write(grey_frame(index))
            for packet in packets[1:]:
                sink.write(SidePacket(packet, audio.index))
            sink.close()
    with av.open(str(target)) as written:
        kinds = [s.type for s in written.streams]
        copied = [bytes(p) for p in written.demux(audio=0) if p.size] if written.streams.audio else []
    assert len(media.decoded_frames(target)) == 4
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    if suffix == ".mkv":
        assert kinds == ["video", "audio"] and copied == payloads and len(payloads) == 4
        assert sink.dropped_streams == [] and dropped == []
    else:
        assert kinds == ["video"] and sink.dropped_streams == ["#0 audio (pcm_u8)"]
        assert dropped == ["stream #0 audio (pcm_u8) dropped: .mp4 cannot hold it"]
