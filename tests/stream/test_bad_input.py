"""Bad input: each case exits non-zero with one clear line on stderr and no traceback.

Exit codes are the ones ``stream.errors`` documents: 2 usage/option, 3 unreadable
input, 4 input damaged (partial output written), 5 output not writable.

The subprocess cases are what a user really sees (true stderr, exit status).
Each pays the interpreter's and libraries' start-up, so they are launched
together, a few at a time, when the first of them is needed.
"""

from __future__ import annotations

import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

import media

PARALLEL_PROCESSES = 3


@dataclass(frozen=True)
class Case:
    args: Callable[[object, Path], list]     # (clips, out folder) → CLI arguments after "enhance"
    code: int
    words: tuple[str, ...]                   # the line must say what went wrong
    output: str | None = "x.mp4"             # the output path, relative to the out folder


CASES = {
    "missing-file": Case(lambda c, o: [c.root / "nope.mp4", "-o", o / "x.mp4"], 3, ("not found", "nope.mp4")),
    "no-video-stream": Case(lambda c, o: [c.audio_only, "-o", o / "x.mp4"], 3, ("no video",)),
    "corrupt-file": Case(lambda c, o: [c.corrupt, "-o", o / "x.mp4"], 3, ("corrupt.mp4",)),
    "truncated-mkv": Case(lambda c, o: [c.truncated_mkv, "-o", o / "x.mkv"], 4, ("damaged",), "x.mkv"),
    "damaged-mkv": Case(lambda c, o: [c.damaged_mkv, "-o", o / "x.mkv"], 4, ("damaged",), "x.mkv"),
    "truncated-faststart-mp4": Case(lambda c, o: [c.truncated_mp4, "-o", o / "x.mp4"], 4, ("damaged",)),
    "truncated-mp4-no-index": Case(lambda c, o: [c.truncated_mp4_moov_last, "-o", o / "x.mp4"], 3,
                                   ("truncated-plain.mp4",)),
    "output-folder-missing": Case(lambda c, o: [c.av_mp4, "-o", o / "no-such-folder" / "x.mp4"], 5,
                                  ("cannot write", "no-such-folder"), "no-such-folder/x.mp4"),
    "unknown-codec": Case(lambda c, o: [c.av_mp4, "-o", o / "x.mp4", "--codec", "vp9"], 2, ("codec",)),
}
# Damaged inputs still yield a playable output of what decoded.
PARTIAL_OUTPUT = {"truncated-mkv", "damaged-mkv", "truncated-faststart-mp4"}


@pytest.fixture(scope="module")
def runs(clips, cli_subprocess, tmp_path_factory) -> Iterator[dict[str, tuple[Future, Path]]]:
    """Start every subprocess case (``--quiet``) plus one with ``--debug``; results arrive as futures."""
    root = tmp_path_factory.mktemp("bad-input")
    pool = ThreadPoolExecutor(PARALLEL_PROCESSES)
    started: dict[str, tuple[Future, Path]] = {}
    for name, case in CASES.items():
        folder = root / name
        folder.mkdir()
        started[name] = (pool.submit(cli_subprocess, "enhance", *case.args(clips, folder), "--quiet"), folder)
    folder = root / "debug"
    folder.mkdir()
    started["debug"] = (pool.submit(cli_subprocess, "--debug", "enhance", clips.root / "nope.mp4",
                                    "-o", folder / "x.mp4"), folder)
    yield started
    pool.shutdown(wait=True)


@pytest.mark.parametrize("name", list(CASES))
def test_one_clear_line_and_exit_code(runs, name):
    case = CASES[name]
    future, _ = runs[name]
    result = future.result()
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert len(result.lines) == 1, result.stderr
    line = result.lines[0]
    assert line.startswith("nocturne: error: "), line
    for word in case.words:
        assert word in line, line
    assert result.code == case.code, f"exit {result.code}: {line}"


@pytest.mark.parametrize("name", sorted(set(CASES) - PARTIAL_OUTPUT))
def test_no_output_left_behind(runs, name):
    future, folder = runs[name]
    assert future.result().code != 0
    assert not (folder / CASES[name].output).exists()


@pytest.mark.parametrize("name", sorted(PARTIAL_OUTPUT))
def test_damaged_input_still_gives_playable_output(runs, clips, name):
    future, folder = runs[name]
    future.result()
    source = {"truncated-mkv": clips.truncated_mkv, "damaged-mkv": clips.damaged_mkv,
              "truncated-faststart-mp4": clips.truncated_mp4}[name]
    decodable = media.count_decodable(source)
    assert 0 < decodable < 60, "the test file is really damaged"
    times = media.video_times(folder / CASES[name].output)     # decodes all of it: playable
    assert len(times) >= decodable, "every frame a plain decoder gets is in the output"


def test_debug_shows_the_traceback(runs):
    future, _ = runs["debug"]
    result = future.result()
    assert result.code != 0
    assert "Traceback" in result.stderr and "InputNotFoundError" in result.stderr


# In-process: option and config mistakes (all share main()'s error path, checked above for real).

USAGE_ERRORS = {
    "codec vp9": (["--codec", "vp9"], "codec"),
    "strength 2": (["--strength", "2"], "strength"),
    "strength -0.1": (["--strength", "-0.1"], "strength"),
    "denoise 1.5": (["--denoise", "1.5"], "denoise"),
    "model unknown": (["--model", "turbo"], "model"),
    "crf 99": (["--crf", "99"], "crf"),
    "crf not a number": (["--crf", "high"], "crf"),
    "fps 0": (["--fps", "0"], "fps"),
    "backend": (["--backend", "tensorflow"], "backend"),
    "device": (["--device", "tpu"], "device"),
    "preset": (["--preset", "warp"], "preset"),
    "pix-fmt": (["--pix-fmt", "rgb24"], "pix_fmt"),
    "unknown option": (["--brightness", "3"], "--brightness"),
}


@pytest.mark.parametrize("extra, word", list(USAGE_ERRORS.values()), ids=list(USAGE_ERRORS))
def test_bad_option_value(cli, clips, out, extra, word):
    target = out / "x.mp4"
    result = cli("enhance", clips.av_mp4, "-o", target, "--quiet", *extra)
    assert result.code == 2, result.stderr
    assert len(result.lines) == 1 and result.lines[0].startswith("nocturne: error: "), result.stderr
    assert word in result.lines[0]
    assert not target.exists()


@pytest.mark.parametrize("name", ["x.avi", "x.gif", "x"])
def test_unknown_output_extension(cli, clips, out, name):
    result = cli("enhance", clips.av_mp4, "-o", out / name, "--quiet")
    assert result.code == 2
    assert len(result.lines) == 1 and "container" in result.lines[0]
    assert not (out / name).exists()


def test_output_would_overwrite_input(cli, clips, out):
    source = out / "clip.mp4"
    shutil.copy(clips.av_mp4, source)
    result = cli("enhance", source, "-o", source, "--quiet")
    assert result.code == 5
    assert len(result.lines) == 1 and "overwrite" in result.lines[0]
    assert source.read_bytes() == clips.av_mp4.read_bytes(), "the input is untouched"


def test_cuda_requested_without_cuda(cli, clips, out):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = cli("enhance", clips.av_mp4, "-o", out / "x.mp4", "--quiet", "--device", "cuda")
    assert result.code == 2
    assert len(result.lines) == 1 and "cuda" in result.lines[0].lower()
