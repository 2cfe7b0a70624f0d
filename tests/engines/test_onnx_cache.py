"""engines.onnx_cache: one file per model fingerprint, exported once; a read-only cache falls back to /tmp."""

from __future__ import annotations

import logging
import tempfile

import onnxruntime

from engines.onnx_cache import cache_dir, onnx_file
from engines.io_specs import OPSET
from engines.registry import fingerprint, model_info


def test_exported_once_then_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("NOCTURNE_CACHE", str(tmp_path))
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))     # no fallback of other runs
    info = model_info("fast")
    path = onnx_file(info)
    assert path == tmp_path / "onnx" / f"fast-{fingerprint(info)}-opset{OPSET}.onnx" and cache_dir() == tmp_path
    assert [i.name for i in onnxruntime.InferenceSession(str(path)).get_inputs()] == ["rgb"]
    stamp = path.stat().st_mtime_ns
    monkeypatch.setattr("engines.export.export_onnx", lambda *a, **k: (_ for _ in ()).throw(AssertionError("re-export")))
    assert onnx_file(info) == path and path.stat().st_mtime_ns == stamp


def test_read_only_cache_falls_back_to_a_private_temp_folder(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("NOCTURNE_CACHE", "/proc/nocturne-cannot-write-here")
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    with caplog.at_level(logging.WARNING):
        path = onnx_file(model_info("fast"))
    assert path.is_file() and path.is_relative_to(tmp_path)
    assert any("not writable" in record.getMessage() for record in caplog.records)
    monkeypatch.setattr("engines.export.export_onnx", lambda *a, **k: (_ for _ in ()).throw(AssertionError("re-export")))
    assert onnx_file(model_info("fast")) == path                   # the fallback is found again, not re-exported
