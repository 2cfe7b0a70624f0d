"""Live sources: one connection to a camera (a reader), and the source that reconnects.

A read has four outcomes, kept apart: a frame, the end of the stream (files and
test patterns only), a typed ``SourceError`` (refused, wrong credentials, wrong
path, not video, silent for ``timeout_s``), and — for the reconnecting
``LiveSource`` — giving up after ``reconnect.give_up_after_s`` without a frame.

Readers by kind (the registry is ``open_reader``):

- rtsp/http/HLS, files and ``test://`` patterns: PyAV (FFmpeg's demuxers; lavfi for
  patterns). A first connection probes for half a second and throws the
  probed packets away (``fflags nobuffer``): they are stale, and decoding them
  in a burst would only fill the latest-wins queue with drops; the picture
  starts at the next keyframe. A returning RTSP camera (its rate known by
  then) is probed for one packet, which is kept: the keyframe that opens the
  new session is decoded at once instead of waiting a GOP for the next, so
  frames flow about 0.2 s after the camera answers. Network streams decode
  with slice threads: frame threads hold back one frame per thread.
  Files and patterns are paced on the wall clock at their own timestamps
  (``live.realtime``).
- ``v4l2://`` and ``csi://``: GStreamer pipelines ending in an appsink
  (``stream.live.gst``); PyAV's wheels carry no V4L2 demuxer.

Frames leave with a fresh clock: ``pts`` is the arrival time in 1/90000 s since
the source started and ``arrival_s`` the monotonic clock at decode, because a
camera's own timestamps restart at every reconnect (and the first RTSP frame
may have none). The pacer re-times frames for the outputs anyway.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from fractions import Fraction

import av
import cv2

from stream.config import LiveSection
from stream.frame import Frame
from stream.live.reader import Decoded, Reader, SourceError, SourceGaveUp
from stream.planes import frame_to_image, matrix_for, rgb_source_tags
from stream.pyav_compat import open_input
from stream.uri import SourceSpec, parse_rate, parse_size, redact

LIVE_TIME_BASE = Fraction(1, 90000)
PROBE_US = "500000"               # FFmpeg probing (analyzeduration / probesize): enough for H.264 with its SDP
FIRST_PROBE = {"analyzeduration": PROBE_US, "probesize": PROBE_US, "fflags": "nobuffer"}
# A returning RTSP camera: stop probing after the first packet and keep it (probesize is FFmpeg's
# minimum; an analyzeduration of 0 would mean FFmpeg's default of 5 s). The SDP already names the codec.
QUICK_PROBE = {"probesize": "32", "analyzeduration": PROBE_US}
STILL_AWAY_EVERY_S = 30.0         # how often a camera that stays away is mentioned again

# test://PATTERN: "night" is the demo's street (SceneReader); the others are lavfi source graphs
# ({w}, {h}, {fps} filled in) read by AvReader.
SCENE_PATTERN = "night"
TEST_SIZE, TEST_FPS = "640x360", "25"          # a test:// pattern's size and rate unless given
LAVFI_PATTERNS = {
    "testsrc2": "testsrc2=size={w}x{h}:rate={fps}",
    "smptebars": "smptehdbars=size={w}x{h}:rate={fps}",
    "mandelbrot": "mandelbrot=size={w}x{h}:rate={fps}",
}


def describe_failure(error: BaseException, timeout_s: float) -> str:
    """A short, credential-free reason for a failed open or read."""
    kinds: list[tuple[type, str]] = [
        (av.error.HTTPUnauthorizedError, "refused: wrong or missing credentials (401)"),
        (av.error.HTTPForbiddenError, "refused: forbidden (403)"),
        (av.error.HTTPNotFoundError, "not found (404): wrong path?"),
        (av.error.ConnectionRefusedError, "connection refused: nothing listens at that address"),
        (av.error.ExitError, f"no answer within {timeout_s:g} s"),
        (TimeoutError, f"no answer within {timeout_s:g} s"),
        (av.error.InvalidDataError, "not a media stream (invalid data)"),
        (av.error.EOFError, "the stream ended"),
    ]
    for kind, text in kinds:
        if isinstance(error, kind):
            return text
    if isinstance(error, av.error.OSError) and getattr(error, "errno", None) == 5:
        return "unreachable or not answering (input/output error; unknown host, network or server down?)"
    if isinstance(error, SourceError):
        return str(error)
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return redact(str(text).splitlines()[0])


class AvReader:
    """A network stream, file or lavfi pattern read with PyAV."""

    def __init__(self, spec: SourceSpec, live: LiveSection) -> None:
        self.spec, self.live = spec, live
        self.nominal_fps: float | None = None
        self._container = None
        self._url, self._format, self._options = self._describe(spec, live)
        self.paced = spec.kind in ("file", "test") and live.realtime
        self.network = spec.kind in ("rtsp", "http")

    @staticmethod
    def _describe(spec: SourceSpec, live: LiveSection) -> tuple[str, str | None, dict[str, str]]:
        """(what av.open opens, the format to force, the demuxer options but probing's: see ``open``)."""
        if spec.kind == "rtsp":
            return spec.target, None, {"rtsp_transport": live.rtsp_transport}
        if spec.kind == "http":
            return spec.target, None, {}
        if spec.kind == "test":
            if spec.target not in LAVFI_PATTERNS:
                known = ", ".join([SCENE_PATTERN, *LAVFI_PATTERNS])
                raise SourceError(f"test://{spec.target}: unknown pattern (known: {known})")
            width, height = parse_size(spec.options.get("size", TEST_SIZE), spec.display)
            fps = parse_rate(spec.options.get("fps", TEST_FPS), spec.display)
            graph = LAVFI_PATTERNS[spec.target].format(w=width, h=height, fps=f"{fps:g}")
            return graph, "lavfi", {}
        return spec.target, None, {}

    def open(self, known_fps: float | None = None) -> None:
        options = self._options
        if self.network:
            options = {**options, **(QUICK_PROBE if known_fps and self.spec.kind == "rtsp" else FIRST_PROBE)}
        try:
            self._container = open_input(self._url, format=self._format, options=options,
                                         timeout=(self.live.timeout_s, self.live.timeout_s))
        except (av.error.FFmpegError, OSError) as error:
            raise SourceError(describe_failure(error, self.live.timeout_s)) from None
        videos = self._container.streams.video
        if not videos:
            self.close()
            raise SourceError("holds no video stream")
        self._video = videos[0]
        # Frame threads delay every picture by a frame per thread: right for files, wrong for a live camera.
        self._video.thread_type = "SLICE" if self.network else "AUTO"
        rate = self._video.average_rate or self._video.guessed_rate
        self.nominal_fps = float(rate) if rate else known_fps

    def frames(self, stop: threading.Event) -> Iterator[Decoded]:
        video = self._video
        clock_start: tuple[float, float] | None = None       # (monotonic, media seconds) of the first frame
        last_media_s = 0.0
        step = 1.0 / (self.nominal_fps or 25.0)
        try:
            for packet in self._container.demux(video):
                if stop.is_set():
                    return
                started = time.perf_counter()      # decode time only: waiting for the network or the pace is not
                decoded = packet.decode()
                decode_s = time.perf_counter() - started
                for av_frame in decoded:
                    if self.paced:
                        # Timestamps only pace files and patterns (live frames get nocturne's clock); a frame
                        # without pts (the first of an RTSP stream may have none) continues at the nominal rate.
                        media_s = av_frame.time if av_frame.time is not None else last_media_s + step
                        last_media_s = media_s
                        clock_start = clock_start or (time.monotonic(), media_s)
                        wait = clock_start[0] + (media_s - clock_start[1]) - time.monotonic()
                        if wait > 0 and stop.wait(wait):
                            return
                    converting = time.perf_counter()
                    image, display, tags = frame_to_image(av_frame)
                    decode_s += time.perf_counter() - converting
                    yield Decoded(image, display, tags, int(av_frame.rotation or 0), decode_s)
                    decode_s = 0.0
        except (av.error.FFmpegError, OSError) as error:
            raise SourceError(describe_failure(error, self.live.timeout_s)) from None

    def close(self) -> None:
        if self._container is not None:
            container, self._container = self._container, None
            container.close()


class SceneReader:
    """``test://night``: the demo's dark street (``stream.demo.DarkStreet``) rendered live, paced at ``fps``."""

    def __init__(self, spec: SourceSpec, live: LiveSection) -> None:
        self.size = parse_size(spec.options.get("size", TEST_SIZE), spec.display)
        self.nominal_fps = parse_rate(spec.options.get("fps", TEST_FPS), spec.display)
        self.paced = live.realtime
        self.tags = rgb_source_tags(self.size[1])
        self.matrix = matrix_for(self.tags.colorspace, self.size[1])

    def open(self, known_fps: float | None = None) -> None:
        from stream.demo import FPS, DarkStreet     # here: stream.demo imports the whole offline pipeline

        self._scene, self._scene_fps = DarkStreet(), FPS

    def frames(self, stop: threading.Event) -> Iterator[Decoded]:
        from engines.image import image_from_rgb

        start = time.monotonic()
        index = 0
        while not stop.is_set():
            if self.paced:
                wait = start + index / self.nominal_fps - time.monotonic()
                if wait > 0 and stop.wait(wait):
                    return
            started = time.perf_counter()
            rgb = self._scene.rgb(round(index * self._scene_fps / self.nominal_fps))     # the scene moves at its own rate
            if rgb.shape[1::-1] != self.size:
                rgb = cv2.resize(rgb, self.size, interpolation=cv2.INTER_AREA)
            yield Decoded(image_from_rgb(rgb, matrix=self.matrix), self.size, self.tags, 0,
                          time.perf_counter() - started)
            index += 1

    def close(self) -> None:
        pass


def open_reader(spec: SourceSpec, live: LiveSection) -> Reader:
    """The reader for a parsed source (the one registry of source kinds)."""
    if spec.kind == "test" and spec.target == SCENE_PATTERN:
        return SceneReader(spec, live)
    if spec.kind in ("v4l2", "csi"):
        from stream.live.gst import GstReader, pipeline_for

        return GstReader(pipeline_for(spec), live.timeout_s)
    return AvReader(spec, live)


class Backoff:
    """Capped exponential waits: initial, 2×, 4× … up to ``maximum``; ``reset`` after a success."""

    def __init__(self, initial_s: float, maximum_s: float) -> None:
        self.initial_s, self.maximum_s = initial_s, max(initial_s, maximum_s)
        self._next = initial_s

    def next(self) -> float:
        wait, self._next = self._next, min(self._next * 2.0, self.maximum_s)
        return wait

    def reset(self) -> None:
        self._next = self.initial_s


class LiveSource:
    """A source that keeps coming back: reconnects with backoff until stopped (or it gives up).

    ``frames(stop)`` yields ``Frame`` items with the live clock; it returns at
    the end of a file or pattern, or when ``stop`` is set, and raises
    ``SourceGaveUp`` after ``give_up_after_s`` without a frame. ``on_event``
    receives one-line, credential-free messages (connected, lost, back).
    """

    def __init__(self, spec: SourceSpec, live: LiveSection, on_event: Callable[[str], None],
                 on_connected: Callable[[bool], None] = lambda up: None,
                 on_retry: Callable[[], None] = lambda: None,
                 reader_factory: Callable[[SourceSpec, LiveSection], Reader] = open_reader) -> None:
        self.spec, self.live = spec, live
        self.on_event, self.on_connected, self.on_retry = on_event, on_connected, on_retry
        self.reader_factory = reader_factory
        self.nominal_fps: float | None = None
        self.frames_read = 0
        self.ended = False           # the stream reached its end (files, patterns)

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        backoff = Backoff(self.live.reconnect.initial_s, self.live.reconnect.max_s)
        clock_zero = time.monotonic()
        away_since: float | None = clock_zero       # None while frames flow
        last_reason, last_told = "", 0.0
        ever_connected = False
        while not stop.is_set():
            reader = self.reader_factory(self.spec, self.live)
            reason = ""
            try:
                reader.open(known_fps=self.nominal_fps)
                self.nominal_fps = reader.nominal_fps or self.nominal_fps
                for decoded in reader.frames(stop):
                    if away_since is not None:
                        # A GStreamer reader learns the rate from its first frame's caps, not at open.
                        self.nominal_fps = reader.nominal_fps or self.nominal_fps
                        self._announce_back(ever_connected, away_since)
                        ever_connected, away_since = True, None
                        backoff.reset()
                    yield self._frame(decoded, clock_zero)
                if stop.is_set():
                    return
                if self.spec.kind in ("file", "test"):
                    self.ended = True
                    self.on_event(f"{self.spec.display}: end of stream")
                    return
                reason = "the stream ended"
            except SourceError as error:
                reason = str(error)
            finally:
                reader.close()
            if stop.is_set():
                return
            now = time.monotonic()
            if away_since is None:
                away_since = now
                self.on_connected(False)
            give_up = self.live.reconnect.give_up_after_s
            if give_up is not None and now - away_since >= give_up:
                raise SourceGaveUp(f"{self.spec.display}: {reason}; gave up after {now - away_since:.0f} s")
            wait = backoff.next()
            if reason != last_reason or now - last_told >= STILL_AWAY_EVERY_S:
                away = f" (away {now - away_since:.0f} s)" if now - away_since >= 1.0 else ""
                self.on_event(f"{self.spec.display}: {reason}{away}; retrying every ≤ {self.live.reconnect.max_s:g} s")
                last_reason, last_told = reason, now
            if stop.wait(wait):
                return
            self.on_retry()

    def _announce_back(self, ever_connected: bool, away_since: float) -> None:
        self.on_connected(True)
        if ever_connected:
            self.on_event(f"{self.spec.display}: back after {time.monotonic() - away_since:.1f} s")
        else:
            rate = f" at {self.nominal_fps:g} fps" if self.nominal_fps else ""
            self.on_event(f"{self.spec.display}: connected{rate}")

    def _frame(self, decoded: Decoded, clock_zero: float) -> Frame:
        arrival = time.monotonic()
        frame = Frame(image=decoded.image, pts=round((arrival - clock_zero) / LIVE_TIME_BASE), time_base=LIVE_TIME_BASE,
                      index=self.frames_read, display_size=decoded.display_size, tags=decoded.tags,
                      rotation=decoded.rotation, arrival_s=arrival, decode_s=decoded.decode_s)
        self.frames_read += 1
        return frame
