"""The PyAV API guard: the code against every admitted PyAV release, and planted uses it must catch.

The wheels come from PyPI (``pip download``, about 35 MB each, kept in
``.whl/pyav/`` between runs); their stubs are read, never installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.pyav_api import admitted_specifier, check, check_project, fetch, lowest_admitted
from tools.pyav_stubs import StubIndex
from tools.pyav_uses import find_uses

pytestmark = pytest.mark.slow          # downloads the PyAV wheels (about 100 MB) on a fresh machine


@pytest.fixture(scope="module")
def wheels() -> list[Path]:
    return fetch()


@pytest.fixture(scope="module")
def indexes(wheels) -> list[StubIndex]:
    return [StubIndex(wheel) for wheel in wheels]


def findings_for(source: str, tmp_path: Path, indexes: list[StubIndex]) -> list[str]:
    planted = tmp_path / "planted.py"
    planted.write_text(source, encoding="utf-8")
    return [str(f) for f in check(find_uses([planted], tmp_path), indexes)]


def test_the_lowest_and_the_newest_admitted_are_checked(wheels):
    versions = [w.name.split("-")[1] for w in wheels]
    assert versions[0].startswith(lowest_admitted(admitted_specifier()))
    assert len(versions) >= 2, f"only {versions}: the newest admitted releases were not resolved"
    assert int(versions[-1].split(".")[0]) >= 19, "Python 3.12+ resolves PyAV 19 or later"


def test_the_code_uses_nothing_an_admitted_release_lacks(wheels):
    findings = check_project(wheels)
    assert not findings, "\n".join(map(str, findings))


def test_the_keyword_pyav_19_dropped_fails_the_guard(tmp_path, indexes):
    # What stream/decode.py passed until PyAV 19 made every enhance fail (issue 12).
    found = findings_for('import av\ncontainer = av.open("x.mp4", metadata_errors="ignore")\n', tmp_path, indexes)
    assert len(found) == 1 and "no keyword 'metadata_errors' in PyAV 19." in found[0], found


def test_a_method_one_release_lacks_fails_through_a_variable(tmp_path, indexes):
    source = "import av\n\ndef rewind(path):\n    container = av.open(path)\n    container.flush_buffers()\n"
    found = findings_for(source, tmp_path, indexes)
    assert len(found) == 1 and ".flush_buffers" in found[0] and "19." in found[0].split("not in")[1], found


def test_an_attribute_that_became_read_only_fails_when_assigned(tmp_path, indexes):
    source = ("import av\n\nclass Reader:\n    def open(self, path):\n        self.video = av.open(path).streams.video[0]\n\n"
              "    def reset(self):\n        self.video.index_entries = None\n")
    found = findings_for(source, tmp_path, indexes)
    assert len(found) == 1 and ".index_entries" in found[0] and "assignable" in found[0], found


def test_names_keywords_and_argument_counts_are_checked_on_every_release(tmp_path, indexes):
    source = ("import av\nfrom av.codec.hwaccel import NoSuchThing\n"
              "av.VideoFrame.from_ndarray(None, format='rgb24', colour='red')\n"
              "av.open('x.mp4', 'r', None, None, None, None, None, None, None, None, None, None, None, None, None, None)\n")
    found = findings_for(source, tmp_path, indexes)
    assert any("NoSuchThing" in f and "not in PyAV" in f for f in found), found
    assert any("from_ndarray" in f and "'colour'" in f for f in found), found
    assert any("av.open" in f and "positional" in f for f in found), found


def test_uses_every_release_supports_pass(tmp_path, indexes):
    source = ("from __future__ import annotations\nimport av\n\n"
              "def first(path: str) -> av.VideoStream:\n"
              "    with av.open(path) as container:\n"
              "        video = container.streams.video[0]\n"
              "        video.thread_type = 'AUTO'\n"
              "        for packet in container.demux(video):\n"
              "            packet.decode()\n"
              "        return video\n\n"
              "class Own:\n    metadata_errors = 'ignore'\n\nOwn().metadata_errors\n")   # not PyAV's: not checked
    assert findings_for(source, tmp_path, indexes) == []
