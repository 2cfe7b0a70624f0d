"""What every live output is given and implements: a leaf module, shared by the outputs and the camera.

An ``Output`` has a ``name``, ``write(item)`` and an idempotent ``close()``.
Frame outputs (``stream.live.frame_outputs``) are handed an ``OutFrame`` at each
pacer tick; muxing outputs (``stream.live.muxing_outputs``, ``encoded = True``)
a ``stream.live.encoded.LivePacket`` of the camera's shared encode.
``OutputContext`` is what an output may use of its camera and the process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from engines.image import YuvImage
from stream.config import EncodeSection, LiveSection
from stream.frame import Frame
from stream.live.servers import SharedServers


@dataclass(frozen=True)
class OutFrame:
    """What the pacer hands every output at each tick.

    ``frame``: the enhanced picture, ``pts`` = tick index in ``time_base`` 1/fps;
    ``before``: the picture as the camera gave it (the preview's left side);
    ``fresh``: False for a repeated frame or a "no signal" frame.
    """

    frame: Frame
    before: YuvImage
    fresh: bool

    @property
    def latency_from(self) -> float | None:
        """When the picture arrived from the camera (monotonic), for fresh pictures; None for repeats."""
        return self.frame.arrival_s if self.fresh else None


class Output(Protocol):
    name: str

    def write(self, item: OutFrame) -> None: ...

    def close(self) -> None: ...


@dataclass
class OutputContext:
    """What an output needs from its camera and the process."""

    camera: str
    encode: EncodeSection
    live: LiveSection
    on_event: Callable[[str], None]
    on_reconnect: Callable[[str], None]
    servers: SharedServers
