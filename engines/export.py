"""ONNX export of the shipped networks, with dynamic batch, height and width.

Each architecture has an ``IoSpec``: its inputs' names and channel counts, its
output's name and channels, and a height/width multiple its shapes must honour.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from engines.models.restore_net import MULTIPLE as RESTORE_MULTIPLE
from engines.registry import load_model
from engines.onnx_opset import OPSET


@dataclass(frozen=True)
class IoSpec:
    """Inputs (name, channels), output (name, channels) and the H/W multiple of one architecture."""

    inputs: tuple[tuple[str, int], ...]
    output: tuple[str, int]
    multiple: int = 1

    def examples(self, height: int, width: int, batch: int = 1) -> tuple[torch.Tensor, ...]:
        """Random inputs (batch, channels, height, width) in [0, 1], one per input."""
        return tuple(torch.rand(batch, channels, height, width) for _, channels in self.inputs)


IO_SPECS = {
    # CurveNet: thumbnail R'G'B' → curve parameter per thumbnail pixel, in [-1, 1].
    "CurveNet": IoSpec(inputs=(("rgb", 3),), output=("alpha", 1)),
    # RestoreNet: frame R'G'B' + denoise-strength map → restored R'G'B' (unclipped).
    "RestoreNet": IoSpec(inputs=(("rgb", 3), ("denoise", 1)), output=("restored", 3), multiple=RESTORE_MULTIPLE),
    # FusionNet: frame R'G'B' + filled R'G'B' + fill weight → fused R'G'B' (highlight recovery).
    "FusionNet": IoSpec(inputs=(("current", 3), ("fill", 3), ("weight", 1)), output=("fused", 3)),
}


def export_onnx(model_name: str, path: Path, opset: int = OPSET) -> Path:
    """Write model ``model_name`` as ONNX to ``path`` (atomically: temp file, then rename).

    The graph's inputs and output are named by ``IO_SPECS`` for the model's
    architecture; all are float32 (batch, channels, height, width) with batch,
    height and width dynamic.
    """
    model, info = load_model(model_name)
    spec = IO_SPECS[info.architecture]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dynamic = {0: "batch", 2: "height", 3: "width"}
    names = [name for name, _ in spec.inputs]
    axes = {name: dynamic for name in [*names, spec.output[0]]}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        with warnings.catch_warnings():
            # The TorchScript-based exporter is deprecated in favour of dynamo, which
            # needs onnxscript; for these small static graphs it is exact and instant.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model, spec.examples(96, 160), tmp, input_names=names, output_names=[spec.output[0]],
                dynamic_axes=axes, opset_version=opset, dynamo=False,
            )
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
