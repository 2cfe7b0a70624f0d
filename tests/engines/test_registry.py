import json
import shutil

import pytest
import torch

from engines.errors import ModelNotAvailableError, WeightsChecksumError
from engines.models.curve_net import CurveNet
from engines.models.fusion_net import FusionNet
from engines.models.restore_net import RestoreNet
from engines.registry import (MANIFEST_NAME, WEIGHTS_DIR, build_network, load_model, model_info, parameter_count,
                              save_model)


def test_fast_model_loads_and_is_small():
    model, info = load_model("fast")
    assert info.name == "fast" and len(info.sha256) == 64
    assert parameter_count(model) < 20_000
    assert info.path.stat().st_size < 200_000


def test_quality_model_is_a_restore_net():
    model, info = load_model("quality")
    assert isinstance(model, RestoreNet)
    assert info.name == "quality" and info.architecture == "RestoreNet" and len(info.sha256) == 64
    assert tuple(model.widths) == tuple(info.settings["widths"])
    assert not model.training


def test_highlights_model_is_a_small_fusion_net():
    model, info = load_model("highlights")
    assert isinstance(model, FusionNet) and info.architecture == "FusionNet"
    assert parameter_count(model) < 20_000 and info.path.stat().st_size < 100_000


def test_unknown_model():
    with pytest.raises(ModelNotAvailableError, match="unknown model"):
        model_info("nope")


def test_corrupted_weights_fail_the_checksum(tmp_path):
    shutil.copy(WEIGHTS_DIR / MANIFEST_NAME, tmp_path / MANIFEST_NAME)
    info = model_info("fast")
    data = bytearray(info.path.read_bytes())
    data[-1] ^= 0xFF
    (tmp_path / info.path.name).write_bytes(bytes(data))
    with pytest.raises(WeightsChecksumError, match="checksum"):
        load_model("fast", tmp_path)


def test_fast_model_info_keeps_its_curve_settings():
    info = model_info("fast")
    assert info.architecture == "CurveNet"
    assert info.iterations == info.settings["iterations"] > 0


def test_unknown_architecture_is_not_available():
    with pytest.raises(ModelNotAvailableError, match="unknown architecture 'Nope'"):
        build_network("Nope", {})


def test_a_manifest_with_an_unknown_architecture_fails_to_load(tmp_path):
    info = model_info("fast")
    shutil.copy(info.path, tmp_path / info.path.name)
    manifest = {"odd": {"file": info.path.name, "sha256": info.sha256, "architecture": "Nope", "settings": {}}}
    (tmp_path / MANIFEST_NAME).write_text(json.dumps(manifest))
    assert model_info("odd", tmp_path).architecture == "Nope"         # the lookup itself is fine …
    with pytest.raises(ModelNotAvailableError, match="unknown architecture"):
        load_model("odd", tmp_path)                                  # … building the network is not


@pytest.mark.parametrize("architecture, settings, kind", [
    ("CurveNet", {"width": 8, "iterations": 6}, CurveNet),
    ("RestoreNet", {"widths": [8, 16, 24], "steps": 3}, RestoreNet),
    ("FusionNet", {"width": 8, "steps": 2}, FusionNet),
])
def test_save_model_round_trip(tmp_path, architecture, settings, kind):
    torch.manual_seed(0)
    model = build_network(architecture, settings)
    assert isinstance(model, kind)
    saved = save_model("trial", model, architecture, settings, tmp_path)
    assert (saved.name, saved.architecture, saved.settings) == ("trial", architecture, settings)
    assert saved.path == tmp_path / "trial.safetensors" and saved.path.exists()
    assert model_info("trial", tmp_path) == saved
    manifest = json.loads((tmp_path / MANIFEST_NAME).read_text())
    assert set(manifest) == {"trial"} and manifest["trial"]["settings"] == settings

    loaded, info = load_model("trial", tmp_path)
    assert info == saved and isinstance(loaded, kind)
    original, restored = model.state_dict(), loaded.state_dict()
    assert original.keys() == restored.keys()
    assert all(torch.equal(original[k], restored[k]) for k in original)


def test_save_model_keeps_other_entries(tmp_path):
    save_model("one", build_network("CurveNet", {"width": 4, "iterations": 2}), "CurveNet",
               {"width": 4, "iterations": 2}, tmp_path)
    save_model("two", build_network("RestoreNet", {"widths": [4, 8, 8]}), "RestoreNet", {"widths": [4, 8, 8]},
               tmp_path)
    assert model_info("one", tmp_path).architecture == "CurveNet"
    assert model_info("two", tmp_path).settings == {"widths": [4, 8, 8]}
    with pytest.raises(ModelNotAvailableError, match="available: one, two"):
        model_info("three", tmp_path)
