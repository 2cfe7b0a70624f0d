import numpy as np
import onnxruntime
import pytest
import torch

from engines.errors import BackendUnavailableError
from engines.export import export_onnx
from engines.registry import load_model
from engines.runtimes import OnnxRuntime, TorchRuntime, select_runtime


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NOCTURNE_CACHE", str(tmp_path / "cache"))


def test_auto_on_a_cpu_machine_prefers_onnxruntime_and_says_why(monkeypatch):
    monkeypatch.setattr("engines.runtimes.cuda_available", lambda: False)
    choice = select_runtime("auto", "auto")
    assert isinstance(choice.runtime, OnnxRuntime)
    assert any("no CUDA" in note for note in choice.fallbacks)
    assert "onnxruntime (cpu)" in choice.describe()


def test_auto_falls_back_to_torch_without_onnxruntime(monkeypatch):
    monkeypatch.setattr("engines.runtimes.cuda_available", lambda: False)
    monkeypatch.setattr("engines.runtimes.onnxruntime_providers", lambda: [])
    choice = select_runtime("auto", "cpu")
    assert choice.runtime == TorchRuntime("cpu", 1)
    assert any("onnxruntime not installed" in note for note in choice.fallbacks)


def test_cuda_request_without_cuda_is_a_clear_error(monkeypatch):
    monkeypatch.setattr("engines.runtimes.cuda_available", lambda: False)
    with pytest.raises(BackendUnavailableError, match="no CUDA device"):
        select_runtime("torch", "cuda")


def test_onnx_export_matches_torch_at_several_sizes(tmp_path):
    path = export_onnx("fast", tmp_path / "fast.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    model, _ = load_model("fast")
    rng = np.random.default_rng(0)
    for shape in [(1, 3, 90, 160), (2, 3, 45, 81), (1, 3, 160, 120)]:
        x = rng.random(shape, dtype=np.float32)
        ours = session.run(None, {"rgb": x})[0]
        with torch.inference_mode():
            reference = model(torch.from_numpy(x)).numpy()
        assert ours.shape == (shape[0], 1, *shape[2:])
        assert np.abs(ours - reference).max() <= 1e-3


def test_estimators_agree_through_the_runtime_interface():
    x = np.random.default_rng(1).random((1, 3, 36, 64), dtype=np.float32)
    onnx_out = OnnxRuntime().open("fast")(x)
    torch_out = TorchRuntime("cpu").open("fast")(x)
    assert np.abs(onnx_out - torch_out).max() <= 1e-3


def test_quality_onnx_export_matches_torch_at_several_sizes(tmp_path):
    path = export_onnx("quality", tmp_path / "quality.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["rgb", "denoise"]
    assert [o.name for o in session.get_outputs()] == ["restored"]
    model, _ = load_model("quality")
    rng = np.random.default_rng(3)
    for shape in [(1, 3, 64, 96), (2, 3, 40, 56), (1, 3, 120, 80)]:
        x = rng.random(shape, dtype=np.float32) * np.float32(0.3)          # dark, as the model's input is
        denoise = rng.random((shape[0], 1, 1, 1), dtype=np.float32) * np.ones((1, 1, *shape[2:]), np.float32)
        ours = session.run(None, {"rgb": x, "denoise": denoise})[0]
        with torch.inference_mode():
            reference = model(torch.from_numpy(x), torch.from_numpy(denoise)).numpy()
        assert ours.shape == shape
        difference = np.abs(ours - reference).max()
        assert difference <= 1e-3, (shape, difference)


def test_quality_estimators_agree_through_the_runtime_interface():
    rng = np.random.default_rng(4)
    x = rng.random((1, 3, 48, 64), dtype=np.float32) * np.float32(0.2)
    denoise = np.full((1, 1, 48, 64), 0.7, np.float32)
    onnx = OnnxRuntime().open("quality")
    assert onnx.info.architecture == "RestoreNet" and onnx.input_names == ["rgb", "denoise"]
    onnx_out = onnx(x, denoise)
    torch_out = TorchRuntime("cpu").open("quality")(x, denoise)
    assert onnx_out.shape == torch_out.shape == (1, 3, 48, 64)
    assert np.abs(onnx_out - torch_out).max() <= 1e-3
    # The denoise input reaches the network: another strength, another picture.
    assert np.abs(onnx(x, np.zeros_like(denoise)) - onnx_out).max() > 1e-4


def test_highlights_estimators_agree_and_keep_unweighted_pixels():
    rng = np.random.default_rng(6)
    current, fill = rng.random((2, 1, 3, 37, 53), dtype=np.float32)     # any size: no multiple needed
    weight = np.zeros((1, 1, 37, 53), np.float32)
    weight[..., 10:30, 5:40] = rng.random((20, 35), dtype=np.float32)
    onnx = OnnxRuntime().open("highlights")
    assert onnx.input_names == ["current", "fill", "weight"]
    onnx_out = onnx(current, fill, weight)
    torch_out = TorchRuntime("cpu").open("highlights")(current, fill, weight)
    assert onnx_out.shape == torch_out.shape == current.shape
    assert np.abs(onnx_out - torch_out).max() <= 1e-4
    outside = np.broadcast_to(weight == 0, current.shape)
    assert np.array_equal(torch_out[outside], current[outside])


@pytest.mark.needs_cuda
def test_torch_cuda_estimator_matches_cpu():
    x = np.random.default_rng(2).random((1, 3, 90, 160), dtype=np.float32)
    gpu = TorchRuntime("cuda").open("fast")(x)           # fp16 on the GPU
    cpu = TorchRuntime("cpu").open("fast")(x)
    assert np.abs(gpu - cpu).max() <= 2e-2


@pytest.mark.needs_cuda
def test_torch_cuda_quality_estimator_matches_cpu():
    rng = np.random.default_rng(5)
    x = rng.random((2, 3, 64, 96), dtype=np.float32) * np.float32(0.2)
    denoise = np.full((2, 1, 64, 96), 0.5, np.float32)
    gpu = TorchRuntime("cuda").open("quality")(x, denoise)     # fp16 on the GPU
    cpu = TorchRuntime("cpu").open("quality")(x, denoise)
    assert gpu.shape == cpu.shape == x.shape and np.isfinite(gpu).all()
    assert np.abs(gpu - cpu).max() <= 2e-2


def test_both_runtimes_open_models_from_another_weights_dir(tmp_path):
    """Evaluation and ablations open their own weights on either runtime (ONNX Runtime once refused the folder)."""
    from engines.highlights.network import open_fusion
    from engines.models.fusion_net import FusionNet
    from engines.registry import save_model

    torch.manual_seed(0)
    untrained = FusionNet(width=8)
    for parameter in untrained.parameters():          # far from the shipped weights, so a mix-up shows
        parameter.data.uniform_(-0.5, 0.5)
    save_model("highlights", untrained, "FusionNet", {"width": 8}, tmp_path / "weights")
    rng = np.random.default_rng(7)
    current, fill = rng.random((2, 1, 3, 24, 32), dtype=np.float32)
    weight = np.full((1, 1, 24, 32), 0.8, np.float32)
    theirs = TorchRuntime("cpu").open("highlights", tmp_path / "weights")(current, fill, weight)
    ours = OnnxRuntime().open("highlights", tmp_path / "weights")(current, fill, weight)
    shipped = OnnxRuntime().open("highlights")(current, fill, weight)
    assert np.abs(ours - theirs).max() <= 1e-4
    assert np.abs(ours - shipped).max() > 1e-2
    fused = open_fusion(OnnxRuntime(), tmp_path / "weights")(current[0].transpose(1, 2, 0),
                                                            fill[0].transpose(1, 2, 0), weight[0, 0])
    assert np.allclose(fused, np.clip(ours[0].transpose(1, 2, 0), 0, 1), atol=1e-6)
