"""Edge cases found in review: NTSC rates, a bad image in a batch, unreadable config, read-only cache."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from stream.pacing import frame_rate


@pytest.mark.parametrize("typed,exact", [(29.97, Fraction(30000, 1001)), (23.976, Fraction(24000, 1001)),
                                         (59.94, Fraction(60000, 1001)), (25, Fraction(25)), (30, Fraction(30)),
                                         (12.5, Fraction(25, 2))])
def test_frame_rate_snaps_ntsc(typed, exact):
    assert frame_rate(typed) == exact


def _png(path, value):
    import cv2

    cv2.imwrite(str(path), np.full((24, 32, 3), value, np.uint8))


def test_one_bad_image_does_not_cost_the_batch(cli, tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    _png(folder / "a.png", 30)
    (folder / "b.png").write_bytes(b"not a png at all")
    _png(folder / "c.png", 40)
    result = cli("enhance", folder, "-o", out, "--quiet")
    assert result.code == 4
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "c.png"]
    assert "1 of 3 images could not be read" in result.stderr and result.stderr.count("\n") == 1


def test_config_that_is_a_folder_is_a_usage_error(cli, clips, tmp_path):
    result = cli("enhance", clips.one_second_mp4, "-o", tmp_path / "o.mp4", "--config", tmp_path, "--quiet")
    assert result.code == 2 and "cannot be read" in result.stderr


def test_read_only_model_cache_falls_back_to_a_temp_folder(cli, clips, tmp_path, monkeypatch):
    monkeypatch.setenv("NOCTURNE_CACHE", "/proc/nocturne-cannot-write-here")
    target = tmp_path / "o.mp4"
    assert cli("enhance", clips.one_second_mp4, "-o", target, "--quiet").code == 0
    with av.open(str(target)) as container:
        assert container.streams.video[0].frames > 0


def test_output_folder_equal_to_input_folder_is_refused(cli, tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    _png(folder / "a.png", 30)
    before = (folder / "a.png").read_bytes()
    result = cli("enhance", folder, "-o", folder, "--quiet")
    assert result.code == 5 and "overwritten" in result.stderr
    assert (folder / "a.png").read_bytes() == before


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
