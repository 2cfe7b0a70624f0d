"""What differs between the admitted PyAV releases: foreign tags, the tested range and what tells the user."""

from __future__ import annotations

import av
import pytest

import media
import stream.decode
import stream.pyav_compat as pyav_compat
from stream.decode import FileSource
from stream.doctor import gather, print_report

LATIN_1_TITLE = "caf\xe9 \xe9t\xe9".encode("latin-1")        # "café été" as an old muxer wrote it: not UTF-8


@pytest.fixture(scope="module")
def latin_1_tagged(tmp_path_factory):
    """A Matroska clip whose title tag holds Latin-1 bytes (patched in place, same length; no CRC elements)."""
    placeholder = b"X" * len(LATIN_1_TITLE)
    path = tmp_path_factory.mktemp("tags") / "latin1.mkv"
    media.write_video(path, frames=10, metadata={"title": placeholder.decode()},
                      container_options={"write_crc32": "0"})
    data = path.read_bytes()
    assert data.count(placeholder) == 1
    path.write_bytes(data.replace(placeholder, LATIN_1_TITLE))
    return path


def test_the_clip_really_has_a_tag_that_is_not_utf8(latin_1_tagged):
    # PyAV 17/18 refuse it unless told; PyAV 19 keeps the bytes as surrogates.
    try:
        with av.open(str(latin_1_tagged)) as container:
            title = container.metadata["title"]
    except UnicodeDecodeError:
        assert hasattr(av.container.Container, "metadata_errors")
    else:
        assert title.encode("utf-8", "surrogateescape") == LATIN_1_TITLE


def test_a_file_with_foreign_tags_is_read_on_every_pyav(latin_1_tagged):
    source = FileSource(latin_1_tagged)
    try:
        frames = [item for item in source.items() if not hasattr(item, "stream_index")]
    finally:
        source.close()
    assert len(frames) == 10 and source.damage == []


def test_a_file_with_foreign_tags_is_enhanced(cli, latin_1_tagged, tmp_path):
    result = cli("enhance", latin_1_tagged, "-o", tmp_path / "out.mkv", "--quiet")
    assert result.code == 0, result.stderr
    assert len(media.video_times(tmp_path / "out.mkv")) == 10


def test_the_suite_runs_on_a_pyav_of_the_declared_range():
    tested = pyav_compat.tested_range()
    assert tested is not None and ">=17.1" in str(tested) and "<20" in str(tested)
    assert tested.contains(av.__version__), f"installed PyAV {av.__version__} is outside {tested}"
    assert pyav_compat.untested_pyav_warning() is None


def test_doctor_shows_pyav_ffmpeg_and_the_tested_range():
    row = dict(gather()["versions"])["av (PyAV)"]
    assert row.startswith(f"{av.__version__} (FFmpeg {av.ffmpeg_version_info})") and "tested: " in row


def test_doctor_warns_about_an_untested_pyav(monkeypatch):
    from io import StringIO

    from rich.console import Console

    monkeypatch.setattr(av, "__version__", "20.0.0")
    buffer = StringIO()
    print_report(Console(file=buffer, width=200))
    first = buffer.getvalue().splitlines()[0]
    assert first.startswith("warning: PyAV 20.0.0 is outside the range nocturne is tested with"), first
    assert "OUTSIDE the tested range" in dict(gather()["versions"])["av (PyAV)"]


def test_an_unexpected_error_under_an_untested_pyav_names_it(cli, monkeypatch, tmp_path):
    # What a user saw on PyAV 19 (issue 12), now with the cause on the same line.
    def refuse(url, **options):
        raise TypeError("open() got an unexpected keyword argument 'metadata_errors'")

    monkeypatch.setattr(stream.decode, "open_input", refuse)
    monkeypatch.setattr(av, "__version__", "20.0.0")
    clip = media.write_video(tmp_path / "in.mp4", frames=2)
    result = cli("enhance", clip, "-o", tmp_path / "out.mp4", "--quiet")
    assert result.code == 1 and len(result.lines) == 1, result.stderr
    assert "unexpected TypeError" in result.lines[0] and "PyAV 20.0.0 is outside the range" in result.lines[0]
