"""Shipped models: names, weights files, checksums, loading.

Weights are safetensors files in ``engines/weights`` with a model card each
(``<name>.md``) and a line in ``manifest.json`` holding their sha256, which is
verified at every load: a truncated download or a stray edit fails loudly
instead of producing subtly wrong pictures. ``tools/train.py`` writes all three.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from engines.errors import ModelNotAvailableError, WeightsChecksumError

if TYPE_CHECKING:  # torch is imported only when a model is built: the ONNX Runtime path runs without it
    import torch

    from engines.models.curve_net import CurveNet

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MANIFEST_NAME = "manifest.json"
MODEL_NAMES = ("fast", "quality")
_NOT_YET = {"quality": "the 'quality' model is not available yet (it arrives with the noise/detail work); use --model fast"}


@dataclass(frozen=True)
class ModelInfo:
    """What a loaded model is: name, file, checksum and architecture settings."""

    name: str
    path: Path
    sha256: str
    width: int
    iterations: int


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest(weights_dir: Path) -> dict[str, dict[str, str]]:
    path = weights_dir / MANIFEST_NAME
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def model_info(name: str, weights_dir: Path = WEIGHTS_DIR) -> ModelInfo:
    """Look a model up and verify its weights' checksum (no torch model built)."""
    if name in _NOT_YET:
        raise ModelNotAvailableError(_NOT_YET[name])
    entry = _manifest(weights_dir).get(name)
    if entry is None:
        raise ModelNotAvailableError(f"unknown model {name!r}; available: fast")
    path = weights_dir / entry["file"]
    if not path.exists():
        raise ModelNotAvailableError(f"weights for model {name!r} are missing: {path}")
    actual = file_sha256(path)
    if actual != entry["sha256"]:
        raise WeightsChecksumError(
            f"weights {path.name} fail their checksum (expected {entry['sha256'][:12]}…, got {actual[:12]}…); reinstall nocturne"
        )
    return ModelInfo(name, path, actual, int(entry["width"]), int(entry["iterations"]))


def load_model(name: str, weights_dir: Path = WEIGHTS_DIR) -> tuple["CurveNet", ModelInfo]:
    """Build the network for ``name`` and load its verified weights (eval mode, CPU)."""
    from safetensors.torch import load_file

    from engines.models.curve_net import CurveNet

    info = model_info(name, weights_dir)
    model = CurveNet(width=info.width)
    model.load_state_dict(load_file(str(info.path)))
    return model.eval(), info


def save_model(name: str, model: "CurveNet", iterations: int, weights_dir: Path = WEIGHTS_DIR) -> ModelInfo:
    """Write weights as safetensors and record their checksum in the manifest (training only)."""
    from safetensors.torch import save_file

    weights_dir.mkdir(parents=True, exist_ok=True)
    path = weights_dir / f"{name}.safetensors"
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={"architecture": "CurveNet", "width": str(model.width),
                                          "iterations": str(iterations)})
    manifest = _manifest(weights_dir)
    manifest[name] = {"file": path.name, "sha256": file_sha256(path), "width": str(model.width),
                      "iterations": str(iterations)}
    (weights_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return model_info(name, weights_dir)


def parameter_count(model: "torch.nn.Module") -> int:
    return sum(p.numel() for p in model.parameters())
