"""Stopping a run: SIGINT/SIGTERM finalise the output; a fragmented MP4 survives SIGKILL."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import media

pytestmark = pytest.mark.slow          # real signals to real subprocesses, each paying Python and model start-up

START_TIMEOUT_S = 90      # interpreter, torch/onnxruntime and the model load before the first frame
# x264's slowest preset keeps the 600-frame run going for seconds, so the signal always lands mid-run
# however fast the machine.
SLOW = ("--preset", "veryslow")


def start(*args: object) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "stream.cli", "enhance", *map(str, args)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_output(process: subprocess.Popen, path: Path, min_bytes: int = 1) -> None:
    """Block until ``path`` holds ``min_bytes`` (the sink opens the file at the first frame)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while not (path.exists() and path.stat().st_size >= min_bytes):
        if process.poll() is not None:
            pytest.fail(f"the run ended before it could be interrupted: {process.communicate()[1]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("no output appeared")
        time.sleep(0.02)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_run_leaves_playable_output(clips, out, signum):
    target = out / "interrupted.mp4"
    process = start(clips.long_clip, "-o", target, *SLOW)
    wait_for_output(process, target)
    time.sleep(0.3)                                  # well into the run, far from its end
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr          # 130 for SIGINT, 143 for SIGTERM
    assert "Traceback" not in stderr
    assert "interrupted" in stderr.strip().splitlines()[-1]
    frames = len(media.video_times(target))          # decodes every frame: the file was finalised
    assert 0 < frames < 600


def test_fragmented_mp4_survives_sigkill(clips, out):
    target = out / "killed.mp4"
    process = start(clips.long_clip, "-o", target, "--fragmented", "--quiet", *SLOW)
    # A fragment is written at each keyframe (x264: every 250 frames); wait for the first one
    # to start landing, give it time to be complete, and kill long before the run ends.
    wait_for_output(process, target, min_bytes=20_000)
    time.sleep(0.3)
    process.kill()
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    frames = media.count_decodable(target)
    assert 0 < frames < 600


def test_second_sigint_stops_at_once_and_still_finalises(clips, out):
    target = out / "twice.mp4"
    process = start(clips.long_clip, "-o", target, *SLOW)
    wait_for_output(process, target)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert 0 < len(media.video_times(target)) < 600          # decodes: the trailer was written
