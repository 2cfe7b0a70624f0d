"""The PyAV reader: rtsp/http/HLS cameras, files and lavfi ``test://`` patterns (FFmpeg's demuxers).

A first connection probes for half a second and throws the probed packets
away (``fflags nobuffer``): they are stale, and decoding them in a burst would
only fill the latest-wins queue with drops; the picture starts at the next
keyframe. A returning RTSP camera (its rate known by then) is probed for one
packet, which is kept: the keyframe that opens the new session is decoded at
once instead of waiting a GOP for the next, so frames flow about 0.2 s after
the camera answers. Network streams decode with slice threads: frame threads
hold back one frame per thread. Files and patterns are paced on the wall
clock at their own timestamps (``live.realtime``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import av

from stream.config import LiveSection
from stream.errors import SourceError
from stream.live.av_failures import describe_failure
from stream.live.patterns import LAVFI_PATTERNS, SCENE_PATTERN, TEST_FPS, TEST_SIZE
from stream.live.reader import Decoded
from stream.planes import frame_to_image
from stream.pyav_compat import open_input
from stream.uri import SourceSpec, parse_rate, parse_size

PROBE_US = "500000"               # FFmpeg probing (analyzeduration / probesize): enough for H.264 with its SDP
FIRST_PROBE = {"analyzeduration": PROBE_US, "probesize": PROBE_US, "fflags": "nobuffer"}
# A returning RTSP camera: stop probing after the first packet and keep it (probesize is FFmpeg's
# minimum; an analyzeduration of 0 would mean FFmpeg's default of 5 s). The SDP already names the codec.
QUICK_PROBE = {"probesize": "32", "analyzeduration": PROBE_US}


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
