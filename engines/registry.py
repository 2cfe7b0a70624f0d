"""Shipped models: names, weights files, checksums, loading.

Weights are safetensors files in ``engines/weights`` with a model card each
(``<name>.md``) and a line in ``manifest.json`` holding their sha256, which is
verified at every load: a truncated download or a stray edit fails loudly
instead of producing subtly wrong pictures. ``tools/train.py`` writes all three.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from typing import TYPE_CHECKING, Any

from engines.errors import ModelNotAvailableError, WeightsChecksumError

if TYPE_CHECKING:  # torch is imported only when a model is built: the ONNX Runtime path runs without it
    import torch

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MANIFEST_NAME = "manifest.json"
MODEL_NAMES = ("fast", "quality", "highlights")
_SOURCES = {"CurveNet": "curve_net.py", "RestoreNet": "restore_net.py", "FusionNet": "fusion_net.py"}  # engines/models
ARCHITECTURES = tuple(_SOURCES)


@dataclass(frozen=True)
class ModelInfo:
    """What a shipped model is: name, file, checksum, architecture and its settings.

    ``settings`` holds the constructor arguments of the architecture
    (CurveNet: ``width``, plus the curve ``iterations`` it was trained with;
    RestoreNet: ``widths``; FusionNet: ``width``), as JSON values.
    """

    name: str
    path: Path
    sha256: str
    architecture: str
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def iterations(self) -> int:
        """Curve iterations (CurveNet only)."""
        return int(self.settings["iterations"])


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest(weights_dir: Path) -> dict[str, dict[str, Any]]:
    path = weights_dir / MANIFEST_NAME
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def model_info(name: str, weights_dir: Path = WEIGHTS_DIR) -> ModelInfo:
    """Look a model up and verify its weights' checksum (no torch model built)."""
    manifest = _manifest(weights_dir)
    entry = manifest.get(name)
    if entry is None:
        raise ModelNotAvailableError(f"unknown model {name!r}; available: {', '.join(sorted(manifest)) or 'none'}")
    path = weights_dir / entry["file"]
    if not path.exists():
        raise ModelNotAvailableError(f"weights for model {name!r} are missing: {path}")
    actual = file_sha256(path)
    if actual != entry["sha256"]:
        raise WeightsChecksumError(
            f"weights {path.name} fail their checksum (expected {entry['sha256'][:12]}…, got {actual[:12]}…); reinstall nocturne"
        )
    if "architecture" not in entry:
        raise ModelNotAvailableError(f"manifest entry for {name!r} in {weights_dir} predates architectures; "
                                     "retrain it with this version of tools/train.py")
    return ModelInfo(name, path, actual, entry["architecture"], dict(entry.get("settings", {})))


def fingerprint(info: ModelInfo) -> str:
    """16 hex digits naming weights *and* the code that runs them (derived files, e.g. ONNX, are keyed by it).

    The weights' sha256 alone would let a cached export outlive a change to the network's forward code.
    """
    source = Path(__file__).resolve().parent / "models" / _SOURCES.get(info.architecture, "")
    digest = hashlib.sha256(info.sha256.encode())
    if source.is_file():
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def build_network(architecture: str, settings: dict[str, Any]) -> "torch.nn.Module":
    """An untrained network of ``architecture`` with ``settings`` (torch imported here)."""
    try:
        if architecture == "CurveNet":
            from engines.models.curve_net import CurveNet

            return CurveNet(width=int(settings["width"]))
        if architecture == "RestoreNet":
            from engines.models.restore_net import RestoreNet

            return RestoreNet(widths=tuple(int(w) for w in settings["widths"]))
        if architecture == "FusionNet":
            from engines.models.fusion_net import FusionNet

            return FusionNet(width=int(settings["width"]))
    except (KeyError, TypeError, ValueError) as error:
        raise ModelNotAvailableError(f"bad settings for {architecture}: {settings} ({error})") from None
    raise ModelNotAvailableError(f"unknown architecture {architecture!r}; expected one of {', '.join(ARCHITECTURES)}")


def load_model(name: str, weights_dir: Path = WEIGHTS_DIR) -> tuple["torch.nn.Module", ModelInfo]:
    """Build the network for ``name`` and load its verified weights (eval mode, CPU)."""
    from safetensors.torch import load_file

    info = model_info(name, weights_dir)
    model = build_network(info.architecture, info.settings)
    model.load_state_dict(load_file(str(info.path)))
    return model.eval(), info


def save_model(name: str, model: "torch.nn.Module", architecture: str, settings: dict[str, Any],
               weights_dir: Path = WEIGHTS_DIR) -> ModelInfo:
    """Write weights as safetensors and record their checksum and settings in the manifest (training only)."""
    from safetensors.torch import save_file

    weights_dir.mkdir(parents=True, exist_ok=True)
    path = weights_dir / f"{name}.safetensors"
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={"architecture": architecture, "settings": json.dumps(settings)})
    manifest = _manifest(weights_dir)
    manifest[name] = {"file": path.name, "sha256": file_sha256(path), "architecture": architecture,
                      "settings": settings}
    (weights_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return model_info(name, weights_dir)


def parameter_count(model: "torch.nn.Module") -> int:
    return sum(p.numel() for p in model.parameters())
