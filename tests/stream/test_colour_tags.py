"""Colour tags carried over, and BT.601/709 × limited/full inputs interpreted correctly."""

from __future__ import annotations

import numpy as np
import pytest

import media

# (color_range, colorspace) as FFmpeg enumerates them → what ffprobe prints.
VARIANTS = {
    (1, 1): ("tv", "bt709"),          # HD camera default
    (2, 6): ("pc", "smpte170m"),      # full-range BT.601: phones, MJPEG webcams
    (1, 6): ("tv", "smpte170m"),      # SD / security DVR
    (2, 1): ("pc", "bt709"),
}
KR_KB = {1: (0.2126, 0.0722), 6: (0.299, 0.114)}
TAG_KEYS = ("color_range", "color_space", "color_primaries", "color_transfer")


def probe_tags(path) -> dict[str, str]:
    """Colour tags as ffprobe names them (an independent reader of the container and bitstream)."""
    stream = media.ffprobe(path)["streams"][0]
    return {key: stream.get(key) for key in TAG_KEYS}


def frame_tags(path) -> set[tuple[int, int, int, int]]:
    """(range, matrix, primaries, transfer) of every decoded frame: what players act on."""
    return {(int(f.color_range), int(f.colorspace), int(f.color_primaries), int(f.color_trc))
            for f in media.decoded_frames(path)}


def to_rgb(frame, color_range: int, colorspace: int) -> np.ndarray:
    """R'G'B' in [0, 1] of a 4:2:0 8-bit frame, by the book (independent of swscale)."""
    y, u, v = (np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width].astype(np.float64)
               for p in frame.planes[:3])
    u = u.repeat(2, 0).repeat(2, 1)[: y.shape[0], : y.shape[1]]
    v = v.repeat(2, 0).repeat(2, 1)[: y.shape[0], : y.shape[1]]
    if color_range == 2:
        y, cb, cr = y / 255.0, (u - 128.0) / 255.0, (v - 128.0) / 255.0
    else:
        y, cb, cr = (y - 16.0) / 219.0, (u - 128.0) / 224.0, (v - 128.0) / 224.0
    kr, kb = KR_KB[colorspace]
    r = y + 2 * (1 - kr) * cr
    b = y + 2 * (1 - kb) * cb
    g = (y - kr * r - kb * b) / (1 - kr - kb)
    return np.stack([r, g, b], axis=-1)


@pytest.mark.parametrize("variant", list(VARIANTS), ids=[f"{r}-{m}" for r, m in VARIANTS.values()])
@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_colour_tags_preserved(cli, clips, out, variant, suffix):
    source = clips.tagged(*variant)
    color_range, colorspace = variant
    expected = (color_range, colorspace, colorspace, colorspace)
    assert media.probe(source)[0]["tags"] == expected, "the test clip is tagged"
    target = out / f"tagged{suffix}"
    assert cli("enhance", source, "-o", target, "--quiet").code == 0
    assert media.probe(target)[0]["tags"] == expected, "stream (container) tags"
    assert frame_tags(target) == {expected}, "bitstream (VUI) tags of every frame"


@pytest.mark.needs_ffmpeg
@pytest.mark.parametrize("variant", list(VARIANTS), ids=[f"{r}-{m}" for r, m in VARIANTS.values()])
def test_colour_tags_as_ffprobe_reads_them(cli, clips, out, variant):
    source = clips.tagged(*variant)
    expected = probe_tags(source)
    assert (expected["color_range"], expected["color_space"]) == VARIANTS[variant], "the test clip is tagged"
    target = out / "tagged.mp4"
    assert cli("enhance", source, "-o", target, "--quiet").code == 0
    assert probe_tags(target) == expected


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v != (1, 1)],
                         ids=[f"{r}-{m}" for v, (r, m) in VARIANTS.items() if v != (1, 1)])
def test_range_and_matrix_interpreted(cli, clips, out, variant):
    """The same scene encoded four ways must be lifted the same way.

    Inputs and outputs are decoded by their own tags. The gain (output over
    input, per channel, on the whole frame and on the dark red/green band) must
    match that of the BT.709 limited-range clip. Reading full range as limited
    (or the reverse) changes it by 40-50 %; the four encodings of the scene differ
    by a few code values (limited range has fewer), which moves it by up to ~5 %.
    The matrix only steers the model's view of the picture (the curves apply to
    Y'CbCr planes), so a misread matrix stays below what this test resolves:
    the tag tests and tests/engines/test_colour.py cover it.
    """
    reference_out, other_out = out / "ref.mkv", out / "other.mkv"
    reference_in, other_in = clips.tagged(1, 1), clips.tagged(*variant)
    assert cli("enhance", reference_in, "-o", reference_out, "--quiet", "--crf", "8").code == 0
    assert cli("enhance", other_in, "-o", other_out, "--quiet", "--crf", "8").code == 0

    def gains(source, enhanced, tags, index):
        before = to_rgb(media.decoded_frames(source)[index], *tags)
        after = to_rgb(media.decoded_frames(enhanced)[index], *tags)
        band = slice(before.shape[0] * 3 // 4 + 2, None)
        return np.concatenate([after.mean(axis=(0, 1)) / before.mean(axis=(0, 1)),
                               after[band].mean(axis=(0, 1)) / before[band].mean(axis=(0, 1))])

    for index in (0, 6):
        reference = gains(reference_in, reference_out, (1, 1), index)
        other = gains(other_in, other_out, variant, index)
        assert reference.min() > 1.5, "the clip is enhanced"
        worst = np.abs(other / reference - 1).max()
        assert worst < 0.15, f"gains {np.round(other, 3)} differ from BT.709 limited {np.round(reference, 3)}"


@pytest.mark.parametrize("variant", list(VARIANTS), ids=[f"{r}-{m}" for r, m in VARIANTS.values()])
def test_strength_zero_keeps_colours(cli, clips, out, variant):
    target = out / "same.mkv"
    assert cli("enhance", clips.tagged(*variant), "-o", target, "--quiet", "--strength", "0", "--crf", "0").code == 0
    before = to_rgb(media.decoded_frames(clips.tagged(*variant))[3], *variant)
    after = to_rgb(media.decoded_frames(target)[3], *variant)
    assert np.abs(before - after).max() < 0.02
