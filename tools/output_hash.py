"""The SHA-256 of what ``nocturne enhance`` writes for fixed inputs: a refactoring's witness.

A change that should not alter behaviour (moving code, splitting modules) must leave
these hashes as they were. Run the tool on the revision before and after, on the same
machine and environment, and compare the lines:

    python -m tools.output_hash            # prints one line per case: name, sha256

The inputs are generated (``stream.demo``'s dark street, seed fixed; no download),
every case runs in a fresh process through the real CLI with one runtime thread, so
the bytes depend only on the code and the installed libraries.
Hashes from different machines or library versions are not comparable (libx264,
ONNX Runtime and torch kernels may differ); hashes of the same environment are.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2

from stream.demo import middle_frame_rgb, render_dark_clip

# name → (output suffix, CLI arguments after the input). libx264 is deterministic for a given
# thread count (it has to be asked for --non-deterministic), so the machine's core count is part
# of the environment, like the library versions. Matroska writes a random segment UID, so every
# case writes MP4.
CASES: dict[str, tuple[str, list[str]]] = {
    "fast (default)": (".mp4", []),
    "fast, fps 20, 10-bit": (".mp4", ["--fps", "20", "--pix-fmt", "yuv420p10le"]),
    "quality": (".mp4", ["--model", "quality"]),
    "fast + highlights": (".mp4", ["--recover-highlights"]),
    "none + highlights": (".mp4", ["--model", "none", "--recover-highlights"]),
    "photo (fast)": (".png", []),
}
COMMON = ["--threads", "1", "--quiet"]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_cases(workdir: Path, seconds: float = 2.0) -> dict[str, str]:
    """Run every case on the generated inputs in ``workdir``; name → sha256 of the output."""
    clip = workdir / "dark.mp4"
    render_dark_clip(clip, seconds)
    photo = workdir / "dark.png"
    cv2.imwrite(str(photo), middle_frame_rgb(clip)[:, :, ::-1])
    hashes: dict[str, str] = {}
    for i, (name, (suffix, args)) in enumerate(CASES.items()):
        source = photo if suffix == ".png" else clip
        output = workdir / f"out{i}{suffix}"
        command = [sys.executable, "-m", "stream.cli", "enhance", str(source), "-o", str(output), *COMMON, *args]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{name}: nocturne enhance failed: {done.stderr.strip().splitlines()[-1:]}")
        hashes[name] = _sha256(output)
    return hashes


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="nocturne-hash-") as folder:
        for name, digest in run_cases(Path(folder)).items():
            print(f"{digest}  {name}")


if __name__ == "__main__":
    main()
