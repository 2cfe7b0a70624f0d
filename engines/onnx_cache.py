"""The exported ONNX files kept between runs: where they live, what they are called, when to export.

ONNX Runtime runs a shipped network from its ONNX graph, which torch exports
once (``engines.export``) into ``$NOCTURNE_CACHE/onnx`` (default
``~/.cache/nocturne/onnx``). A file is named by the model, its fingerprint
(weights' checksum and the network's source, ``registry.fingerprint``) and the
opset, so a retrained or edited network gets a new file and a stale one is
never run. Only a missing file needs torch.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from engines.io_specs import OPSET
from engines.registry import ModelInfo, fingerprint

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Where derived artefacts (ONNX files) are kept: $NOCTURNE_CACHE or ~/.cache/nocturne."""
    root = os.environ.get("NOCTURNE_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "nocturne")
    return Path(root)


def onnx_file(info: ModelInfo) -> Path:
    """The ONNX file of the (checksum-verified) model ``info``, exported now if not cached yet
    (from the weights ``info`` names: the shipped ones or another folder's).

    A read-only home (containers, appliances) falls back to a private folder under the
    system's temp directory, with a warning.
    """
    name = f"{info.name}-{fingerprint(info)}-opset{OPSET}.onnx"
    path = cache_dir() / "onnx" / name
    fallback = Path(tempfile.gettempdir()) / f"nocturne-{os.getuid()}" / "onnx" / name
    for cached in (path, fallback):      # a read-only home finds its fallback without trying to export again
        if cached.exists():
            return cached
    # torch is needed only to make the file: imported here, not by the runtime that reads it.
    from engines.export import export_onnx

    weights_dir = info.path.parent
    try:
        return export_onnx(info.name, path, weights_dir=weights_dir)
    except OSError as error:
        log.warning("model cache %s not writable (%s); using %s", path.parent, error.strerror or error, fallback)
        return export_onnx(info.name, fallback, weights_dir=weights_dir)
