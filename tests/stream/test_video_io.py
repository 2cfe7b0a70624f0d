"""``nocturne enhance`` on video files: frames, timestamps, frame rate, depth, size, rotation."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

import media

# Timestamps are compared in seconds; containers may re-express them in another
# time base (MP4 timescales), so allow well under a millisecond.
TIME_TOLERANCE_S = 5e-4


def assert_same_times(actual: list[float], expected: list[float], shift_s: float = 0.0) -> None:
    """Same count, and every time equal to the input's plus ``shift_s``."""
    assert len(actual) == len(expected), f"{len(actual)} frames out, {len(expected)} in"
    worst = max(abs(a - e - shift_s) for a, e in zip(actual, expected))
    assert worst <= TIME_TOLERANCE_S, f"timestamps moved by up to {worst * 1000:.2f} ms"


def audio_start_s(path) -> float:
    """Presentation time of the first audio packet (negative for the AAC priming an MP4 edit list holds)."""
    return media.stream_packets(path, "audio")[0][0]


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_every_frame_and_timestamp_preserved(cli, clips, out, suffix):
    target = out / f"enhanced{suffix}"
    result = cli("enhance", clips.av_mp4, "-o", target, "--quiet")
    assert result.code == 0, result.stderr
    assert result.lines == []                        # --quiet: nothing on stderr
    # The input's audio starts 21 ms before zero (AAC priming, in the MP4's edit list). Matroska's
    # muxer before FFmpeg 9 (PyAV <= 18) cannot store a negative time and shifts every stream by that
    # much, as ffmpeg -c copy does; FFmpeg 9 (PyAV 19) and MP4 keep every time. Either way video and
    # audio move together: the video's shift is the audio's, and sync is kept.
    priming = -audio_start_s(clips.av_mp4)
    assert 0 < priming < 0.04, "the input has priming samples, well under one frame"
    shift = audio_start_s(target) - audio_start_s(clips.av_mp4)
    allowed = (0.0, priming) if suffix == ".mkv" else (0.0,)
    assert min(abs(shift - a) for a in allowed) <= TIME_TOLERANCE_S, f"audio moved by {shift * 1000:.2f} ms"
    # video_times decodes every frame: that is also the "it plays" check.
    assert_same_times(media.video_times(target), media.video_times(clips.av_mp4), shift)


def test_output_is_brighter_than_input(cli, clips, out):
    target = out / "enhanced.mkv"
    assert cli("enhance", clips.av_mkv, "-o", target, "--quiet").code == 0
    before = [media.mean_luma(f) for f in media.decoded_frames(clips.av_mkv)]
    after = [media.mean_luma(f) for f in media.decoded_frames(target)]
    assert min(np.subtract(after, before)) > 0.05, "every frame should be clearly lifted"


def test_strength_zero_leaves_pictures_untouched(cli, clips, out):
    target = out / "untouched.mkv"
    assert cli("enhance", clips.av_mkv, "-o", target, "--quiet", "--strength", "0", "--crf", "0").code == 0
    for before, after in zip(media.decoded_frames(clips.av_mkv), media.decoded_frames(target)):
        a, b = before.to_ndarray().astype(int), after.to_ndarray().astype(int)
        assert a.shape == b.shape
        assert np.abs(a - b).max() <= 1                 # lossless encode, identity enhancement


def test_summary_line_without_quiet(cli, clips, out):
    target = out / "enhanced.mp4"
    result = cli("enhance", clips.av_mp4, "-o", target)
    assert result.code == 0, result.stderr
    done = [line for line in result.lines if line.startswith("done")]
    assert len(done) == 1, result.stderr
    assert "24 frames" in done[0] and "fps" in done[0]
    assert any("onnxruntime" in line or "torch" in line for line in result.lines), "the backend is shown"


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_vfr_stays_vfr_without_fps(cli, clips, out, suffix):
    target = out / f"vfr{suffix}"
    assert cli("enhance", clips.vfr_mkv, "-o", target, "--quiet").code == 0
    expected = media.video_times(clips.vfr_mkv)
    assert len(set(np.round(np.diff(expected), 4))) > 3, "the test clip itself must be VFR"
    assert_same_times(media.video_times(target), expected)


@pytest.mark.parametrize("source, fps", [("vfr_mkv", 10), ("av_mp4", 10), ("av_mp4", 50)])
def test_fps_gives_constant_frame_rate(cli, clips, out, source, fps):
    clip = getattr(clips, source)
    target = out / "cfr.mp4"
    assert cli("enhance", clip, "-o", target, "--quiet", "--fps", fps).code == 0
    times_in, times_out = media.video_times(clip), media.video_times(target)
    steps = np.diff(times_out)
    assert np.allclose(steps, 1.0 / fps, atol=TIME_TOLERANCE_S), f"uneven steps {sorted(set(np.round(steps, 4)))}"
    assert abs(times_out[0] - times_in[0]) <= 0.5 / fps, "output starts where the input starts"
    span_in = times_in[-1] - times_in[0] + float(np.median(np.diff(times_in)))   # the last frame lasts a step too
    assert abs(len(times_out) - span_in * fps) <= 1.5, f"{len(times_out)} frames for {span_in:.3f} s at {fps} fps"
    assert media.probe(target)[0]["average_rate"] == fps
    # The audio is still there, untouched.
    assert len(media.stream_packets(target, "audio")) == len(media.stream_packets(clip, "audio"))


@pytest.mark.parametrize("fps", [10, 5])
def test_fps_frame_count_matches_duration(cli, clips, out, fps):
    target = out / "cfr.mp4"
    assert cli("enhance", clips.one_second_mp4, "-o", target, "--quiet", "--fps", fps).code == 0
    times = media.video_times(target)
    assert len(times) == fps, f"1.0 s of input at {fps} fps: {len(times)} frames, the last at {times[-1]:.2f} s"


@pytest.mark.parametrize("source", ["ten_bit_h264", "ten_bit_hevc"])
def test_ten_bit_input_default_output_is_8_bit(cli, clips, out, source):
    assert media.probe(getattr(clips, source))[0]["pix_fmt"] == "yuv420p10le"
    target = out / "eight.mp4"
    assert cli("enhance", getattr(clips, source), "-o", target, "--quiet").code == 0
    assert media.probe(target)[0]["pix_fmt"] == "yuv420p"
    assert len(media.video_times(target)) == 10


@pytest.mark.parametrize("codec, codec_name", [("h264", "h264"), ("hevc", "hevc")])
def test_ten_bit_output_with_pix_fmt(cli, clips, out, codec, codec_name):
    target = out / "ten.mp4"
    result = cli("enhance", clips.ten_bit_h264, "-o", target, "--quiet", "--pix-fmt", "yuv420p10le", "--codec", codec)
    assert result.code == 0, result.stderr
    stream = media.probe(target)[0]
    assert (stream["codec"], stream["pix_fmt"]) == (codec_name, "yuv420p10le")
    frames = media.decoded_frames(target)
    assert len(frames) == 10
    luma = frames[3].to_ndarray(format="gray16le")
    assert luma.max() > 255, "10-bit code values, not 8-bit ones in 16-bit words"
    assert np.any(luma % 4 != 0), "the two extra bits carry information"


def test_hevc_in_mp4_is_tagged_hvc1(cli, clips, out):
    target = out / "hevc.mp4"
    assert cli("enhance", clips.av_mp4, "-o", target, "--quiet", "--codec", "hevc").code == 0
    stream = media.probe(target)[0]
    assert (stream["codec"], stream["codec_tag"]) == ("hevc", "hvc1")   # Apple players need hvc1
    assert len(media.video_times(target)) == 24


def test_odd_size_input(cli, clips, out):
    target = out / "odd.mp4"
    result = cli("enhance", clips.odd_size, "-o", target, "--quiet")
    assert result.code == 0, result.stderr
    stream = media.probe(target)[0]
    # 4:2:0 encoders need even sizes: the product pads 161×97 to 162×98 by repeating
    # the last column and row (stream.planes.pad_even); the picture itself is not scaled.
    assert (stream["width"], stream["height"]) == (162, 98)
    frames = media.decoded_frames(target)
    assert len(frames) == 10
    luma = frames[0].to_ndarray(format="gray")
    assert np.abs(luma[:, 161].astype(int) - luma[:, 160]).mean() < 3, "the added column repeats the last one"
    assert np.abs(luma[97].astype(int) - luma[96]).mean() < 3, "the added row repeats the last one"


@pytest.mark.parametrize("suffix", [".mp4", ".mov"])
def test_rotation_is_kept(cli, clips, out, suffix):
    assert media.decoded_frames(clips.rotated)[0].rotation == 90
    target = out / f"rotated{suffix}"
    assert cli("enhance", clips.rotated, "-o", target, "--quiet").code == 0
    frames = media.decoded_frames(target)
    assert len(frames) == 10
    assert {f.rotation for f in frames} == {90}        # PyAV reads the display matrix side data


def test_hdr_input_is_enhanced_with_a_warning(cli, tmp_path, caplog):
    source = tmp_path / "pq.mkv"
    with av.open(str(source), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        ctx = stream.codec_context
        ctx.color_trc, ctx.color_primaries, ctx.colorspace = 16, 9, 9                  # PQ, BT.2020
        for i in range(5):
            frame = av.VideoFrame(64, 48, "yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, 25)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with caplog.at_level("WARNING"):
        result = cli("enhance", source, "-o", tmp_path / "o.mkv", "--quiet")
    assert result.code == 0
    assert any("HDR" in r.getMessage() and "PQ" in r.getMessage() for r in caplog.records)
