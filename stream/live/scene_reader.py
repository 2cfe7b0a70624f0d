"""``test://night``: the demo's dark street rendered live, a camera that needs no network or file."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import cv2

from engines.image import image_from_rgb
from stream.config import LiveSection
from stream.live.patterns import TEST_FPS, TEST_SIZE
from stream.live.reader import Decoded
from stream.planes import matrix_for, rgb_source_tags
from stream.uri import SourceSpec, parse_rate, parse_size


class SceneReader:
    """``test://night``: the demo's dark street (``stream.demo.DarkStreet``) rendered live, paced at ``fps``."""

    def __init__(self, spec: SourceSpec, live: LiveSection) -> None:
        self.size = parse_size(spec.options.get("size", TEST_SIZE), spec.display)
        self.nominal_fps = parse_rate(spec.options.get("fps", TEST_FPS), spec.display)
        self.paced = live.realtime
        self.tags = rgb_source_tags(self.size[1])
        self.matrix = matrix_for(self.tags.colorspace, self.size[1])

    def open(self, known_fps: float | None = None) -> None:
        # Imported here, not at the top: stream.demo imports the whole offline pipeline.
        from stream.demo import FPS, DarkStreet

        self._scene, self._scene_fps = DarkStreet(), FPS

    def frames(self, stop: threading.Event) -> Iterator[Decoded]:
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
