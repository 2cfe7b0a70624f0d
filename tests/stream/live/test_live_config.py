"""``nocturne live`` configuration: cameras inherit the file's sections, their own win, the CLI wins last."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream.config import load_live_config
from stream.errors import UsageError

CONFIGS = Path(__file__).resolve().parents[3] / "configs"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "live.yaml"
    path.write_text(text)
    return path


def test_cameras_inherit_and_override(tmp_path):
    path = write(tmp_path, """
enhance: {model: fast, denoise: 0.3}
live: {fps: 20, reconnect: {max_s: 2}}
metrics: 127.0.0.1:9108
cameras:
  - name: gate
    source: rtsp://cam1/stream
    outputs: [gate.mp4]
  - name: yard
    source: test://night
    outputs: [null://]
    enhance: {denoise: 0.9}
    live: {on_signal_loss: repeat}
""")
    config = load_live_config(path, overrides={"enhance.strength": 0.7})
    gate, yard = config.cameras
    assert (gate.enhance.denoise, yard.enhance.denoise) == (0.3, 0.9)
    assert gate.enhance.strength == yard.enhance.strength == 0.7
    assert yard.live.fps == 20 and yard.live.reconnect.max_s == 2 and yard.live.on_signal_loss == "repeat"
    assert gate.live.on_signal_loss == "no_signal"
    assert config.metrics == "127.0.0.1:9108"


def test_single_source_from_the_command_line():
    config = load_live_config(None, source="test://night", outputs=["a.mp4", "preview://:8080"],
                              overrides={"name": "door", "live.fps": 10})
    (camera,) = config.cameras
    assert (camera.name, camera.outputs, camera.live.fps) == ("door", ["a.mp4", "preview://:8080"], 10)


@pytest.mark.parametrize("text, source, message", [
    ("cameras: [{source: test://, outputs: [null://]}]", "test://", "not both"),
    ("enhance: {model: fast}", None, "no camera"),
    ("cameras: [{source: test://, outputs: []}]", None, "outputs"),
    ("cameras: [{source: a, outputs: [null://]}, {source: b, outputs: [null://], name: cam0}]", None, "names must differ"),
    ("cameras: [{source: test://, outputs: [null://], live: {on_signal_loss: black}}]", None, "on_signal_loss"),
    ("cameras: [{source: test://, outputs: [null://], name: 'a b'}]", None, "name"),
    ("metrics: nine\ncameras: [{source: test://, outputs: [null://]}]", None, "metrics"),
])
def test_mistakes_are_one_line(tmp_path, text, source, message):
    with pytest.raises(UsageError, match=message) as caught:
        load_live_config(write(tmp_path, text), source=source)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("name", ["security-rtsp.yaml", "dashcam.yaml"])
def test_shipped_configs_load(name):
    config = load_live_config(CONFIGS / name)
    assert config.cameras and all(camera.outputs for camera in config.cameras)


def test_merging_camera_sections_leaves_the_shared_defaults_alone():
    from stream.config import _deep_merge

    defaults = {"live": {"reconnect": {"max_s": 2}}}
    merged = _deep_merge(defaults, {"name": "yard"})                  # a camera without a live section
    merged["live"]["reconnect"]["max_s"] = 9             # what applying a camera's overrides does
    assert defaults == {"live": {"reconnect": {"max_s": 2}}}
