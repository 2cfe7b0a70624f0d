"""Runtimes that execute the shipped networks, and the ``auto`` choice between them.

Runtimes are small frozen dataclasses (as vs-mlrt models its backends); ``open``
returns an estimator: a callable taking the network's inputs as numpy arrays
(``engines.io_specs.IO_SPECS`` names them) and returning its output. ``select_runtime`` resolves
``backend``/``device`` requests to one runtime and records every fallback in a
``RuntimeChoice`` that the CLI shows and ``nocturne doctor`` prints.

Heavy libraries (onnxruntime, torch, CUDA) are imported lazily, by the runtime
that uses them: a CPU-only machine without them still imports this module, and
the ONNX Runtime path never loads torch (unless an ONNX file must be exported).
"""

from __future__ import annotations

import glob
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engines.errors import BackendUnavailableError
from engines.io_specs import IO_SPECS
from engines.onnx_cache import onnx_file
from engines.registry import WEIGHTS_DIR, load_model, model_info

BACKENDS = ("auto", "torch", "onnxruntime")
# Device nodes of NVIDIA drivers: desktop/datacentre, Jetson (L4T), WSL2.
_GPU_DEVICE_NODES = ("/dev/nvidia[0-9]*", "/dev/nvhost-*", "/dev/dxg")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class TorchRuntime:
    """Eager torch on ``device`` ("cpu" or "cuda"); fp16 on CUDA."""

    device: str = "cpu"
    threads: int = 1

    @property
    def label(self) -> str:
        return f"torch ({self.device})"

    def open(self, model_name: str, weights_dir: Path | None = None) -> "TorchEstimator":
        """The model's estimator; ``weights_dir`` other than the shipped one is for evaluation and ablations."""
        return TorchEstimator(self, model_name, weights_dir)


@dataclass(frozen=True)
class OnnxRuntime:
    """ONNX Runtime with the given execution providers; the ONNX file is exported once and cached."""

    providers: tuple[str, ...] = ("CPUExecutionProvider",)
    threads: int = 1

    @property
    def label(self) -> str:
        device = "cuda" if "CUDAExecutionProvider" in self.providers else "cpu"
        return f"onnxruntime ({device})"

    def open(self, model_name: str, weights_dir: Path | None = None) -> "OnnxEstimator":
        """The model's estimator; ``weights_dir`` other than the shipped one is for evaluation and ablations."""
        return OnnxEstimator(self, model_name, weights_dir)


Runtime = TorchRuntime | OnnxRuntime


@dataclass
class RuntimeChoice:
    """The runtime picked for a request, and why others were not."""

    runtime: Runtime
    requested_backend: str
    requested_device: str
    fallbacks: list[str] = field(default_factory=list)

    def describe(self) -> str:
        text = self.runtime.label
        if self.fallbacks:
            text += " — " + "; ".join(self.fallbacks)
        return text


def cuda_available() -> bool:
    """Whether torch can use a CUDA device.

    Without NVIDIA device nodes (and torch not yet imported) the answer is no
    without importing torch, which saves a second of start-up on
    the CPU path, where ONNX Runtime needs no torch at all.
    """
    if "torch" not in sys.modules and not any(glob.glob(p) for p in _GPU_DEVICE_NODES):
        return False
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return torch.cuda.is_available()


def onnxruntime_providers() -> list[str]:
    """Execution providers ONNX Runtime offers here ([] when it is not installed)."""
    if importlib.util.find_spec("onnxruntime") is None:
        return []
    import onnxruntime

    return list(onnxruntime.get_available_providers())


def select_runtime(backend: str = "auto", device: str = "auto", threads: int = 1) -> RuntimeChoice:
    """Resolve a backend/device request to a runtime.

    ``auto`` device is CUDA when torch sees a GPU, else CPU. ``auto`` backend is
    torch on CUDA (fp16, the GPU path) and ONNX Runtime on CPU (about twice as
    fast as eager torch for this small net), falling back to torch when ONNX
    Runtime is missing. An explicit request that cannot be met is an error.
    """
    if backend not in BACKENDS:
        raise BackendUnavailableError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if device not in DEVICES:
        raise BackendUnavailableError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    fallbacks: list[str] = []
    if device == "cuda" and not cuda_available():
        raise BackendUnavailableError("--device cuda: torch sees no CUDA device (CPU build of torch, or no GPU/driver)")
    if device == "auto":
        device = "cuda" if cuda_available() else "cpu"
        if device == "cpu":
            fallbacks.append("no CUDA device, using the CPU")
    providers = onnxruntime_providers()
    if backend == "onnxruntime":
        wanted = "CUDAExecutionProvider" if device == "cuda" else "CPUExecutionProvider"
        if wanted not in providers:
            raise BackendUnavailableError(f"--backend onnxruntime: {wanted} is not available "
                                          f"(found: {', '.join(providers) or 'onnxruntime not installed'})")
        chosen: Runtime = OnnxRuntime((wanted,), threads)
    elif backend == "torch" or device == "cuda":
        chosen = TorchRuntime(device, threads)
    elif "CPUExecutionProvider" in providers:
        chosen = OnnxRuntime(("CPUExecutionProvider",), threads)
    else:
        fallbacks.append("onnxruntime not installed, using torch")
        chosen = TorchRuntime("cpu", threads)
    return RuntimeChoice(chosen, backend, device, fallbacks)


class TorchEstimator:
    """A shipped network run by torch; numpy arrays (N, C, H, W) float32 in, one array out."""

    def __init__(self, runtime: TorchRuntime, model_name: str, weights_dir: Path | None = None) -> None:
        import torch

        model, self.info = load_model(model_name, weights_dir or WEIGHTS_DIR)
        self.device = torch.device(runtime.device)
        self.dtype = torch.float16 if self.device.type == "cuda" else torch.float32
        self.model = model.to(self.device, self.dtype)
        if self.device.type == "cpu":
            torch.set_num_threads(max(1, runtime.threads))
        # CUDA context, cuDNN and kernel selection cost a second or more on the first call:
        # pay it at start-up, not inside the first frames of a run.
        self(*IO_SPECS[self.info.architecture].examples(64, 64))

    def __call__(self, *inputs: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            tensors = [torch.from_numpy(np.ascontiguousarray(x)).to(self.device, self.dtype) for x in inputs]
            return self.model(*tensors).float().cpu().numpy()


class OnnxEstimator:
    """A shipped network run by ONNX Runtime from its exported (cached) graph; same call as ``TorchEstimator``."""

    def __init__(self, runtime: OnnxRuntime, model_name: str, weights_dir: Path | None = None) -> None:
        import onnxruntime

        self.info = model_info(model_name, weights_dir or WEIGHTS_DIR)
        path = onnx_file(self.info)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, runtime.threads)
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(path), options, providers=list(runtime.providers))
        self.input_names = [i.name for i in self.session.get_inputs()]

    def __call__(self, *inputs: np.ndarray) -> np.ndarray:
        feeds = {name: np.ascontiguousarray(x, dtype=np.float32) for name, x in zip(self.input_names, inputs)}
        return self.session.run(None, feeds)[0]
