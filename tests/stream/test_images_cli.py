"""``nocturne enhance`` on still images and folders of images."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import media

SIGNATURES = {".png": b"\x89PNG\r\n\x1a\n", ".jpg": b"\xff\xd8\xff"}


def read_rgb(path) -> np.ndarray:
    data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert data is not None, f"{path} is not a readable image"
    return data


def assert_enhanced_copy(source, target) -> None:
    """Same format (by content, not just name), same size, clearly brighter."""
    assert target.read_bytes().startswith(SIGNATURES[source.suffix])
    before, after = read_rgb(source), read_rgb(target)
    assert after.shape == before.shape
    assert after.mean() > before.mean() + 20, f"mean {before.mean():.1f} → {after.mean():.1f}"


@pytest.mark.parametrize("kind", ["png", "jpeg"])
def test_image_in_image_out(cli, clips, out, kind):
    source = getattr(clips, kind)
    target = out / f"bright{source.suffix}"
    result = cli("enhance", source, "-o", target, "--quiet")
    assert result.code == 0, result.stderr
    assert_enhanced_copy(source, target)


def test_image_into_existing_folder_keeps_its_name(cli, clips, out):
    assert cli("enhance", clips.jpeg, "-o", out, "--quiet").code == 0
    assert sorted(p.name for p in out.iterdir()) == [clips.jpeg.name]
    assert_enhanced_copy(clips.jpeg, out / clips.jpeg.name)


def test_png_alpha_kept(cli, clips, out):
    rgba = np.dstack([media.dark_rgb(0, 64, 48)[:, :, ::-1], np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))])
    source = out / "with-alpha.png"
    cv2.imwrite(str(source), rgba)
    target = out / "bright-alpha.png"
    assert cli("enhance", source, "-o", target, "--quiet").code == 0
    result = read_rgb(target)
    assert result.shape == (48, 64, 4)
    assert np.array_equal(result[:, :, 3], rgba[:, :, 3])
    assert result[:, :, :3].mean() > rgba[:, :, :3].mean() + 20


@pytest.mark.parametrize("sequence", [False, True], ids=["photos", "sequence"])
def test_folder_in_folder_out(cli, clips, out, sequence):
    target = out / "bright"                      # does not exist yet: the CLI creates it
    args = ["enhance", clips.image_folder, "-o", target, "--quiet"] + (["--sequence"] if sequence else [])
    result = cli(*args)
    assert result.code == 0, result.stderr
    images = sorted(p.name for p in clips.image_folder.iterdir() if p.suffix in (".png", ".jpg"))
    assert sorted(p.name for p in target.iterdir()) == images, "same names; notes.txt is not an image"
    for name in images:
        assert_enhanced_copy(clips.image_folder / name, target / name)


def test_sequence_shares_state_between_frames(cli, clips, out):
    """With --sequence the frames are one video (temporally smoothed); without, independent photos.

    The first frame has no history either way, so it comes out the same.
    """
    photos, sequence = out / "photos", out / "sequence"
    assert cli("enhance", clips.image_folder, "-o", photos, "--quiet").code == 0
    assert cli("enhance", clips.image_folder, "-o", sequence, "--quiet", "--sequence").code == 0
    first, *later = sorted(p.name for p in clips.image_folder.glob("frame_*.png"))
    assert np.array_equal(read_rgb(photos / first), read_rgb(sequence / first))
    assert any(not np.array_equal(read_rgb(photos / name), read_rgb(sequence / name)) for name in later), \
        "later frames carry the smoothed curves of the earlier ones"


def test_image_needs_image_output(cli, clips, out):
    result = cli("enhance", clips.png, "-o", out / "clip.mp4", "--quiet")
    assert result.code == 2
    assert len(result.lines) == 1 and "image output" in result.lines[0]
    assert not (out / "clip.mp4").exists()


def test_folder_without_images(cli, out):
    empty = out / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("nothing to see")
    result = cli("enhance", empty, "-o", out / "result", "--quiet")
    assert result.code == 2
    assert len(result.lines) == 1 and "no images" in result.lines[0]


def _png(path, value):
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


def test_output_folder_equal_to_input_folder_is_refused(cli, tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    _png(folder / "a.png", 30)
    before = (folder / "a.png").read_bytes()
    result = cli("enhance", folder, "-o", folder, "--quiet")
    assert result.code == 5 and "overwritten" in result.stderr
    assert (folder / "a.png").read_bytes() == before
