"""Every marker pyproject declares is used, and every hardware marker has a probe that can skip it."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import _AVAILABLE

ROOT = Path(__file__).resolve().parents[1]


def _declared(pytestconfig) -> set[str]:
    """The markers pyproject declares (pytest's own, registered by plugins, are not ours to use)."""
    ours = (ROOT / "pyproject.toml").read_text()
    return {name for line in pytestconfig.getini("markers") if (name := line.split(":")[0].strip()) in ours}


def test_every_declared_marker_marks_some_test(pytestconfig):
    text = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("*.py") if p.name != Path(__file__).name)
    used = set(re.findall(r"pytest\.mark\.(\w+)", text))
    assert _declared(pytestconfig) - used == set()


def test_every_hardware_marker_is_declared_and_probed(pytestconfig):
    hardware = {name for name in _declared(pytestconfig) if name.startswith("needs_")}
    assert hardware == set(_AVAILABLE)
