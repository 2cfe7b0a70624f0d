"""The ``test://PATTERN`` sources: their names, and the size and rate they have unless given.

``night`` is the demo's street (``stream.live.scene_reader.SceneReader``); the
others are lavfi source graphs (``{w}``, ``{h}``, ``{fps}`` filled in) read by
``stream.live.av_reader.AvReader``.
"""

from __future__ import annotations

SCENE_PATTERN = "night"
TEST_SIZE, TEST_FPS = "640x360", "25"          # a test:// pattern's size and rate unless given
LAVFI_PATTERNS = {
    "testsrc2": "testsrc2=size={w}x{h}:rate={fps}",
    "smptebars": "smptehdbars=size={w}x{h}:rate={fps}",
    "mandelbrot": "mandelbrot=size={w}x{h}:rate={fps}",
}
