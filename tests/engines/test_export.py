"""``export_onnx`` directly: the graph's contract (``IO_SPECS``), agreement with torch, atomic writes, errors."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from engines.errors import ModelNotAvailableError
from engines.export import export_onnx
from engines.io_specs import IO_SPECS, OPSET
from engines.registry import MODEL_NAMES, load_model

FLOAT = onnx.TensorProto.FLOAT
# Smaller than the export's example (96x160) and of another batch, so the dynamic axes are used;
# multiples of 8 for RestoreNet.
BATCH, HEIGHT, WIDTH = 2, 24, 40


def dims(value: onnx.ValueInfoProto) -> list[str | int]:
    """A graph tensor's shape as ONNX states it: names for dynamic axes, numbers for fixed ones."""
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_the_graph_has_the_architectures_inputs_and_output_with_dynamic_batch_and_size(tmp_path, name):
    path = export_onnx(name, tmp_path / "nested" / f"{name}.onnx")          # the folder is made
    assert path == tmp_path / "nested" / f"{name}.onnx"
    assert sorted(p.name for p in path.parent.iterdir()) == [f"{name}.onnx"]    # no temporary file left
    graph_model = onnx.load(str(path))
    onnx.checker.check_model(graph_model)
    spec = IO_SPECS[load_model(name)[1].architecture]
    graph = graph_model.graph
    assert [(i.name, dims(i)) for i in graph.input] == [(n, ["batch", c, "height", "width"]) for n, c in spec.inputs]
    assert [(o.name, dims(o)) for o in graph.output] == [(spec.output[0], ["batch", spec.output[1], "height", "width"])]
    assert all(v.type.tensor_type.elem_type == FLOAT for v in [*graph.input, *graph.output])
    assert [op.version for op in graph_model.opset_import if op.domain in ("", "ai.onnx")] == [OPSET]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_onnxruntime_agrees_with_torch_at_another_size(tmp_path, name):
    path = export_onnx(name, tmp_path / f"{name}.onnx")
    model, info = load_model(name)
    spec = IO_SPECS[info.architecture]
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(5)
    inputs = {n: rng.random((BATCH, c, HEIGHT, WIDTH), np.float32) for n, c in spec.inputs}
    ours = session.run(None, inputs)[0]
    with torch.inference_mode():
        reference = model(*(torch.from_numpy(x) for x in inputs.values())).numpy()
    assert reference.shape == (BATCH, spec.output[1], HEIGHT, WIDTH)
    assert ours.shape == reference.shape
    assert np.abs(ours - reference).max() <= 1e-4
    assert np.abs(reference).max() > 1e-3                      # a real output, not zeros agreeing with zeros


def test_an_unknown_model_is_the_engines_error_and_writes_nothing(tmp_path):
    with pytest.raises(ModelNotAvailableError, match="unknown model 'sharp'") as caught:
        export_onnx("sharp", tmp_path / "sharp.onnx")
    assert isinstance(caught.value, LookupError) and caught.value.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_a_failed_export_keeps_the_old_file_and_leaves_no_temporary_one(tmp_path, monkeypatch):
    target = tmp_path / "fast.onnx"
    target.write_bytes(b"the previous export")

    def fail(*args, **kwargs):
        with open(args[2], "wb") as partial:                  # what an export that dies half-way leaves
            partial.write(b"half a graph")
        raise RuntimeError("exporter crashed")

    monkeypatch.setattr(torch.onnx, "export", fail)
    with pytest.raises(RuntimeError, match="exporter crashed"):
        export_onnx("fast", target)
    assert [p.name for p in tmp_path.iterdir()] == ["fast.onnx"]
    assert target.read_bytes() == b"the previous export"
