"""Run configuration: YAML → typed models (pydantic) → constructor arguments.

Precedence: built-in defaults < ``--config FILE.yaml`` < command-line options.
A bad file or value is a ``UsageError`` with one line naming the field.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engines.spec import EnhancerSpec, HighlightSpec
from stream.errors import UsageError

X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EnhanceSection(_Strict):
    model: Literal["fast", "quality", "none"] = "fast"
    strength: float = Field(1.0, ge=0.0, le=1.0, allow_inf_nan=False)
    smoothing_s: float = Field(0.2, ge=0.0, le=10.0, description="time constant of the curves' temporal average")
    estimate_every: int = Field(2, ge=1, le=30, description="run the curve network on every n-th frame")
    denoise: float = Field(0.5, ge=0.0, le=1.0, allow_inf_nan=False,
                           description="0 keeps every grain … 1 removes noise fully")
    temporal: bool = Field(True, description="motion-compensated temporal denoising on video (strength = denoise)")


class HighlightsSection(_Strict):
    """Blown highlights recovered from an adaptively chosen past frame (``engines.highlights``)."""

    enabled: bool = Field(False, description="recover clipped highlights (--recover-highlights)")
    buffer: int = Field(12, ge=2, le=64, description="K: past frames kept as candidates (thumbnails)")
    full_frames: int = Field(3, ge=1, le=16, description="candidates that keep their full picture")
    fusion: Literal["classical", "network"] = Field(
        "classical", description="classical: exposure-matched feathered transfer; network: the trained fusion "
                                 "net (measured no better, 3-6x the cost on a CPU; see its model card)")


class EncodeSection(_Strict):
    codec: Literal["h264", "hevc"] = "h264"
    crf: int = Field(20, ge=0, le=51)
    preset: Literal[X264_PRESETS] = "veryfast"  # type: ignore[valid-type]
    pix_fmt: Literal["yuv420p", "yuv420p10le"] = "yuv420p"
    fragmented: bool = False


class RuntimeSection(_Strict):
    backend: Literal["auto", "torch", "onnxruntime"] = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int = Field(1, ge=1, le=256, description="intra-op threads of the model runtime")


class ModelSettings(_Strict):
    """What decides how pixels change: the sections ``pipeline.make_enhancer`` reads."""

    enhance: EnhanceSection = EnhanceSection()
    highlights: HighlightsSection = HighlightsSection()
    runtime: RuntimeSection = RuntimeSection()

    def enhancer_spec(self) -> EnhancerSpec:
        """The ``engines`` spec these sections ask for (``engines.build`` decides what it means).

        The sections' fields are the spec's by name; ``highlights.enabled`` becomes the spec's
        highlights being there or not.
        """
        highlights = self.highlights.model_dump(exclude={"enabled"})
        return EnhancerSpec(**self.enhance.model_dump(),
                            highlights=HighlightSpec(**highlights) if self.highlights.enabled else None)


class OfflineConfig(ModelSettings):
    """Settings of ``nocturne enhance``."""

    encode: EncodeSection = EncodeSection()
    fps: float | None = Field(None, gt=0, le=1000, allow_inf_nan=False)
    queue_size: int = Field(8, ge=1, le=256)


class ReconnectSection(_Strict):
    """Capped exponential backoff between attempts to reach a camera (or an RTSP server we publish to)."""

    initial_s: float = Field(0.25, gt=0.0, le=60.0, description="first wait after a failure")
    # The cap bounds how late a returning camera is noticed: 0.5 s plus a ~0.2 s reconnect stays well
    # inside the 2 s promise on a loaded machine, at the price of two refused connections a second.
    max_s: float = Field(0.5, gt=0.0, le=300.0, description="cap of the doubling waits")
    give_up_after_s: float | None = Field(
        None, gt=0.0, description="stop trying after this long without a frame (null: never)")


class LiveSection(_Strict):
    """Live policy of one camera (``nocturne live``)."""

    fps: float | None = Field(None, gt=0, le=240, allow_inf_nan=False,
                              description="output rate on the wall clock; null: the source's nominal rate (25 if unknown)")
    on_signal_loss: Literal["repeat", "no_signal"] = Field(
        "no_signal", description="what outputs show while the camera is away: its last frame, or a 'no signal' frame")
    signal_loss_after_s: float = Field(1.0, ge=0.0, le=60.0,
                                       description="the last frame is repeated this long before the loss is shown")
    rtsp_transport: Literal["tcp", "udp"] = "tcp"
    timeout_s: float = Field(5.0, gt=0.0, le=120.0, description="opening a source, and the longest silence of a read")
    realtime: bool = Field(True, description="files and test patterns are played at their own pace")
    keyint_s: float = Field(1.0, gt=0.0, le=10.0,
                            description="keyframe interval of live encodes: a crash or a new viewer waits at most this")
    segment_s: float | None = Field(None, ge=2.0, description="recordings: a new file every this many seconds")
    queue_size: int = Field(2, ge=1, le=64, description="frames a stage may hold before the oldest is dropped")
    reconnect: ReconnectSection = ReconnectSection()


class CameraConfig(ModelSettings):
    """One camera of ``nocturne live``: its source, its outputs and its own settings."""

    name: str = Field("cam0", pattern=r"^[A-Za-z0-9_.-]{1,64}$",
                      description="label in logs and metrics (never the URL, which may hold credentials)")
    source: str
    outputs: list[str] = Field(min_length=1)
    encode: EncodeSection = EncodeSection()     # recordings of live runs are always fragmented
    live: LiveSection = LiveSection()


class LiveConfig(_Strict):
    """Settings of ``nocturne live``: the cameras, and the process-wide metrics endpoint."""

    cameras: list[CameraConfig] = Field(min_length=1)
    metrics: str | None = Field(None, pattern=r"^[^:\s]*:\d{1,5}$",
                                description="HOST:PORT of the Prometheus endpoint (null: none)")


# Keys of a live config file that every camera inherits (a camera's own entry wins).
_CAMERA_DEFAULTS = ("enhance", "highlights", "runtime", "encode", "live")
_LIVE_ONLY = ("cameras", "live", "metrics")         # what ``nocturne enhance`` ignores in a shared file


def load_config(path: Path | None, overrides: dict[str, Any] | None = None) -> OfflineConfig:
    """Read ``path`` (optional) and apply dotted ``overrides`` ({"encode.crf": 18}); None values are ignored."""
    data = _read_yaml(path) if path is not None else {}
    for key in _LIVE_ONLY:          # one file may serve both commands (configs/dashcam.yaml does)
        data.pop(key, None)
    _apply(data, overrides)
    return _validate(OfflineConfig, data, f"config {path}" if path else "options")


def load_live_config(path: Path | None, source: str | None = None, outputs: list[str] | None = None,
                     overrides: dict[str, Any] | None = None, metrics: str | None = None) -> LiveConfig:
    """The cameras of ``nocturne live``: from ``path``'s ``cameras:`` list, or one camera from ``source``.

    Top-level sections of the file are every camera's defaults, a camera's own
    sections win over them, and command-line ``overrides`` win over both.
    ``outputs`` given on the command line replace a single camera's.
    """
    data = _read_yaml(path) if path is not None else {}
    where = f"config {path}" if path else "options"
    cameras = data.pop("cameras", None)
    if source is not None and cameras:
        raise UsageError(f"{where}: give a SOURCE or a config with cameras:, not both")
    if source is not None:
        cameras = [{"source": source}]
    if not cameras:
        raise UsageError("no camera: give a SOURCE, or a config with a cameras: list")
    if not isinstance(cameras, list) or not all(isinstance(c, dict) for c in cameras):
        raise UsageError(f"{where}: cameras: expected a list of mappings")
    defaults = {key: data.pop(key) for key in _CAMERA_DEFAULTS if key in data}
    merged = []
    for index, camera in enumerate(cameras):
        entry = _deep_merge(defaults, camera)
        entry.setdefault("name", f"cam{index}")
        if outputs:
            if len(cameras) > 1:
                raise UsageError("--out applies to one camera; a config with several names each camera's outputs")
            entry["outputs"] = list(outputs)
        _apply(entry, overrides)
        merged.append(entry)
    data["cameras"] = merged
    if metrics is not None:
        data["metrics"] = metrics
    config = _validate(LiveConfig, data, where)
    names = [camera.name for camera in config.cameras]
    if len(set(names)) != len(names):
        raise UsageError(f"{where}: camera names must differ (they label logs and metrics): {', '.join(names)}")
    return config


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError as error:
        raise UsageError(f"config file not found: {path}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"config {path}: cannot be read as text ({getattr(error, 'strerror', None) or error})") from error
    except yaml.YAMLError as error:
        raise UsageError(f"config {path}: not valid YAML ({_first_line(error)})") from error
    if loaded is not None and not isinstance(loaded, dict):
        raise UsageError(f"config {path}: expected a mapping at the top level")
    return loaded or {}


def _apply(data: dict[str, Any], overrides: dict[str, Any] | None) -> None:
    """Set dotted keys ({"encode.crf": 18}) in ``data``; None values are ignored."""
    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """``top`` over ``base``, mappings merged key by key (copies; neither input changes)."""
    merged = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _validate(model: type[_Strict], data: dict[str, Any], where: str):
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"{where}: {loc}: {first['msg']}") from error


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]
