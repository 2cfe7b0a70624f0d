"""What the encoder is asked for, and whether the output path can take it.

``EncoderSettings`` (codec, CRF, preset, pixel format, fragmenting, GOP,
tune), the codec names nocturne offers (``ENCODERS``), the MP4/MOV options of
a fragmented file (``FRAGMENTED_OPTIONS``) and ``check_output_path``, run
before any work so a bad output fails at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from stream.errors import OutputError, UsageError
from stream.formats import CONTAINER_FORMATS

ENCODERS = {"h264": "libx264", "hevc": "libx265"}
# A fragmented file must also reach the disk fragment by fragment: without flush_packets FFmpeg keeps
# up to 32 KB in its write buffer, which at a dark, still camera's bitrate is many seconds (measured:
# 5.6 s of a 320x240 recording were 28 bytes on disk). The muxer only writes whole fragments, so a
# flush per packet costs nothing between keyframes.
FRAGMENTED_OPTIONS = {"movflags": "+frag_keyframe+empty_moov+default_base_moof", "flush_packets": "1"}


@dataclass(frozen=True)
class EncoderSettings:
    """Video encoder settings. ``pix_fmt`` decides the output bit depth (8 or 10)."""

    codec: str = "h264"
    crf: int = 20
    preset: str = "veryfast"
    pix_fmt: str = "yuv420p"
    fragmented: bool = False
    gop: int | None = None         # frames between keyframes (None: the encoder's default, 250 for x264)
    tune: str | None = None        # x264/x265 tune, e.g. "zerolatency" for live: no B-frames, no lookahead

    @property
    def bit_depth(self) -> int:
        return 10 if self.pix_fmt.endswith("10le") else 8


def check_output_path(path: Path) -> str:
    """Validate an output video path before any work; returns the container format name."""
    fmt = CONTAINER_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(f"output {path.name}: unknown container; use one of {', '.join(CONTAINER_FORMATS)}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"cannot write {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise OutputError(f"cannot write {path}: permission denied")
    return fmt
