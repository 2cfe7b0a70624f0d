"""Benchmark entry point for scripts: ``python -m tools.bench [--frames N] [--sizes 720p,1080p]``.

Same as ``nocturne bench``; see ``stream.bench`` for what is timed.
"""

from __future__ import annotations

import argparse

from stream.bench import run_bench
from stream.progress import stderr_console


def main() -> None:
    parser = argparse.ArgumentParser(description="Time nocturne against FFmpeg's classic chain.")
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--sizes", default="720p,1080p")
    args = parser.parse_args()
    run_bench([s for s in args.sizes.split(",") if s], args.frames, stderr_console())


if __name__ == "__main__":
    main()
