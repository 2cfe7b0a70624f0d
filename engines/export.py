"""ONNX export of the shipped networks, with dynamic batch, height and width.

The graph's tensors are named after the architecture's ``engines.io_specs.IoSpec``.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import torch

from engines.io_specs import IO_SPECS, OPSET
from engines.registry import WEIGHTS_DIR, load_model


def export_onnx(model_name: str, path: Path, opset: int = OPSET, weights_dir: Path = WEIGHTS_DIR) -> Path:
    """Write model ``model_name`` (of ``weights_dir``) as ONNX to ``path`` (atomically: temp file, then rename).

    The graph's inputs and output are named by ``IO_SPECS`` for the model's
    architecture; all are float32 (batch, channels, height, width) with batch,
    height and width dynamic.
    """
    model, info = load_model(model_name, weights_dir)
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
            examples = tuple(torch.from_numpy(x) for x in spec.examples(96, 160))
            torch.onnx.export(
                model, examples, tmp, input_names=names, output_names=[spec.output[0]],
                dynamic_axes=axes, opset_version=opset, dynamo=False,
            )
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
