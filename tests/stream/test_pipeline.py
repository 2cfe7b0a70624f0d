"""stream.pipeline without the CLI: VideoJob and ImageJob, their summaries, and what each failure leaves behind."""

from __future__ import annotations

import errno
import threading
import pytest

import media
from engines.spec import EnhancerSpec
from stream.config import OfflineConfig, load_config
from stream.errors import DecodeError, InputDamagedError, InterruptedRun, OutputError
from stream.pipeline import ImageJob, VideoJob

NONE = {"enhance.model": "none"}          # the graph and its bookkeeping, without a model's cost


def test_video_job_writes_every_frame_and_reports_it(clips, out):
    target = out / "o.mp4"
    seen: list[int] = []
    job = VideoJob(clips.one_second_mp4, target, OfflineConfig())
    summary = job.run(on_frame=lambda f: seen.append(f.pts))
    assert (summary.frames_in, summary.frames_out) == (25, 25) and len(seen) == 25
    assert summary.media_duration_s == pytest.approx(1.0, abs=1e-3)
    assert summary.backend in {"onnxruntime (cpu)", "torch (cuda)"}      # what auto picks without / with a GPU
    assert summary.damage == [] and not summary.interrupted
    assert summary.highlights is None                      # the stage is off by default
    assert len(media.video_times(target)) == 25
    assert media.mean_luma(media.decoded_frames(target)[12]) > 2 * media.mean_luma(
        media.decoded_frames(clips.one_second_mp4)[12])


def test_video_job_resamples_to_the_asked_rate(clips, out):
    job = VideoJob(clips.one_second_mp4, out / "o.mp4", load_config(None, {**NONE, "fps": 10}))
    assert job.expected_frames() == 10
    summary = job.run()
    assert summary.frames_out == 10 and summary.frames_in == 25
    assert media.video_times(out / "o.mp4") == pytest.approx([i / 10 for i in range(10)], abs=1e-3)


def test_video_job_refuses_to_overwrite_its_input(clips, tmp_path):
    copy = tmp_path / "in.mp4"
    copy.write_bytes(clips.one_second_mp4.read_bytes())
    with pytest.raises(OutputError, match="overwrite the input"):
        VideoJob(copy, copy, OfflineConfig())
    assert copy.read_bytes() == clips.one_second_mp4.read_bytes()


def test_an_open_input_with_no_decodable_frame_leaves_no_output(clips, out, monkeypatch):
    target = out / "o.mp4"
    job = VideoJob(clips.one_second_mp4, target, load_config(None, NONE))
    monkeypatch.setattr(job.graph, "source", lambda: iter(()))      # every packet failed to decode
    with pytest.raises(InputDamagedError, match="no frame could be decoded"):
        job.run()
    assert not target.exists()


def test_unreadable_input_is_refused_before_any_output_exists(clips, out):
    with pytest.raises(DecodeError, match="not a media file"):
        VideoJob(clips.truncated_mp4_moov_last, out / "o.mp4", load_config(None, NONE))
    assert not (out / "o.mp4").exists()


def test_damaged_input_is_raised_after_the_output_is_finished(clips, out):
    target = out / "o.mkv"
    with pytest.raises(InputDamagedError, match="frames written to") as caught:
        VideoJob(clips.truncated_mkv, target, load_config(None, NONE)).run()
    written = len(media.video_times(target))
    assert 0 < written < 60 and f"{written} frames" in str(caught.value)


def test_stop_request_finalises_a_playable_output(clips, out):
    target = out / "o.mp4"
    job = VideoJob(clips.long_clip, target, load_config(None, NONE))
    frames = 0

    def stop_after_five(_frame) -> None:
        nonlocal frames
        frames += 1
        if frames == 5:
            threading.Thread(target=job.request_stop, args=(2,)).start()

    with pytest.raises(InterruptedRun, match="playable") as caught:
        job.run(on_frame=stop_after_five)
    assert caught.value.exit_code == 130                   # 128 + the signal number passed to request_stop
    assert 5 <= len(media.video_times(target)) < 600


def test_disk_full_is_an_output_error_and_a_broken_mp4_is_removed(clips, out, monkeypatch):
    target = out / "o.mp4"
    job = VideoJob(clips.one_second_mp4, target, load_config(None, NONE))
    original = job.sink.write
    calls = 0

    def write(item):
        nonlocal calls
        calls += 1
        if calls == 10:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(item)

    monkeypatch.setattr(job.sink, "write", write)
    with pytest.raises(OutputError, match="No space left on device.*removed"):
        job.run()
    assert not target.exists()


def test_image_job_enhances_each_photo_independently(clips, out):
    inputs = [clips.png, clips.jpeg]
    outputs = [out / "a.png", out / "b.jpg"]
    job = ImageJob(inputs, outputs, OfflineConfig())
    resets = 0
    original = job.enhancer.reset

    def counting_reset() -> None:
        nonlocal resets
        resets += 1
        original()

    job.enhancer.reset = counting_reset                    # type: ignore[method-assign]
    summary = job.run()
    assert (summary.frames_in, summary.frames_out, resets) == (2, 2, 2)
    assert all(p.stat().st_size > 0 for p in outputs)


def test_image_sequence_keeps_one_state_and_a_bad_photo_costs_only_itself(clips, out, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    inputs = [clips.png, broken, clips.jpeg]
    outputs = [out / "a.png", out / "b.png", out / "c.jpg"]
    job = ImageJob(inputs, outputs, OfflineConfig(), sequence=True)
    resets = []
    original = job.enhancer.reset
    job.enhancer.reset = lambda: resets.append(1) or original()      # type: ignore[method-assign]
    with pytest.raises(InputDamagedError, match="1 of 3 images could not be read"):
        job.run()
    assert outputs[0].exists() and not outputs[1].exists() and outputs[2].exists()
    assert resets == []                                            # one temporal state across the sequence


def test_a_single_unreadable_photo_is_a_decode_error(out, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    with pytest.raises(DecodeError):
        ImageJob([broken], [out / "o.png"], OfflineConfig()).run()


def test_the_job_builds_what_the_config_asks_for(clips, out):
    config = load_config(None, {"enhance.model": "quality", "enhance.denoise": 0.3})
    assert config.enhancer_spec() == EnhancerSpec(model="quality", denoise=0.3)
    job = VideoJob(clips.one_second_mp4, out / "o.mp4", config)
    try:
        assert type(job.enhancer.inner).__name__ == "RestoreEnhancer" and job.enhancer.temporal.strength == 0.3
    finally:
        job.source.close()
