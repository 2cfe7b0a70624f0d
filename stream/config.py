"""Run configuration: YAML → typed models (pydantic) → constructor arguments.

Precedence: built-in defaults < ``--config FILE.yaml`` < command-line options.
A bad file or value is a ``UsageError`` with one line naming the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

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


class OfflineConfig(_Strict):
    """Settings of ``nocturne enhance``."""

    enhance: EnhanceSection = EnhanceSection()
    highlights: HighlightsSection = HighlightsSection()
    encode: EncodeSection = EncodeSection()
    runtime: RuntimeSection = RuntimeSection()
    fps: float | None = Field(None, gt=0, le=1000, allow_inf_nan=False)
    queue_size: int = Field(8, ge=1, le=256)


def load_config(path: Path | None, overrides: dict[str, Any] | None = None) -> OfflineConfig:
    """Read ``path`` (optional) and apply dotted ``overrides`` ({"encode.crf": 18}); None values are ignored."""
    data: dict[str, Any] = {}
    if path is not None:
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
        data = loaded or {}
    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    try:
        return OfflineConfig.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        source = f"config {path}" if path else "options"
        raise UsageError(f"{source}: {where}: {first['msg']}") from error


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]
