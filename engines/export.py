"""ONNX export of the curve estimator, with dynamic batch, height and width."""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import torch

from engines.registry import load_model

OPSET = 17
INPUT_NAME = "rgb"
OUTPUT_NAME = "alpha"


def export_onnx(model_name: str, path: Path, opset: int = OPSET) -> Path:
    """Write model ``model_name`` as ONNX to ``path`` (atomically: temp file, then rename).

    Graph: ``rgb`` float32 (batch, 3, height, width) in [0, 1] → ``alpha`` float32
    (batch, 1, height, width) in [-1, 1]; batch, height and width are dynamic.
    """
    model, _ = load_model(model_name)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    example = torch.rand(1, 3, 90, 160)
    dynamic = {0: "batch", 2: "height", 3: "width"}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        with warnings.catch_warnings():
            # The TorchScript-based exporter is deprecated in favour of dynamo, which
            # needs onnxscript; for this small static graph it is exact and instant.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model, (example,), tmp, input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                dynamic_axes={INPUT_NAME: dynamic, OUTPUT_NAME: dynamic}, opset_version=opset, dynamo=False,
            )
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
