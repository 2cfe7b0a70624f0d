"""What extra live outputs cost: CPU time per frame with one recording, then with three muxing outputs.

    python -m tools.bench_outputs [--seconds 8] [--size 1280x720] [--fps 25]

One camera (FFmpeg's ``testsrc2`` pattern, generated live at ``--fps``, model
``none`` so that the outputs are what is measured) writes for ``--seconds``:
first to one recording, then to a recording, a second recording and an HLS
folder. CPU time is the whole process's (every thread: source, pacer,
encoders, muxers) from ``resource.getrusage``, divided by the frames the
pacer sent out. The one-output row is the peer in the same run: the ratio is
what the second and third output add. Prints one table.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
from pathlib import Path

from stream.config import load_live_config
from stream.live.service import LiveService


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_case(outputs: list[str], size: str, fps: int, seconds: float) -> dict:
    config = load_live_config(None, source=f"test://testsrc2?size={size}&fps={fps}", outputs=outputs,
                              overrides={"enhance.model": "none", "live.fps": fps})
    service = LiveService(config, lambda cam, message: None)
    started = cpu_seconds()
    (summary,) = service.run(duration_s=seconds)
    spent = cpu_seconds() - started
    frames = summary.frames_out + summary.no_signal
    return {"outputs": len(outputs), "frames": frames, "dropped": summary.dropped,
            "cpu_ms_per_frame": 1000 * spent / max(1, frames), "cores_busy": spent / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        cases = [[str(work / "one.mp4")],
                 [str(work / "a.mp4"), str(work / "b.mkv"), f"hls://{work / 'hls'}"]]
        rows = [run_case(outputs, args.size, args.fps, args.seconds) for outputs in cases]
    print(f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, {args.size} at {args.fps} fps, {args.seconds:g} s per row, model none")
    print("| muxing outputs | frames out | dropped | CPU per frame | cores busy | vs one output |")
    print("|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['outputs']} | {row['frames']} | {row['dropped']} | {row['cpu_ms_per_frame']:.1f} ms "
              f"| {row['cores_busy']:.2f} | {row['cpu_ms_per_frame'] / rows[0]['cpu_ms_per_frame']:.2f}× |")


if __name__ == "__main__":
    main()
