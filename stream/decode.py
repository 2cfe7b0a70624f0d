"""File source: demux with PyAV, decode video, pass other streams' packets through.

``FileSource.items()`` yields, in file order, ``Frame`` for each decoded video
frame and ``SidePacket`` for packets of the streams the sink may copy (audio,
subtitles, data). Damage is not fatal: a packet that fails to decode is skipped
(as ffmpeg does) and a read that fails ends the stream early; both are noted in
``damage`` so the run can finish the output and then report it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Iterator

import av

from stream.errors import DecodeError, InputNotFoundError, NoVideoStreamError
from stream.frame import Frame, SidePacket
from stream.planes import frame_to_image
from stream.pyav_compat import open_input

log = logging.getLogger(__name__)
MAX_CONSECUTIVE_DECODE_ERRORS = 50
HDR_TRANSFERS = {16: "PQ / SMPTE 2084", 18: "HLG / ARIB STD-B67"}     # AVColorTransferCharacteristic
_ATTACHED_PIC = 0x0400  # AV_DISPOSITION_ATTACHED_PIC: cover art, not video


@dataclass(frozen=True)
class VideoInfo:
    """What the source knows before decoding. ``frames`` is 0 when the container does not say."""

    width: int
    height: int
    time_base: Fraction
    average_rate: Fraction | None
    frames: int
    duration_s: float | None
    codec: str
    pix_fmt: str | None

    def expected_frames(self) -> int:
        """Best estimate of the frame count (0 when unknown), for progress bars."""
        if self.frames:
            return self.frames
        if self.duration_s and self.average_rate:
            return int(round(self.duration_s * float(self.average_rate)))
        return 0


class FileSource:
    """A media file as a source of ``Frame`` and ``SidePacket`` items.

    Lifecycle: construct (opens and probes; raises ``InputNotFoundError``,
    ``DecodeError`` or ``NoVideoStreamError``), iterate ``items()`` once,
    ``close()`` (idempotent).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise InputNotFoundError(f"input not found: {self.path}")
        if self.path.is_dir():
            raise DecodeError(f"input is a folder of no images: {self.path}")
        try:
            self.container = open_input(str(self.path))
        except av.error.FFmpegError as error:
            raise DecodeError(f"cannot read {self.path.name}: not a media file, or damaged ({_reason(error)})") from error
        except PermissionError as error:
            raise DecodeError(f"cannot read {self.path}: permission denied") from error
        videos = [s for s in self.container.streams.video if not (s.disposition & _ATTACHED_PIC)]
        if not videos:
            self.container.close()
            raise NoVideoStreamError(f"{self.path.name} has no video stream")
        self.video = videos[0]
        self.video.thread_type = "AUTO"
        self.side_streams = [s for s in self.container.streams
                             if s.type in ("audio", "subtitle", "data") and s.index != self.video.index]
        self.damage: list[str] = []
        self.frames_decoded = 0
        self.last_time_s: float | None = None
        self._last_pts: int | None = None
        self._closed = False

    @cached_property
    def info(self) -> VideoInfo:
        s = self.video
        duration = _video_duration_s(s) or (self.container.duration / av.time_base if self.container.duration else None)
        return VideoInfo(
            width=s.codec_context.width, height=s.codec_context.height,
            time_base=Fraction(s.time_base) if s.time_base else Fraction(1, 90000),
            average_rate=Fraction(s.average_rate) if s.average_rate else None,
            frames=int(s.frames or 0), duration_s=duration, codec=s.codec_context.name,
            pix_fmt=s.codec_context.pix_fmt,
        )

    @property
    def timecode(self) -> str | None:
        """SMPTE timecode of the start ("HH:MM:SS:FF"), from the video stream or a timecode track."""
        for stream in (self.video, *self.side_streams):
            if stream.metadata.get("timecode"):
                return stream.metadata["timecode"]
        return None

    def items(self) -> Iterator[Frame | SidePacket]:
        """Yield frames and side packets in file order until the end or damage."""
        streams = [self.video, *self.side_streams]
        info = self.info
        default_step = _frame_step(info)
        consecutive_errors = 0
        packets = self.container.demux(streams)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.error.FFmpegError as error:
                self.damage.append(f"read stopped at frame {self.frames_decoded}: {_reason(error)}")
                yield from self._frames(self._drain(), info, default_step)
                break
            if packet.stream.index != self.video.index:
                if packet.dts is not None and packet.size:
                    yield SidePacket(packet, packet.stream.index)
                continue
            try:
                decoded = packet.decode()
                consecutive_errors = 0
            except av.error.FFmpegError as error:
                consecutive_errors += 1
                self._note_decode_error(error)
                if consecutive_errors > MAX_CONSECUTIVE_DECODE_ERRORS:
                    self.damage.append("too many consecutive decode errors; stopped")
                    yield from self._frames(self._drain(), info, default_step)
                    break
                continue
            yield from self._frames(decoded, info, default_step)
        self._check_truncation(info)

    def _frames(self, decoded, info: VideoInfo, default_step: int) -> Iterator[Frame]:
        for av_frame in decoded:
            pts = av_frame.pts
            if pts is None or (self._last_pts is not None and pts <= self._last_pts):
                # Missing or non-increasing timestamps (raw streams, broken muxers):
                # continue the sequence at the nominal frame rate.
                pts = 0 if self._last_pts is None else self._last_pts + default_step
            self._last_pts = pts
            self.last_time_s = float(pts * info.time_base)
            image, display, tags = frame_to_image(av_frame)
            if self.frames_decoded == 0 and tags.color_trc in HDR_TRANSFERS:
                log.warning("%s is HDR (%s transfer); the enhancement is tuned for SDR video, so expect "
                            "wrong brightness and colour", self.path.name, HDR_TRANSFERS[tags.color_trc])
            yield Frame(image=image, pts=pts, time_base=info.time_base, index=self.frames_decoded,
                        display_size=display, tags=tags, rotation=int(av_frame.rotation or 0),
                        duration=int(av_frame.duration) if av_frame.duration else None)
            self.frames_decoded += 1

    def _drain(self) -> list:
        """Frames the decoder still holds (reordering, frame threads) when reading stops early."""
        try:
            return list(self.video.decode(None))
        except av.error.FFmpegError:
            return []

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.container.close()

    def _note_decode_error(self, error: Exception) -> None:
        if len(self.damage) < 20:
            self.damage.append(f"undecodable packet after frame {self.frames_decoded}: {_reason(error)}")

    def _check_truncation(self, info: VideoInfo) -> None:
        """Note an early end: fewer frames than the header lists, or video ending well before its duration.

        MP4 lists a frame count; Matroska does not, but lists durations (the
        muxer writes a per-stream DURATION tag), which catch a file cut short or
        garbled part-way where the demuxer simply reaches "end of file".
        """
        expected = info.frames
        if expected and self.frames_decoded < expected - 1:
            self.damage.append(f"input ends early: {self.frames_decoded} of {expected} frames decoded")
            return
        duration = info.duration_s
        if not duration or self.last_time_s is None:
            return
        start = float(self.video.start_time * info.time_base) if self.video.start_time else 0.0
        step = float(1 / info.average_rate) if info.average_rate else 0.04
        decoded_until = self.last_time_s + step - start
        if decoded_until < duration - max(0.5, 3 * step):
            self.damage.append(f"input ends early: video stops at {decoded_until:.2f} s of {duration:.2f} s")


def _video_duration_s(stream: av.VideoStream) -> float | None:
    """The video stream's own duration: its header value, or Matroska's DURATION tag (HH:MM:SS.fraction)."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    tag = stream.metadata.get("DURATION") or stream.metadata.get("duration")
    if not tag:
        return None
    try:
        hours, minutes, seconds = tag.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except ValueError:
        return None


def _frame_step(info: VideoInfo) -> int:
    rate = info.average_rate or Fraction(30)
    return max(1, round(1 / (rate * info.time_base)))


def _reason(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return text.split(";")[0].strip()
