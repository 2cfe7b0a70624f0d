"""Shared test set-up: skip hardware-marked tests cleanly where the hardware is absent."""

from __future__ import annotations

import importlib.util
import shutil

import pytest


def _has_cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except Exception:  # noqa: BLE001 — any failure means no usable CUDA
        return False


def _has_gstreamer() -> bool:
    if importlib.util.find_spec("gi") is None:
        return False
    try:
        import gi

        gi.require_version("Gst", "1.0")
        return True
    except (ImportError, ValueError):
        return False


def _has_browser() -> bool:
    return shutil.which("chromium") is not None and importlib.util.find_spec("playwright") is not None


_AVAILABLE = {
    "needs_cuda": _has_cuda,
    "needs_gstreamer": _has_gstreamer,
    "needs_ffmpeg": lambda: shutil.which("ffmpeg") is not None,
    "needs_browser": _has_browser,
}


def pytest_collection_modifyitems(config, items):
    cache: dict[str, bool] = {}
    for item in items:
        for marker, probe in _AVAILABLE.items():
            if marker in item.keywords:
                if marker not in cache:
                    cache[marker] = probe()
                if not cache[marker]:
                    item.add_marker(pytest.mark.skip(reason=f"{marker}: not available on this machine"))
