import shutil

import pytest

from engines.errors import ModelNotAvailableError, WeightsChecksumError
from engines.registry import MANIFEST_NAME, WEIGHTS_DIR, load_model, model_info, parameter_count


def test_fast_model_loads_and_is_small():
    model, info = load_model("fast")
    assert info.name == "fast" and len(info.sha256) == 64
    assert parameter_count(model) < 20_000
    assert info.path.stat().st_size < 200_000


def test_quality_model_is_not_available_yet_with_a_clear_message():
    with pytest.raises(ModelNotAvailableError, match="not available yet"):
        model_info("quality")


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
