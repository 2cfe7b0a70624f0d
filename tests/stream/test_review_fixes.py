"""Edge cases found in review: NTSC rates, a bad image in a batch, unreadable config, read-only cache."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from stream.pipeline import frame_rate


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
