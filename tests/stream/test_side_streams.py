"""Audio and subtitle streams: copied untouched and in sync, or dropped with a warning."""

from __future__ import annotations

import logging

import av
import pytest

import media

ONE_FRAME_S = 1 / 25


def packet_payloads(path, kind: str) -> list[bytes]:
    with av.open(str(path)) as container:
        stream = getattr(container.streams, kind)[0]
        return [bytes(p) for p in container.demux(stream) if p.size]


def first_video_time(path) -> float:
    return media.video_times(path)[0]


@pytest.mark.parametrize("source, suffix", [("av_mp4", ".mp4"), ("av_mkv", ".mkv"), ("av_mp4", ".mkv"),
                                            ("av_mkv", ".mp4")])
def test_audio_copied_untouched(cli, clips, out, source, suffix):
    clip = getattr(clips, source)
    target = out / f"with-audio{suffix}"
    assert cli("enhance", clip, "-o", target, "--quiet").code == 0
    audio_in = next(s for s in media.probe(clip) if s["type"] == "audio")
    audio_out = [s for s in media.probe(target) if s["type"] == "audio"]
    assert len(audio_out) == 1
    for key in ("codec", "sample_rate", "channels"):
        assert audio_out[0][key] == audio_in[key]
    assert packet_payloads(target, "audio") == packet_payloads(clip, "audio"), "packets copied bit for bit"
    # Matroska keeps times in milliseconds: 1024/48000 s becomes 21 ms, hence the tolerance.
    durations_in = [d for _, d in media.stream_packets(clip, "audio")]
    durations_out = [d for _, d in media.stream_packets(target, "audio")]
    assert durations_out == pytest.approx(durations_in, abs=1e-3)


@pytest.mark.parametrize("source, suffix", [("av_mp4", ".mp4"), ("av_mkv", ".mkv"), ("av_mp4", ".mkv"),
                                            ("vfr_mkv", ".mp4")])
def test_audio_stays_in_sync(cli, clips, out, source, suffix):
    clip = getattr(clips, source)
    target = out / f"sync{suffix}"
    assert cli("enhance", clip, "-o", target, "--quiet").code == 0

    def offsets(path):
        audio = media.stream_packets(path, "audio")
        video = media.video_times(path)
        audio_end = audio[-1][0] + audio[-1][1]
        return audio[0][0] - video[0], audio_end - video[-1], video[-1] - video[0]

    start_in, end_in, span_in = offsets(clip)
    start_out, end_out, span_out = offsets(target)
    assert abs(start_out - start_in) < ONE_FRAME_S, "audio starts where it did relative to the video"
    assert abs(end_out - end_in) < ONE_FRAME_S, "and ends where it did"
    assert abs(span_out - span_in) < ONE_FRAME_S


def test_audio_in_sync_with_fps(cli, clips, out):
    target = out / "cfr.mkv"
    assert cli("enhance", clips.vfr_mkv, "-o", target, "--quiet", "--fps", "10").code == 0
    video = media.video_times(target)
    audio = media.stream_packets(target, "audio")
    audio_in = media.stream_packets(clips.vfr_mkv, "audio")
    assert len(audio) == len(audio_in)
    assert abs((audio[0][0] - video[0]) - (audio_in[0][0] - media.video_times(clips.vfr_mkv)[0])) < 0.1


@pytest.mark.needs_ffmpeg
def test_subtitles_kept_in_mkv(cli, clips, out):
    target = out / "subs.mkv"
    assert cli("enhance", clips.subtitled_mkv, "-o", target, "--quiet").code == 0
    kinds = [(s["type"], s["codec"]) for s in media.probe(target)]
    assert kinds == [("video", "h264"), ("audio", "aac"), ("subtitle", "srt")]
    assert packet_payloads(target, "subtitles") == packet_payloads(clips.subtitled_mkv, "subtitles")
    assert [t for t, _ in media.stream_packets(target, "subtitles")] == pytest.approx(
        [t for t, _ in media.stream_packets(clips.subtitled_mkv, "subtitles")], abs=1e-3)


@pytest.mark.needs_ffmpeg
def test_subtitles_dropped_from_mp4_with_warning(cli, clips, out, caplog):
    target = out / "subs.mp4"
    with caplog.at_level(logging.WARNING):
        result = cli("enhance", clips.subtitled_mkv, "-o", target, "--quiet")
    assert result.code == 0, result.stderr
    kinds = [s["type"] for s in media.probe(target)]
    assert kinds == ["video", "audio"]
    assert any("subtitle" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert len(media.video_times(target)) == 24


@pytest.mark.needs_ffmpeg
def test_subtitle_drop_warning_on_real_stderr(cli_subprocess, clips, out):
    target = out / "subs.mp4"
    result = cli_subprocess("enhance", clips.subtitled_mkv, "-o", target)
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr
    warnings = [line for line in result.lines if "subtitle (" in line]
    assert len(warnings) == 1, result.stderr
    assert "warn" in warnings[0].lower() and "drop" in warnings[0].lower()


@pytest.mark.needs_ffmpeg
@pytest.mark.parametrize("suffix", [".mov", ".mp4", ".mkv"])
def test_timecode_track_is_kept_as_a_tag_and_the_output_stays_playable(cli, tmp_path, suffix):
    """A MOV timecode (tmcd data) track: copying it breaks FFmpeg's MOV trailer, so the tag carries it."""
    import subprocess

    source = tmp_path / "tc.mov"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x96:rate=25",
                    "-frames:v", "10", "-c:v", "libx264", "-timecode", "01:00:00:00", str(source)], check=True)
    target = tmp_path / f"out{suffix}"
    assert cli("enhance", source, "-o", target, "--quiet").code == 0
    with av.open(str(target)) as container:
        video = container.streams.video[0]
        tags = {k.lower(): v for k, v in video.metadata.items()}
        assert tags.get("timecode") == "01:00:00:00"
        assert sum(1 for _ in container.decode(video)) == 10
