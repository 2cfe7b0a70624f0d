"""``nocturne doctor``: what this machine offers nocturne, and what it lacks."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil

import av
from rich.console import Console
from rich.table import Table

from stream.pyav_compat import tested_range, untested_pyav_warning

ENCODERS = ("libx264", "libx265", "h264_nvenc", "hevc_nvenc")
DECODERS = ("h264", "hevc", "h264_cuvid", "hevc_cuvid")


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def pyav_range_note() -> str:
    """Where the installed PyAV stands against the range nocturne is tested with (``pyproject.toml``)."""
    tested = tested_range()
    if tested is None:
        return "tested range unknown"
    return f"tested: {tested}" if untested_pyav_warning() is None else f"OUTSIDE the tested range {tested}"


def gather() -> dict[str, list[tuple[str, str]]]:
    """Sections of (name, value) rows; importable for tests and bug reports."""
    import torch

    from engines.registry import model_info
    from engines.runtimes import onnxruntime_providers, select_runtime

    versions = [("python", platform.python_version()), ("nocturne", _version("nocturne")),
                ("torch", torch.__version__), ("onnxruntime", _version("onnxruntime")),
                ("av (PyAV)", f"{av.__version__} (FFmpeg {av.ffmpeg_version_info}), {pyav_range_note()}"),
                ("opencv", _version("opencv-python-headless")), ("numpy", _version("numpy")),
                ("tensorrt", _version("tensorrt")), ("ffmpeg binary", shutil.which("ffmpeg") or "not found")]
    devices = [("cpu", f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            devices.append((f"cuda:{i}", f"{props.name}, {props.total_memory / 2**30:.0f} GiB, sm_{props.major}{props.minor}"))
    else:
        devices.append(("cuda", "not available (" + ("CPU build of torch" if torch.version.cuda is None else "no GPU/driver") + ")"))
    backends = [("torch", "cpu" + (", cuda" if torch.cuda.is_available() else "")),
                ("onnxruntime", ", ".join(onnxruntime_providers()) or "not installed"),
                ("tensorrt", "not installed" if _version("tensorrt") == "not installed" else "installed")]
    try:
        backends.append(("auto picks", select_runtime().describe()))
    except Exception as error:  # noqa: BLE001 — doctor reports, never fails
        backends.append(("auto picks", f"nothing usable: {error}"))
    # "built in" is not "usable": H100/H200/A100 have NVENC compiled in but no encoder unit.
    codecs = [(name, "built in" if name in av.codecs_available else "absent") for name in ENCODERS + DECODERS]
    models = []
    for name in ("fast", "quality"):
        try:
            info = model_info(name)
            models.append((name, f"{info.path.name} sha256 {info.sha256[:12]}… verified"))
        except Exception as error:  # noqa: BLE001
            models.append((name, str(error)))
    return {"versions": versions, "devices": devices, "backends": backends, "codecs": codecs, "models": models}


def print_report(console: Console) -> None:
    warning = untested_pyav_warning()
    if warning:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    for section, rows in gather().items():
        table = Table(title=section, title_justify="left", show_header=False, box=None, pad_edge=False)
        table.add_column(style="bold")
        table.add_column()
        for name, value in rows:
            table.add_row(name, value)
        console.print(table)
        console.print()
