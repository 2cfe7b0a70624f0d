"""The ``nocturne`` command line (typer). Parses, validates, composes, reports.

User mistakes end with one line on stderr and a non-zero exit code (see
``stream.errors``); ``--debug`` shows tracebacks instead.
"""

from __future__ import annotations

import logging
import signal
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import typer

try:  # typer ≥ 0.24 vendors click as typer._click; older releases use click itself
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover
    from click.exceptions import ClickException

from stream.config import load_config
from stream.errors import CameraFailedError, NocturneError, OutputError, UsageError
from stream.heap import keep_frame_buffers_in_heap
from stream.progress import FrameProgress, stderr_console
from stream.pyav_compat import untested_pyav_warning

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="nocturne: make dark, noisy video watchable.")
console = stderr_console()
_state = {"debug": False}


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors.")) -> None:
    _state["debug"] = debug
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="nocturne: %(levelname)s: %(message)s")


@app.command()
def enhance(
    input: Path = typer.Argument(..., help="Video file, image (PNG/JPEG/…) or folder of images."),
    output: Path = typer.Option(..., "-o", "--output", help="Output video (.mp4/.mkv/.mov), image, or folder."),
    model: Optional[str] = typer.Option(None, help="fast | quality | none (no low-light model)"),
    strength: Optional[float] = typer.Option(None, help="0 (untouched) … 1 (full)."),
    denoise: Optional[float] = typer.Option(None, help="Noise vs detail: 0 keeps every grain … 1 removes noise fully."),
    recover_highlights: Optional[bool] = typer.Option(
        None, "--recover-highlights/--no-recover-highlights",
        help="Recover blown highlights from an adaptively chosen earlier frame."),
    fps: Optional[float] = typer.Option(None, help="Constant output frame rate; default keeps every frame and timestamp."),
    backend: Optional[str] = typer.Option(None, help="auto | torch | onnxruntime"),
    device: Optional[str] = typer.Option(None, help="auto | cpu | cuda"),
    codec: Optional[str] = typer.Option(None, help="h264 | hevc"),
    crf: Optional[int] = typer.Option(None, help="Encoder quality, 0–51 (lower is better)."),
    preset: Optional[str] = typer.Option(None, help="x264/x265 preset, ultrafast … veryslow."),
    pix_fmt: Optional[str] = typer.Option(None, "--pix-fmt", help="yuv420p | yuv420p10le (keeps 10 bits)."),
    fragmented: Optional[bool] = typer.Option(None, "--fragmented/--no-fragmented", help="Fragmented MP4 output."),
    threads: Optional[int] = typer.Option(None, help="Model runtime threads."),
    sequence: bool = typer.Option(False, "--sequence", help="Folder input: images are consecutive video frames."),
    config: Optional[Path] = typer.Option(None, "--config", help="YAML config (see configs/)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
) -> None:
    """Enhance a video file, an image, or a folder of images."""
    from stream.images import IMAGE_SUFFIXES, is_image_path, list_images
    from stream.pipeline import ImageJob, VideoJob

    settings = load_config(config, {
        "enhance.model": model, "enhance.strength": strength, "enhance.denoise": denoise,
        "highlights.enabled": recover_highlights, "fps": fps, "runtime.backend": backend,
        "runtime.device": device, "runtime.threads": threads, "encode.codec": codec, "encode.crf": crf,
        "encode.preset": preset, "encode.pix_fmt": pix_fmt, "encode.fragmented": fragmented,
    })
    if input.is_dir():
        sources = list_images(input)
        if not sources:
            raise UsageError(f"{input} holds no images ({', '.join(s.lstrip('.') for s in IMAGE_SUFFIXES)})")
        if output.exists() and output.resolve() == input.resolve():
            raise OutputError(f"output folder {output} is the input folder: the originals would be overwritten")
        if output.exists() and not output.is_dir():
            raise OutputError(f"output {output} must be a folder when the input is a folder")
        _make_folder(output)
        job = ImageJob(sources, [output / s.name for s in sources], settings, sequence=sequence)
        label, total = f"{input.name}/", len(sources)
    elif is_image_path(input):
        target = output / input.name if output.is_dir() else output
        if not is_image_path(target):
            raise UsageError(f"output {output.name}: an image input needs an image output (.png, .jpg, …)")
        if target.exists() and target.resolve() == input.resolve():
            raise OutputError(f"output {target} is the input: the original would be overwritten")
        job = ImageJob([input], [target], settings)
        label, total = input.name, 1
    else:
        job = VideoJob(input, output, settings)
        label, total = input.name, job.expected_frames()
    if not quiet:
        console.print(f"[dim]backend: {job.choice.describe()}[/dim]")
    with _stop_on_signals(job), FrameProgress(label, total, console, enabled=None if not quiet else False) as bar:
        summary = job.run(on_frame=bar.advance)
    if not quiet:
        _print_summary(summary)


@app.command()
def live(
    source: Optional[str] = typer.Argument(None, help="rtsp://…, http(s)://…, v4l2:///dev/videoN, csi://N, "
                                                      "test://night, or a file; omit with a config's cameras: list."),
    out: Optional[list[str]] = typer.Option(None, "--out", help="Output URI, repeatable: FILE.mp4, rtsp://host:port/name "
                                            "(publish), rtsp://@:port/name (serve), hls://DIR, preview://:8080, null://"),
    duration: Optional[float] = typer.Option(None, min=0.0, help="Stop after this many seconds (default: run until "
                                                                 "Ctrl-C / SIGTERM, or the source ends)."),
    config: Optional[Path] = typer.Option(None, "--config", help="YAML config, e.g. configs/security-rtsp.yaml."),
    name: Optional[str] = typer.Option(None, help="Camera name for logs and metrics (a single SOURCE)."),
    model: Optional[str] = typer.Option(None, help="fast | quality | none"),
    strength: Optional[float] = typer.Option(None, help="0 (untouched) … 1 (full)."),
    denoise: Optional[float] = typer.Option(None, help="Noise vs detail, 0 … 1."),
    recover_highlights: Optional[bool] = typer.Option(None, "--recover-highlights/--no-recover-highlights"),
    fps: Optional[float] = typer.Option(None, help="Output rate on the wall clock (default: the source's)."),
    realtime: Optional[bool] = typer.Option(None, "--realtime/--no-realtime",
                                            help="Play files and patterns at their own pace (default on)."),
    on_signal_loss: Optional[str] = typer.Option(None, help="repeat | no_signal: what outputs show while the camera "
                                                             "is away."),
    rtsp_transport: Optional[str] = typer.Option(None, help="tcp | udp"),
    give_up_after: Optional[float] = typer.Option(None, help="Stop retrying a camera after this many seconds without "
                                                             "frames (default: never)."),
    segment: Optional[float] = typer.Option(None, help="Recordings: a new file every this many seconds."),
    metrics: Optional[str] = typer.Option(None, help="HOST:PORT of a Prometheus endpoint, e.g. 127.0.0.1:9108."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors."),
) -> None:
    """Enhance live cameras: reconnects, bounded latency, record, restream, preview, metrics."""
    from stream.config import load_live_config
    from stream.live.service import LiveService

    overrides = {
        "name": name, "enhance.model": model, "enhance.strength": strength, "enhance.denoise": denoise,
        "highlights.enabled": recover_highlights, "live.fps": fps, "live.realtime": realtime,
        "live.on_signal_loss": on_signal_loss, "live.rtsp_transport": rtsp_transport,
        "live.reconnect.give_up_after_s": give_up_after, "live.segment_s": segment,
    }
    settings = load_live_config(config, source=source, outputs=out, overrides=overrides, metrics=metrics)

    def event(camera: str, message: str) -> None:
        if not quiet:
            console.print(f"{camera}: {message}", markup=False, highlight=False)

    service = LiveService(settings, event)
    if not quiet:
        for choice in service.choices.values():
            console.print(f"[dim]backend: {choice.describe()}[/dim]")
        for url in service.preview_urls:
            console.print(f"preview: {url}", markup=False)
        if settings.metrics:
            console.print(f"metrics: http://{settings.metrics}/metrics", markup=False)
    with _stop_on_signals(service):
        summaries = service.run(duration)
    failed = [s for s in summaries if s.error]
    for summary in summaries:
        if not quiet or summary.error:
            console.print(live_summary_line(summary), markup=False, highlight=False)
    if failed:
        raise CameraFailedError(f"{failed[0].name}: {failed[0].error}")


def live_summary_line(summary) -> str:
    """One line per camera: frames, what was repeated or dropped, reconnects, latency percentiles."""
    median, p95 = summary.latency_percentile(50), summary.latency_percentile(95)
    latency = f", latency median {1000 * median:.0f} ms, p95 {1000 * p95:.0f} ms" if median is not None else ""
    return (f"{summary.name}: {summary.frames_in} frames in, {summary.frames_out} out ({summary.repeated} repeated, "
            f"{summary.no_signal} no-signal), {summary.dropped} dropped, {summary.late} late ticks, "
            f"{summary.reconnects} reconnect attempts{latency}")


@app.command()
def export(
    model: str = typer.Option("fast", help="Model to export."),
    output: Path = typer.Option(..., "-o", "--output", help="Path of the .onnx file to write."),
) -> None:
    """Export a model to ONNX (dynamic batch, height and width)."""
    from engines.export import export_onnx         # imports torch: only this command needs it
    from engines.io_specs import IO_SPECS
    from engines.registry import model_info

    info = model_info(model)       # checks the name and the weights before any work
    if not output.parent.is_dir() and str(output.parent):
        raise OutputError(f"cannot write {output}: folder {output.parent} does not exist")
    path = export_onnx(model, output)
    spec = IO_SPECS[info.architecture]
    inputs = ", ".join(f"{name}: batch×{channels}×height×width" for name, channels in spec.inputs)
    multiple = f"; height and width multiples of {spec.multiple}" if spec.multiple > 1 else ""
    console.print(f"wrote {path} (inputs {inputs}; output {spec.output[0]}: batch×{spec.output[1]}×height×width"
                  f"{multiple})")


@app.command()
def doctor() -> None:
    """Print versions, devices, backends and codecs found on this machine."""
    from stream.doctor import print_report

    print_report(console)


@app.command()
def demo(
    output_dir: Path = typer.Option(Path("demo-output"), "--output-dir", help="Where the clips and the PNG go."),
    seconds: float = typer.Option(4.0, help="Length of the generated dark clip."),
) -> None:
    """Make a dark test clip, enhance it, write a before/after PNG."""
    from stream.demo import run_demo

    run_demo(output_dir, seconds, console)


@app.command()
def bench(
    frames: int = typer.Option(240, help="Frames per generated clip."),
    sizes: str = typer.Option("720p,1080p", help="Comma-separated: 480p, 720p, 1080p, 2160p."),
    model: str = typer.Option("fast", help="Model to time: fast or quality."),
    denoise: float = typer.Option(0.5, min=0.0, max=1.0, help="Denoise setting (0 leaves the temporal stage out)."),
) -> None:
    """Time decode, model, encode and end to end; compare with FFmpeg's classic chain."""
    from stream.bench import run_bench

    run_bench([s.strip() for s in sizes.split(",") if s.strip()], frames, console, model, denoise)


def _print_summary(summary) -> None:
    seconds = f"{summary.media_duration_s:.1f} s of video, " if summary.media_duration_s else ""
    console.print(f"[green]done[/green]: {summary.frames_out} frames ({seconds}{summary.frames_in} decoded) → "
                  f"{summary.output} in {summary.elapsed_s:.1f} s, {summary.fps:.1f} fps · {summary.backend}")
    if summary.highlights is not None:
        console.print(f"highlights: {highlights_line(summary.highlights, summary.media_duration_s)}")


def highlights_line(stats, media_duration_s: float) -> str:
    """One line on the highlight stage: clipped share, reference age, switches per minute of video."""
    age = stats.mean_reference_age
    per_minute = f", {60.0 * stats.switches / media_duration_s:.1f} reference switches per minute" \
        if media_duration_s > 0 else f", {stats.switches} reference switches"
    return (f"{100.0 * stats.mean_clipped_share:.2f} % of pixels clipped on average; "
            f"{stats.filled_frames} of {stats.frames} frames recovered"
            + (f", reference {age:.1f} frames old on average" if age is not None else ", no reference used")
            + per_minute)


def _make_folder(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create folder {path}: {error.strerror}") from error


@contextmanager
def _stop_on_signals(job) -> Iterator[None]:
    """SIGINT/SIGTERM: stop reading, finish and finalise what was read; a second one stops at once.

    "At once" still closes the output (the sink is closed on the way out), it only
    skips encoding the frames already queued.
    """
    received: list[int] = []

    def handler(signum, _frame) -> None:
        received.append(signum)
        if len(received) > 1 and not job.closing:
            raise KeyboardInterrupt
        job.request_stop(signum)
        console.print(f"\n[yellow]{signal.Signals(signum).name}: finishing the output… "
                      "(again to stop now)[/yellow]")

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def main(argv: list[str] | None = None) -> int:
    """Console entry point; returns the exit code."""
    keep_frame_buffers_in_heap()                # a process-wide malloc setting: see stream.heap
    try:
        code = app(args=argv, standalone_mode=False, prog_name="nocturne")
        return code if isinstance(code, int) else 0
    except typer.Abort:
        console.print("nocturne: aborted")
        return 130
    except ClickException as error:            # bad option, missing argument, …
        console.print(f"nocturne: error: {error.format_message()}", markup=False)
        return 2
    except NocturneError as error:
        if _state["debug"]:
            raise
        console.print(f"nocturne: error: {error}", markup=False)
        return error.exit_code
    except KeyboardInterrupt:
        console.print("nocturne: interrupted")
        return 130
    except Exception as error:  # noqa: BLE001 — a bug or an unforeseen library error: still one line
        if _state["debug"]:
            raise
        text = str(error).strip().splitlines()[0] if str(error).strip() else ""
        # An unforeseen library error is most often a PyAV nocturne was not tested with: say so on the line.
        hint = untested_pyav_warning()
        console.print(f"nocturne: error: unexpected {type(error).__name__}: {text} "
                      f"({hint + '; ' if hint else ''}rerun with --debug for details)", markup=False)
        return 1


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
