"""``--config FILE.yaml``: settings reach the encoder; mistakes name the field in one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import media
from stream.config import OfflineConfig, load_config
from stream.errors import UsageError

# Run presets (configs/train-*.yaml are training options: tests/tools/test_train_quality.py loads those).
CONFIGS = sorted(p for p in (Path(__file__).resolve().parents[2] / "configs").glob("*.yaml")
                 if not p.name.startswith("train-"))


def x264_settings(path: Path) -> dict[str, str]:
    """The settings x264 writes into its SEI message ("crf=33.0 ... subme=0 ...")."""
    data = path.read_bytes()
    found = re.search(rb"x264 - core .*? - options: ([^\x00]*)", data)
    assert found, "no x264 settings message in the output"
    return dict(item.split("=", 1) for item in found.group(1).decode("ascii", "replace").split() if "=" in item)


def write_yaml(folder: Path, text: str, name: str = "settings.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_config_sets_crf_and_preset(cli, clips, out):
    config = write_yaml(out, "encode:\n  crf: 33\n  preset: ultrafast\n")
    target = out / "configured.mp4"
    assert cli("enhance", clips.av_mp4, "-o", target, "--quiet", "--config", config).code == 0
    settings = x264_settings(target)
    assert settings["crf"] == "33.0"
    assert (settings["subme"], settings["cabac"]) == ("0", "0"), "ultrafast: no subpel refinement, no CABAC"
    default = out / "default.mp4"
    assert cli("enhance", clips.av_mp4, "-o", default, "--quiet").code == 0
    assert x264_settings(default)["crf"] == "20.0" and x264_settings(default)["cabac"] == "1"


def test_command_line_beats_config(cli, clips, out):
    config = write_yaml(out, "encode:\n  crf: 33\n  preset: ultrafast\n")
    target = out / "override.mp4"
    assert cli("enhance", clips.av_mp4, "-o", target, "--quiet", "--config", config, "--crf", "18").code == 0
    settings = x264_settings(target)
    assert settings["crf"] == "18.0"
    assert settings["subme"] == "0", "what the command line did not set still comes from the file"


def test_config_sets_fps_and_codec(cli, clips, out):
    config = write_yaml(out, "fps: 10\nencode:\n  codec: hevc\n  pix_fmt: yuv420p10le\n  preset: ultrafast\n")
    target = out / "hevc.mkv"
    assert cli("enhance", clips.av_mp4, "-o", target, "--quiet", "--config", config).code == 0
    stream = media.probe(target)[0]
    assert (stream["codec"], stream["pix_fmt"]) == ("hevc", "yuv420p10le")
    assert len(media.video_times(target)) == 10                   # 24 frames at 25 fps → 0.96 s at 10 fps


def _leaves(data: dict, prefix: str = "") -> dict[str, object]:
    """{"encode.crf": 23, …} of a nested mapping."""
    out: dict[str, object] = {}
    for key, value in data.items():
        out.update(_leaves(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return out


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_shipped_configs_load_with_every_value_they_state(path):
    config = load_config(path).model_dump()
    stated = _leaves({k: v for k, v in yaml.safe_load(path.read_text()).items() if k not in ("cameras", "live", "metrics")})
    assert stated, f"{path.name} states nothing nocturne enhance reads"
    loaded = _leaves(config)
    assert {key: loaded.get(key, "missing") for key in stated} == stated


def test_default_config_spells_out_the_built_in_defaults():
    assert load_config(CONFIGS[0].parent / "default.yaml") == OfflineConfig()


BAD_CONFIGS = {
    "out of range": ("encode:\n  crf: 99\n", "encode.crf"),
    "unknown key": ("encode:\n  crff: 20\n", "encode.crff"),
    "wrong type": ("enhance:\n  strength: bright\n", "enhance.strength"),
    "unknown preset": ("encode:\n  preset: warp\n", "encode.preset"),
    "unknown section": ("encoder:\n  crf: 20\n", "encoder"),
    "not a mapping": ("- crf\n- 20\n", "mapping"),
    "not YAML": ("encode: [crf\n", "YAML"),
}


@pytest.mark.parametrize("text, field", list(BAD_CONFIGS.values()), ids=list(BAD_CONFIGS))
def test_bad_config_names_the_field(cli, clips, out, text, field):
    config = write_yaml(out, text)
    target = out / "x.mp4"
    result = cli("enhance", clips.av_mp4, "-o", target, "--quiet", "--config", config)
    assert result.code == 2
    assert len(result.lines) == 1, result.stderr
    assert result.lines[0].startswith("nocturne: error: config ") and field in result.lines[0], result.lines[0]
    assert config.name in result.lines[0]
    assert not target.exists()


def test_missing_config_file(cli, clips, out):
    result = cli("enhance", clips.av_mp4, "-o", out / "x.mp4", "--quiet", "--config", out / "absent.yaml")
    assert result.code == 2
    assert len(result.lines) == 1 and "absent.yaml" in result.lines[0]


def test_empty_config_means_defaults(out):
    assert load_config(write_yaml(out, "")) == OfflineConfig()


def test_overrides_ignore_none_and_beat_file(out):
    config = load_config(write_yaml(out, "encode:\n  crf: 30\nenhance:\n  strength: 0.5\n"),
                         {"encode.crf": 12, "enhance.strength": None, "fps": 15})
    assert (config.encode.crf, config.enhance.strength, config.fps) == (12, 0.5, 15)


def test_denoise_and_temporal_defaults_and_overrides(out):
    assert (OfflineConfig().enhance.denoise, OfflineConfig().enhance.temporal) == (0.5, True)
    config = load_config(write_yaml(out, "enhance:\n  denoise: 0.8\n  temporal: false\n"), {"enhance.denoise": 0.2})
    assert (config.enhance.denoise, config.enhance.temporal) == (0.2, False)


@pytest.mark.parametrize("value", [1.5, -0.1, float("nan")])
def test_denoise_out_of_range_is_a_usage_error(out, value):
    with pytest.raises(UsageError, match=r"enhance\.denoise") as caught:
        load_config(None, {"enhance.denoise": value})
    assert str(caught.value).startswith("options: ") and "\n" not in str(caught.value)
    config = write_yaml(out, f"enhance:\n  denoise: {value}\n")
    with pytest.raises(UsageError, match=r"enhance\.denoise"):
        load_config(config)


def test_denoise_option_out_of_range_exits_2_with_one_line(cli, clips, out):
    target = out / "x.mp4"
    result = cli("enhance", clips.av_mp4, "-o", target, "--quiet", "--denoise", "2")
    assert result.code == 2, result.stderr
    assert len(result.lines) == 1, result.stderr
    assert result.lines[0].startswith("nocturne: error: ") and "enhance.denoise" in result.lines[0], result.lines[0]
    assert not target.exists()


def test_config_that_is_a_folder_is_a_usage_error(cli, clips, tmp_path):
    result = cli("enhance", clips.one_second_mp4, "-o", tmp_path / "o.mp4", "--config", tmp_path, "--quiet")
    assert result.code == 2 and "cannot be read" in result.stderr
