"""What the graph's enhance stage runs: the ``Enhancer`` interface, and the identity (the ``none`` model).

An enhancer takes one picture and returns one, keeping whatever per-stream state
it needs between calls (curve averages, the previous output, past references).
One enhancer per stream, one thread per enhancer. ``engines.build`` composes
the configured stages into one enhancer; wrappers expose the enhancer they wrap
as ``inner``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from engines.image import YuvImage, image_from_rgb_float, image_to_rgb_float


class Enhancer(Protocol):
    """One picture in, one out, with per-stream state.

    ``enhance(image, time_s, out_bits)``: ``time_s`` is the picture's presentation time in
    seconds (None for a photo), ``out_bits`` the output depth (None keeps the input's).
    ``stats`` is read by the runner for summaries and metrics; ``reset()`` forgets the
    stream (a new photo, a reconnected camera).
    """

    stats: object

    def enhance(self, image: YuvImage, time_s: float | None = None, out_bits: int | None = None) -> YuvImage: ...

    def reset(self) -> None: ...


@dataclass
class Unchanged:
    """The ``none`` model: frames pass as they are (only re-quantised when the output depth differs)."""

    stats: object = None

    def enhance(self, image: YuvImage, time_s: float | None = None, out_bits: int | None = None) -> YuvImage:
        if out_bits is None or out_bits == image.bit_depth:
            return image
        return image_from_rgb_float(image_to_rgb_float(image), out_bits, image.full_range, image.matrix,
                                    image.u.shape)

    def reset(self) -> None:
        """No state."""
