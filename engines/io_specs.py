"""The shipped networks' input/output contract, torch-free: tensors, shapes, and the ONNX opset.

Each architecture has an ``IoSpec``: its inputs' names and channel counts, its
output's name and channels, and the height/width multiple its shapes must
honour. Export names the ONNX graph's tensors after it, runtimes feed inputs in
its order, enhancers pad to its multiple — none of that needs torch, so this
module does not import it (the ONNX Runtime path runs without torch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OPSET = 17            # every exported graph's; cached ONNX files are named after it


@dataclass(frozen=True)
class IoSpec:
    """Inputs (name, channels), output (name, channels) and the H/W multiple of one architecture.

    Every tensor is float32 (batch, channels, height, width).
    """

    inputs: tuple[tuple[str, int], ...]
    output: tuple[str, int]
    multiple: int = 1

    def examples(self, height: int, width: int, batch: int = 1) -> tuple[np.ndarray, ...]:
        """Random inputs (batch, channels, height, width) float32 in [0, 1), one per input (the same each call)."""
        rng = np.random.default_rng(0)
        return tuple(rng.random((batch, channels, height, width), np.float32) for _, channels in self.inputs)


IO_SPECS = {
    # CurveNet: thumbnail R'G'B' → curve parameter per thumbnail pixel, in [-1, 1].
    "CurveNet": IoSpec(inputs=(("rgb", 3),), output=("alpha", 1)),
    # RestoreNet: frame R'G'B' + denoise-strength map → restored R'G'B' (unclipped). H, W multiples
    # of 8: PixelUnshuffle(2), then two stride-2 levels.
    "RestoreNet": IoSpec(inputs=(("rgb", 3), ("denoise", 1)), output=("restored", 3), multiple=8),
    # FusionNet: frame R'G'B' + filled R'G'B' + fill weight → fused R'G'B' (highlight recovery).
    "FusionNet": IoSpec(inputs=(("current", 3), ("fill", 3), ("weight", 1)), output=("fused", 3)),
}
