"""Fixtures of the stream/CLI tests: generated media (once per session) and CLI runners.

Media are made lazily: a test that needs only a PNG never pays for the
600-frame clip of the signal tests.
"""

from __future__ import annotations

import functools
import io
import os
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import media

# Every subprocess pays Python + model start-up (a few seconds on 2 cores); keep their number small.
SUBPROCESS_TIMEOUT_S = 180


@dataclass
class CliResult:
    """Exit code and what the run wrote to stderr (and stdout, for subprocesses)."""

    code: int
    stderr: str
    stdout: str = ""

    @property
    def lines(self) -> list[str]:
        """Non-blank stderr lines."""
        return [line for line in self.stderr.splitlines() if line.strip()]


@pytest.fixture(scope="session", autouse=True)
def _private_model_cache(tmp_path_factory: pytest.TempPathFactory):
    """Keep the exported ONNX model in a session folder, not in the user's ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NOCTURNE_CACHE", str(tmp_path_factory.mktemp("nocturne-cache")))
        yield


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch):
    """Run ``nocturne ARGS`` in-process through ``stream.cli.main``; returns a ``CliResult``.

    The CLI's rich console is swapped for one writing to a buffer, so the test
    sees exactly the lines a user would see on stderr.
    """
    from rich.console import Console

    import stream.cli as cli_module

    def run(*args: object) -> CliResult:
        buffer = io.StringIO()
        monkeypatch.setattr(cli_module, "console", Console(file=buffer, width=100, highlight=False, soft_wrap=True))
        code = cli_module.main([str(a) for a in args])
        return CliResult(code, buffer.getvalue())

    return run


def run_subprocess(*args: object, timeout: float = SUBPROCESS_TIMEOUT_S) -> CliResult:
    """Run ``python -m stream.cli ARGS`` for true stderr and exit codes."""
    import subprocess

    done = subprocess.run([sys.executable, "-m", "stream.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    return CliResult(done.returncode, done.stderr, done.stdout)


@pytest.fixture(scope="session")
def cli_subprocess():
    """``run_subprocess``: run the CLI in a fresh interpreter (true stderr, signals, exit codes)."""
    return run_subprocess


class Media:
    """The generated inputs, each made on first use in one session folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        return self.root / name

    # Video ------------------------------------------------------------------------------------

    @functools.cached_property
    def av_mp4(self) -> Path:
        """160×96, 24 frames at 25 fps, libx264 with B-frames, plus an AAC track."""
        return media.write_video(self.path("av.mp4"), frames=24, audio=True)

    @functools.cached_property
    def av_mkv(self) -> Path:
        return media.write_video(self.path("av.mkv"), frames=24, audio=True, seed=1)

    @functools.cached_property
    def one_second_mp4(self) -> Path:
        """Exactly 1 s: 25 frames at 25 fps, no audio."""
        return media.write_video(self.path("one-second.mp4"), frames=25, seed=12)

    @functools.cached_property
    def vfr_mkv(self) -> Path:
        """Irregular timestamps (ms): VFR, as phones and screen recorders write, plus audio."""
        stamps = [0, 40, 70, 150, 160, 230, 300, 380, 390, 470, 520, 600, 640, 700, 800, 833, 900, 1000]
        return media.write_video(self.path("vfr.mkv"), pts=stamps, time_base=Fraction(1, 1000), audio=True, seed=2)

    def tagged(self, color_range: int, colorspace: int) -> Path:
        """Colour-tagged clip: range 1 limited / 2 full; colorspace 1 BT.709 / 6 BT.601 (smpte170m)."""
        path = self.path(f"tagged-r{color_range}-m{colorspace}.mp4")
        if not path.exists():
            colour = dict(color_range=color_range, colorspace=colorspace, color_primaries=colorspace,
                          color_trc=colorspace)
            media.write_video(path, frames=10, colour=colour, options={"crf": "8"})
        return path

    @functools.cached_property
    def ten_bit_h264(self) -> Path:
        return media.write_video(self.path("10bit-h264.mp4"), frames=10, pix_fmt="yuv420p10le", seed=3)

    @functools.cached_property
    def ten_bit_hevc(self) -> Path:
        return media.write_video(self.path("10bit-hevc.mkv"), frames=10, codec="libx265", pix_fmt="yuv420p10le",
                                 seed=4)

    @functools.cached_property
    def odd_size(self) -> Path:
        """161×97: 4:4:4 H.264 allows odd sizes, 4:2:0 does not."""
        return media.write_video(self.path("odd.mp4"), frames=10, size=(161, 97), pix_fmt="yuv444p", seed=5)

    @functools.cached_property
    def rotated(self) -> Path:
        """A phone clip held upright: display matrix rotation 90°."""
        return media.write_video(self.path("rotated.mp4"), frames=10, rotation=90, seed=6)

    @functools.cached_property
    def subtitled_mkv(self) -> Path:
        """``av_mkv`` plus an SRT subtitle stream (made with the ffmpeg binary)."""
        srt = self.path("subs.srt")
        srt.write_text("1\n00:00:00,000 --> 00:00:00,400\nHello\n\n2\n00:00:00,500 --> 00:00:00,900\nWorld\n")
        out = self.path("subtitled.mkv")
        media.ffmpeg("-i", str(self.av_mkv), "-i", str(srt), "-map", "0", "-map", "1", "-c", "copy", "-c:s", "srt",
                     str(out))
        return out

    @functools.cached_property
    def long_clip(self) -> Path:
        """600 frames of 320×180: long enough to interrupt mid-run."""
        return media.write_video(self.path("long.mp4"), frames=600, size=(320, 180), seed=8)

    # Damaged and wrong inputs -----------------------------------------------------------------

    @functools.cached_property
    def audio_only(self) -> Path:
        return media.write_audio_only(self.path("voice.m4a"))

    @functools.cached_property
    def corrupt(self) -> Path:
        path = self.path("corrupt.mp4")
        path.write_bytes(os.urandom(16384))
        return path

    @functools.cached_property
    def truncated_mkv(self) -> Path:
        """60-frame MKV cut in half (a recording whose writer died)."""
        whole = media.write_video(self.path("whole.mkv"), frames=60, seed=9)
        return _cut_in_half(whole, self.path("truncated.mkv"))

    @functools.cached_property
    def damaged_mkv(self) -> Path:
        """60-frame MKV with 3 kB of garbage a third of the way in (a bad sector)."""
        data = bytearray(media.write_video(self.path("whole-2.mkv"), frames=60, seed=13).read_bytes())
        middle = len(data) // 3
        data[middle:middle + 3000] = np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8).tobytes()
        path = self.path("damaged.mkv")
        path.write_bytes(bytes(data))
        return path

    @functools.cached_property
    def truncated_mp4(self) -> Path:
        """60-frame faststart MP4 (index first) cut in half: the index promises frames that are gone."""
        whole = media.write_video(self.path("whole-faststart.mp4"), frames=60, seed=10,
                                  container_options={"movflags": "+faststart"})
        return _cut_in_half(whole, self.path("truncated-faststart.mp4"))

    @functools.cached_property
    def truncated_mp4_moov_last(self) -> Path:
        """Plain MP4 (index at the end) cut in half: no index, nothing can be decoded."""
        whole = media.write_video(self.path("whole-plain.mp4"), frames=60, seed=11)
        return _cut_in_half(whole, self.path("truncated-plain.mp4"))

    # Images -----------------------------------------------------------------------------------

    @functools.cached_property
    def png(self) -> Path:
        return media.write_image(self.path("still.png"), 128, 72, index=0)

    @functools.cached_property
    def jpeg(self) -> Path:
        return media.write_image(self.path("still.jpg"), 128, 72, index=1)

    @functools.cached_property
    def image_folder(self) -> Path:
        """Four consecutive frames as PNG, one JPEG, and a non-image file that must be ignored."""
        folder = self.path("frames")
        folder.mkdir()
        for i in range(4):
            media.write_image(folder / f"frame_{i:03d}.png", 128, 72, index=i)
        media.write_image(folder / "snapshot.jpg", 128, 72, index=9)
        (folder / "notes.txt").write_text("not an image")
        return folder


def _cut_in_half(source: Path, target: Path) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return target


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return Media(tmp_path_factory.mktemp("media"))


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """A fresh output folder per test."""
    return tmp_path
