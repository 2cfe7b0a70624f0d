"""The offline jobs behind ``nocturne enhance``.

``VideoJob``: file → decode → [resample to --fps] → enhance → encode+mux → file.
``ImageJob``: image(s) → enhance → image(s), photos independent by default,
one temporal state across them with ``sequence=True``.
Both report a ``RunSummary``; damage and interruption are raised only after
the output has been finalised, so what was done is never lost.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from engines.build import build_enhancer
from engines.enhancer import Enhancer
from engines.highlights import HighlightStats, highlight_stats
from engines.runtimes import RuntimeChoice, select_runtime
from stream.config import ModelSettings, OfflineConfig
from stream.decode import FileSource
from stream.encode import EncoderSettings, FileSink, check_output_path
from stream.errors import DecodeError, InputDamagedError, InterruptedRun, NocturneError, OutputError
from stream.frame import Frame
from stream.graph import Graph
from stream.heap import keep_frame_buffers_in_heap
from stream.images import read_image, write_image
from stream.pacing import frame_rate
from stream.stages import EnhanceStage, ResampleStage

@dataclass
class RunSummary:
    """What a run did, for the final line and for tests."""

    output: Path
    frames_in: int = 0
    frames_out: int = 0
    media_duration_s: float = 0.0
    elapsed_s: float = 0.0
    backend: str = ""
    dropped_streams: list[str] = field(default_factory=list)
    damage: list[str] = field(default_factory=list)
    interrupted: bool = False
    highlights: HighlightStats | None = None

    @property
    def fps(self) -> float:
        return self.frames_out / self.elapsed_s if self.elapsed_s > 0 else 0.0


def make_enhancer(config: ModelSettings, choice: RuntimeChoice | None = None) -> tuple[Enhancer, RuntimeChoice]:
    """The configured enhancer (``engines.build``) on the chosen runtime, and that choice; one enhancer per stream.

    ``choice`` shares one runtime between streams; without it the config's runtime section picks one.
    """
    runtime = config.runtime
    choice = choice or select_runtime(runtime.backend, runtime.device, runtime.threads)
    return build_enhancer(config.enhancer_spec(), choice.runtime), choice


def encoder_settings(config: OfflineConfig) -> EncoderSettings:
    return EncoderSettings(**config.encode.model_dump())


class VideoJob:
    """One video file in, one out. Construct (validates input and output), then ``run()``."""

    def __init__(self, source_path: Path, output_path: Path, config: OfflineConfig,
                 choice: RuntimeChoice | None = None) -> None:
        keep_frame_buffers_in_heap()         # before the graph's threads start (stream.heap); once per process
        check_output_path(output_path)
        if output_path.exists() and output_path.resolve() == Path(source_path).resolve():
            raise OutputError(f"output {output_path} would overwrite the input")
        self.config = config
        self.output_path = output_path
        self.source = FileSource(source_path)
        self.info = self.source.info
        self.stop_signal: int | None = None
        try:
            self._compose(config, choice)
        except BaseException:
            self.source.close()
            raise

    def _compose(self, config: OfflineConfig, choice: RuntimeChoice | None) -> None:
        """decode → [resample] → enhance → encode."""
        self.enhancer, self.choice = make_enhancer(config, choice)
        fps = frame_rate(config.fps) if config.fps else None
        self.fps = fps
        self.sink = FileSink(self.output_path, encoder_settings(config),
                             time_base=1 / fps if fps else self.info.time_base,
                             rate=fps or self.info.average_rate, side_streams=self.source.side_streams,
                             timecode=self.source.timecode)
        stages = ([ResampleStage(fps)] if fps else []) + [EnhanceStage(self.enhancer, self.sink.settings.bit_depth)]
        self.graph = Graph(self.source.items, stages, self.sink, queue_size=config.queue_size)

    def expected_frames(self) -> int:
        if self.fps and self.info.duration_s:
            return int(round(self.info.duration_s * self.fps))
        return self.info.expected_frames()

    def request_stop(self, signal_number: int | None = None) -> None:
        self.stop_signal = signal_number
        self.graph.request_stop()

    @property
    def closing(self) -> bool:
        """True while the output is being finalised (an interrupt then would cost the file)."""
        return self.graph.closing

    def run(self, on_frame: Callable[[Frame], None] | None = None) -> RunSummary:
        def written(item: object) -> None:
            if on_frame is not None and isinstance(item, Frame):
                on_frame(item)

        try:
            report = self.graph.run(written)
        finally:
            self.source.close()
        summary = RunSummary(
            output=self.output_path, frames_in=self.source.frames_decoded, frames_out=self.sink.frames_written,
            elapsed_s=report.elapsed_s, backend=self.choice.runtime.label,
            dropped_streams=self.sink.dropped_streams, damage=list(self.source.damage),
            interrupted=report.stopped_early, media_duration_s=self._media_duration(),
            highlights=highlight_stats(self.enhancer),
        )
        self._raise_for(report.error, summary)
        return summary

    def _media_duration(self) -> float:
        if not self.sink.frames_written or self.sink.last_time_s is None:
            return 0.0
        step = float(1 / self.fps) if self.fps else (float(1 / self.info.average_rate) if self.info.average_rate else 0.0)
        return self.sink.last_time_s + step - (self.sink.first_time_s or 0.0)

    def _raise_for(self, error: BaseException | None, summary: RunSummary) -> None:
        if error is None and summary.frames_out == 0 and not summary.interrupted:
            _remove_quietly(self.output_path)
            reason = summary.damage[0] if summary.damage else "the video stream holds no decodable frame"
            raise InputDamagedError(f"no frame could be decoded: {reason}")
        if isinstance(error, NocturneError):
            raise error
        if isinstance(error, OSError):
            # A full disk or a lost mount: a non-fragmented MP4 without its trailer cannot be played.
            kept = self.sink.settings.fragmented
            if not kept:
                _remove_quietly(self.output_path)
            raise OutputError(f"writing {self.output_path} failed: {error.strerror or error}"
                              + ("" if kept else " (incomplete output removed)")) from error
        if error is not None:
            raise error
        if summary.interrupted:
            raise InterruptedRun(f"interrupted: {summary.frames_out} frames written to {self.output_path} (playable)",
                                 self.stop_signal)
        if summary.damage:
            raise InputDamagedError(
                f"input damaged ({summary.damage[0]}); {summary.frames_out} frames written to {self.output_path}")


class ImageJob:
    """Images in, images out with the same names. Independent photos unless ``sequence``."""

    closing = False      # each image is written whole; there is no trailer an interrupt could cut

    def __init__(self, inputs: list[Path], outputs: list[Path], config: OfflineConfig, sequence: bool = False,
                 choice: RuntimeChoice | None = None) -> None:
        for out in outputs:
            parent = out.parent
            if not parent.is_dir() or not os.access(parent, os.W_OK):
                raise OutputError(f"cannot write {out}: folder {parent} missing or not writable")
        self.inputs, self.outputs, self.sequence = inputs, outputs, sequence
        self.enhancer, self.choice = make_enhancer(config, choice)
        self.frame_interval_s = 1.0 / (config.fps or 30.0)
        self._stop = False
        self.stop_signal: int | None = None

    def request_stop(self, signal_number: int | None = None) -> None:
        self.stop_signal = signal_number
        self._stop = True

    def run(self, on_frame: Callable[[object], None] | None = None) -> RunSummary:
        summary = RunSummary(output=self.outputs[0].parent if len(self.outputs) > 1 else self.outputs[0],
                             backend=self.choice.runtime.label, highlights=highlight_stats(self.enhancer))
        start = time.perf_counter()
        for i, (source, target) in enumerate(zip(self.inputs, self.outputs)):
            if self._stop:
                summary.interrupted = True
                break
            if not self.sequence:
                self.enhancer.reset()
            try:
                image, alpha = read_image(source)
            except DecodeError as error:          # one bad file must not cost the rest of the batch
                if len(self.inputs) == 1:
                    raise
                summary.damage.append(str(error))
                continue
            summary.frames_in += 1
            enhanced = self.enhancer.enhance(image, i * self.frame_interval_s)
            write_image(target, enhanced, alpha)
            summary.frames_out += 1
            if on_frame is not None:
                on_frame(target)
        summary.elapsed_s = time.perf_counter() - start
        if summary.interrupted:
            raise InterruptedRun(f"interrupted: {summary.frames_out} of {len(self.inputs)} images written",
                                 self.stop_signal)
        if summary.damage:
            raise InputDamagedError(f"{len(summary.damage)} of {len(self.inputs)} images could not be read "
                                    f"(first: {summary.damage[0]}); the other {summary.frames_out} were written")
        return summary


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
