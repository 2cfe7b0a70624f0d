"""``nocturne bench``: where the time goes, next to FFmpeg's classic chain.

For each size it generates a dark, noisy clip (FFmpeg's testsrc2 darkened, with
temporal noise), then times on this machine, in one run:

* decode     — PyAV demux + decode + plane extraction (``FileSource``), frames not kept;
* model      — the enhancer alone on 60 decoded frames (``--model``, with ``--denoise``: fast = thumbnail,
               network, full-resolution curves, temporal denoiser; quality = the restoration network at
               full resolution, temporal denoiser);
* stages     — where the model's time goes, ms per frame: the low-light stage alone (the enhancer the
               temporal denoiser wraps) + what the temporal denoiser adds (the difference), medians of
               three passes each, interleaved;
* encode     — libx264 ``ultrafast`` of those frames (``FileSink``);
* end to end — the whole graph (decode → enhance → encode, threads), as ``nocturne enhance`` runs it;
* cli        — the ``nocturne enhance`` command, start-up and model load included;
* ffmpeg     — ``ffmpeg -vf eq=gamma=…,hqdn3d`` with the same x264 settings, start-up included.

ratio = end to end fps / ffmpeg fps (and cli / ffmpeg). The last three are the
median of three runs each, interleaved per size. Timings are wall clock; nothing
here is a test, and numbers move with the machine's load.
"""

from __future__ import annotations

import itertools
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rich.console import Console

from engines.temporal import TemporallyDenoised
from stream.config import OfflineConfig
from stream.decode import FileSource
from stream.encode import EncoderSettings, FileSink
from stream.errors import UsageError
from stream.frame import Frame
from stream.pipeline import VideoJob, make_enhancer

SIZES = {"480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080), "2160p": (3840, 2160)}
CRF, PRESET = 23, "ultrafast"
SUBSET = 60                     # frames kept in memory for the model-only and encode-only timings
FFMPEG_FILTER = "eq=gamma=1.8,hqdn3d"


@dataclass
class BenchRow:
    size: str
    frames: int
    decode: float
    model: float
    low_light_ms: float
    temporal_ms: float
    encode: float
    end_to_end: float
    cli: float
    ffmpeg: float


def make_clip(path: Path, width: int, height: int, frames: int) -> None:
    vf = "noise=alls=6:allf=t,eq=brightness=-0.28:gamma=0.6"   # ≈ 3 Mbit/s at 720p, like camera footage
    _ffmpeg(["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=30", "-vf", vf, "-frames:v", str(frames),
             "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", str(path)])


def _ffmpeg(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-nostdin", *args], check=True)
    return time.perf_counter() - start


def _decode_fps(path: Path) -> float:
    """Decode every frame without keeping them (kept frames would measure the allocator)."""
    source = FileSource(path)
    start = time.perf_counter()
    count = sum(1 for item in source.items() if isinstance(item, Frame))
    elapsed = time.perf_counter() - start
    source.close()
    return count / elapsed


def _first_frames(path: Path, count: int) -> list[Frame]:
    source = FileSource(path)
    frames = list(itertools.islice((item for item in source.items() if isinstance(item, Frame)), count))
    source.close()
    return frames


def _stage_ms(config: OfflineConfig, frames: list[Frame], repeats: int = 3) -> tuple[float, float, float]:
    """(whole enhancer, low-light stage alone, temporal stage) in ms per frame on ``frames``.

    The low-light stage is the enhancer the temporal denoiser wraps (its ``inner``), timed on its
    own; the temporal stage's cost is the whole's minus that. Each is the median of ``repeats``
    passes, interleaved so that load changes hit both alike.
    """
    whole = make_enhancer(config)[0]
    stages = {"whole": whole, "low-light": whole.inner if isinstance(whole, TemporallyDenoised) else whole}
    times: dict[str, list[float]] = {name: [] for name in stages}
    for _ in range(repeats):
        for name, enhancer in stages.items():
            enhancer.reset()
            enhancer.enhance(frames[0].image, 0.0)                # warm-up (table build, first inference)
            start = time.perf_counter()
            for frame in frames:
                enhancer.enhance(frame.image, float(frame.time))
            times[name].append(1000.0 * (time.perf_counter() - start) / len(frames))
    whole_ms, low_light_ms = (statistics.median(times[name]) for name in ("whole", "low-light"))
    return whole_ms, low_light_ms, max(0.0, whole_ms - low_light_ms)


def _median_fps(frames: int, run: Callable[[], float], repeats: int) -> float:
    """Median over ``repeats`` runs of frames / seconds, where ``run`` returns seconds."""
    return frames / statistics.median(run() for _ in range(repeats))


def bench_size(name: str, frames: int, workdir: Path, repeats: int = 3, model: str = "fast",
               denoise: float = 0.5) -> BenchRow:
    width, height = SIZES[name]
    clip = workdir / f"dark_{name}.mp4"
    make_clip(clip, width, height, frames)
    config = OfflineConfig.model_validate({"encode": {"preset": PRESET, "crf": CRF},
                                           "enhance": {"model": model, "denoise": denoise}})
    decode_fps = _decode_fps(clip)

    subset = _first_frames(clip, SUBSET)
    whole_ms, low_light_ms, temporal_ms = _stage_ms(config, subset)

    sink = FileSink(workdir / f"enc_{name}.mp4", EncoderSettings(preset=PRESET, crf=CRF), subset[0].time_base, None)
    start = time.perf_counter()
    for frame in subset:
        sink.write(frame)
    sink.close()
    encode_fps = len(subset) / (time.perf_counter() - start)
    del subset

    def ours() -> float:
        return VideoJob(clip, workdir / f"ours_{name}.mp4", config).run().elapsed_s

    def cli() -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "stream.cli", "enhance", str(clip), "-o", str(workdir / f"cli_{name}.mp4"),
                        "--preset", PRESET, "--crf", str(CRF), "--model", model, "--denoise", str(denoise),
                        "--quiet"], check=True)
        return time.perf_counter() - start

    def ffmpeg() -> float:
        return _ffmpeg(["-i", str(clip), "-vf", FFMPEG_FILTER, "-c:v", "libx264", "-preset", PRESET,
                        "-crf", str(CRF), str(workdir / f"ffmpeg_{name}.mp4")])

    return BenchRow(name, frames, decode_fps, 1000.0 / whole_ms, low_light_ms, temporal_ms, encode_fps,
                    _median_fps(frames, ours, repeats),
                    _median_fps(frames, cli, repeats), _median_fps(frames, ffmpeg, repeats))


def run_bench(sizes: list[str], frames: int, console: Console, model: str = "fast",
              denoise: float = 0.5) -> list[BenchRow]:
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        raise UsageError(f"unknown size {unknown[0]!r}; choose from {', '.join(SIZES)}")
    if shutil.which("ffmpeg") is None:
        raise UsageError("the benchmark needs the ffmpeg binary for its peer (apt-get install ffmpeg)")
    rows = []
    with tempfile.TemporaryDirectory(prefix="nocturne-bench-") as tmp:
        for name in sizes:
            console.print(f"[dim]{name}: {frames} frames…[/dim]")
            rows.append(bench_size(name, frames, Path(tmp), model=model, denoise=denoise))
    print(render_table(rows, model, denoise))
    return rows


def render_table(rows: list[BenchRow], model: str = "fast", denoise: float = 0.5) -> str:
    """The results as a Markdown table (what docs/performance.md carries)."""
    lines = [f"fps; model {model}, denoise {denoise}; x264 {PRESET} crf {CRF}; peer: ffmpeg -vf {FFMPEG_FILTER}",
             "| size | frames | decode | model | model ms: low-light + temporal | encode | end to end | cli "
             "| ffmpeg chain | e2e/ffmpeg | cli/ffmpeg |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r.size} | {r.frames} | {r.decode:.0f} | {r.model:.0f} | {r.low_light_ms:.1f} + "
                     f"{r.temporal_ms:.1f} | {r.encode:.0f} | {r.end_to_end:.0f} "
                     f"| {r.cli:.0f} | {r.ffmpeg:.0f} | {r.end_to_end / r.ffmpeg:.2f} | {r.cli / r.ffmpeg:.2f} |")
    return "\n".join(lines)
