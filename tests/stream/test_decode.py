"""``FileSource`` driven directly (no CLI): what it reports, the frames and packets it yields, damage, errors."""

from __future__ import annotations

import itertools
import logging
import os
from fractions import Fraction
from pathlib import Path

import av
import media
import numpy as np
import pytest

from stream import decode
from stream.decode import FileSource
from stream.errors import DecodeError, InputNotFoundError, NoVideoStreamError
from stream.frame import Frame, SidePacket

SIZE = (64, 48)
FRAMES = 25
RATE = 25


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("decode")


@pytest.fixture(scope="module")
def clip(folder: Path) -> Path:
    """64x48 H.264, 25 frames at 25 fps (exactly 1 s, time base 1/12800), with an AAC track."""
    return media.write_video(folder / "clip.mp4", frames=FRAMES, size=SIZE, rate=RATE, audio=True)


@pytest.fixture(scope="module")
def intra_clip(folder: Path) -> Path:
    """10 frames of MJPEG in Matroska (time base 1/1000): every packet is one whole picture, so a
    damaged packet costs exactly that picture."""
    return media.write_video(folder / "intra.mkv", frames=10, size=SIZE, rate=RATE, codec="mjpeg", pix_fmt="yuvj420p")


def remux(source: Path, target: Path, change) -> Path:
    """Copy ``source``'s video packets into ``target``; ``change(index, packet)`` returns the packet to write."""
    with av.open(str(source)) as src, av.open(str(target), "w") as dst:
        video = src.streams.video[0]
        out = dst.add_stream_from_template(video)
        for index, packet in enumerate(p for p in src.demux(video) if p.dts is not None):
            packet = change(index, packet)
            packet.stream = out
            dst.mux(packet)
    return target


def garbage_like(packet: av.Packet) -> av.Packet:
    """A packet at ``packet``'s timestamps holding no picture (an MJPEG decoder rejects it)."""
    bad = av.Packet(b"\xff\xff\xff\xff" + bytes(60))
    bad.pts, bad.dts, bad.time_base, bad.duration = packet.pts, packet.dts, packet.time_base, packet.duration
    return bad


def read_all(path: Path) -> tuple[FileSource, list[Frame], list[tuple[int, bytes]]]:
    """Every item of ``path``; side packets as (stream index, payload), read before ``close()`` frees them."""
    source = FileSource(path)
    try:
        items = list(source.items())
        side = [(i.stream_index, bytes(i.packet)) for i in items if isinstance(i, SidePacket)]
    finally:
        source.close()
    return source, [i for i in items if isinstance(i, Frame)], side


def reference_frames(path: Path) -> list[av.VideoFrame]:
    """PyAV's own decode of the video stream, in presentation order."""
    with av.open(str(path)) as container:
        return sorted(container.decode(video=0), key=lambda f: f.pts)


def open_descriptors(path: Path) -> int:
    """How many of this process's file descriptors point at ``path`` (Linux ``/proc``)."""
    target, count = str(path.resolve()), 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}") == target
        except OSError:                                  # closed between listdir and readlink
            pass
    return count


needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")


def test_info_is_the_video_streams_size_rate_time_base_and_duration(clip):
    source = FileSource(clip)
    info = source.info
    source.close()
    with av.open(str(clip)) as container:
        time_base = Fraction(container.streams.video[0].time_base)
    assert (info.width, info.height) == SIZE
    assert info.average_rate == RATE and info.time_base == time_base
    assert info.frames == FRAMES and info.expected_frames() == FRAMES
    assert info.duration_s == pytest.approx(FRAMES / RATE, abs=1e-3)
    assert (info.codec, info.pix_fmt) == ("h264", "yuv420p")


def test_frames_carry_the_streams_timestamps_and_pictures_in_order(clip):
    source, frames, _ = read_all(clip)
    reference = reference_frames(clip)
    assert [f.pts for f in frames] == [r.pts for r in reference]
    assert all(b.pts > a.pts for a, b in itertools.pairwise(frames))                # strictly increasing
    assert all(f.time_base == source.info.time_base for f in frames)
    assert [float(f.time) for f in frames] == pytest.approx([i / RATE for i in range(FRAMES)], abs=1e-6)
    assert [f.index for f in frames] == list(range(FRAMES))
    assert source.frames_decoded == FRAMES and source.last_time_s == pytest.approx((FRAMES - 1) / RATE)
    assert source.damage == []
    # The planes are the decoder's own: luma identical to PyAV's yuv420p picture (its first H rows).
    for frame, av_frame in zip(frames, reference):
        assert np.array_equal(frame.image.y, av_frame.to_ndarray()[:SIZE[1]])
        assert frame.display_size == SIZE


def test_side_streams_are_listed_and_their_packets_passed_through_in_file_order(clip):
    source = FileSource(clip)
    listed = [(s.index, s.type) for s in source.side_streams]        # PyAV streams die with their container
    source.close()
    assert listed == [(1, "audio")]
    _, frames, side = read_all(clip)
    with av.open(str(clip)) as container:
        audio = [bytes(p) for p in container.demux(audio=0) if p.dts is not None and p.size]
    assert len(frames) == FRAMES
    assert {index for index, _ in side} == {1}
    assert [data for _, data in side] == audio                        # every packet, untouched, in order


def test_a_corrupted_packet_is_skipped_and_recorded_as_damage(folder, intra_clip):
    damaged = remux(intra_clip, folder / "one-bad.mkv", lambda i, p: garbage_like(p) if i == 4 else p)
    source, frames, _ = read_all(damaged)
    good_times = [r.pts for r in reference_frames(intra_clip)]
    assert len(source.damage) == 1 and source.damage[0].startswith("undecodable packet after frame 4:")
    assert [f.pts for f in frames] == good_times[:4] + good_times[5:]          # only the damaged picture is gone
    assert [f.index for f in frames] == list(range(9)) and source.frames_decoded == 9


def test_too_many_bad_packets_in_a_row_stop_the_read(folder, intra_clip, monkeypatch):
    monkeypatch.setattr(decode, "MAX_CONSECUTIVE_DECODE_ERRORS", 2)
    damaged = remux(intra_clip, folder / "many-bad.mkv", lambda i, p: garbage_like(p) if i >= 3 else p)
    source, frames, _ = read_all(damaged)
    assert len(frames) == 3
    assert source.damage[-1] == "too many consecutive decode errors; stopped"
    assert len(source.damage) == 4                                             # 3 bad packets, then the stop


def test_a_repeated_timestamp_continues_at_the_nominal_step(folder, intra_clip):
    repeated = remux(intra_clip, folder / "repeated.mkv",
                     lambda i, p: _shifted(p, -40) if i == 3 else p)           # frame 3 at frame 2's time (ms)
    source, frames, _ = read_all(repeated)
    original = [r.pts for r in reference_frames(intra_clip)]
    step = round(1 / ((source.info.average_rate or Fraction(30)) * source.info.time_base))
    pts = [f.pts for f in frames]
    assert len(pts) == 10 and pts[3] == original[2] + step
    assert pts[:3] + pts[4:] == original[:3] + original[4:]
    assert all(b > a for a, b in itertools.pairwise(pts))


def _shifted(packet: av.Packet, by: int) -> av.Packet:
    packet.pts += by
    packet.dts += by
    return packet


def test_an_hdr_input_is_warned_about_once(folder, caplog):
    hdr = media.write_video(folder / "hdr.mp4", frames=3, size=SIZE, colour={"color_trc": 16})
    with caplog.at_level(logging.WARNING, logger="stream.decode"):
        _, frames, _ = read_all(hdr)
    warnings = [r.getMessage() for r in caplog.records if "HDR" in r.getMessage()]
    assert len(frames) == 3 and len(warnings) == 1 and "PQ / SMPTE 2084" in warnings[0]


@needs_proc
def test_close_releases_the_file_and_can_be_called_twice(clip):
    source = FileSource(clip)
    assert open_descriptors(clip) >= 1
    next(iter(source.items()))                        # mid-read
    source.close()
    source.close()
    assert open_descriptors(clip) == 0


def test_a_missing_input_is_input_not_found(tmp_path):
    with pytest.raises(InputNotFoundError) as caught:
        FileSource(tmp_path / "nothing.mp4")
    assert isinstance(caught.value, FileNotFoundError) and caught.value.exit_code == 3
    assert str(caught.value) == f"input not found: {tmp_path / 'nothing.mp4'}"


def test_a_folder_is_a_decode_error(tmp_path):
    with pytest.raises(DecodeError, match="folder"):
        FileSource(tmp_path)


def test_a_file_that_is_not_media_is_a_one_line_decode_error(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(DecodeError) as caught:
        FileSource(junk)
    message = str(caught.value)
    assert message.startswith("cannot read junk.mp4: not a media file") and "\n" not in message
    assert caught.value.exit_code == 3


@needs_proc
def test_an_input_without_video_is_no_video_stream_and_is_closed(tmp_path):
    voice = media.write_audio_only(tmp_path / "voice.m4a", seconds=0.2)
    with pytest.raises(NoVideoStreamError, match="voice.m4a has no video stream") as caught:
        FileSource(voice)
    assert caught.value.exit_code == 3
    assert open_descriptors(voice) == 0
