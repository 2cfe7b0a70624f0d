"""engines.build: which stages a spec gives, in which order, chosen by architecture; the ONNX path without torch."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from engines.build import build_enhancer
from engines.spec import EnhancerSpec, HighlightSpec
from engines.curve_enhancer import CurveEnhancer
from engines.enhancer import Unchanged
from engines.errors import ModelNotAvailableError
from engines.highlights import HighlightsRecovered
from engines.registry import ModelInfo
from engines.restorer import RestoreEnhancer
from engines.runtimes import OnnxRuntime, TorchRuntime
from engines.temporal import TemporallyDenoised

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class _Estimator:
    """A network stand-in: reports ``architecture``, returns zeros of the output's shape."""

    info: ModelInfo

    def __call__(self, *inputs: np.ndarray) -> np.ndarray:
        return np.zeros_like(inputs[0])


@dataclass(frozen=True)
class _Runtime:
    """Opens every name as a network of one architecture, remembering what was asked for."""

    architecture: str
    opened: list

    def open(self, model_name: str, weights_dir: Path | None = None) -> _Estimator:
        self.opened.append(model_name)
        return _Estimator(ModelInfo(model_name, Path("x"), "0" * 64, self.architecture, {"iterations": 8}))


def _runtime(architecture: str = "CurveNet") -> _Runtime:
    return _Runtime(architecture, [])


def test_model_then_highlights_then_temporal():
    enhancer = build_enhancer(EnhancerSpec(highlights=HighlightSpec(buffer=8)), _runtime())
    assert isinstance(enhancer, TemporallyDenoised)            # temporal last: it smooths the fill too
    assert isinstance(enhancer.inner, HighlightsRecovered) and isinstance(enhancer.inner.inner, CurveEnhancer)
    assert enhancer.inner.recovery.capacity == 8 and enhancer.inner.recovery.fuse is None
    assert enhancer.temporal.strength == 0.5


def test_none_opens_no_network_and_skips_the_temporal_stage():
    runtime = _runtime()
    enhancer = build_enhancer(EnhancerSpec(model="none", highlights=HighlightSpec()), runtime)
    assert isinstance(enhancer, HighlightsRecovered) and isinstance(enhancer.inner, Unchanged)
    assert runtime.opened == []
    assert isinstance(build_enhancer(EnhancerSpec(model="none"), runtime), Unchanged)


@pytest.mark.parametrize("change", [{"temporal": False}, {"denoise": 0.0}, {"strength": 0.0}])
def test_temporal_stage_left_out_when_asked_or_pointless(change):
    enhancer = build_enhancer(EnhancerSpec(**change), _runtime())
    assert isinstance(enhancer, CurveEnhancer)


def test_stage_chosen_by_architecture_not_name():
    restorer = build_enhancer(EnhancerSpec(model="fast", temporal=False, denoise=0.3), _runtime("RestoreNet"))
    assert isinstance(restorer, RestoreEnhancer) and restorer.denoise == 0.3
    curves = build_enhancer(EnhancerSpec(model="my-retrained", temporal=False, estimate_every=3), _runtime())
    assert isinstance(curves, CurveEnhancer) and curves.estimate_every == 3 and curves.iterations == 8


def test_a_network_that_is_not_a_low_light_model_is_refused():
    with pytest.raises(ModelNotAvailableError, match="FusionNet, not a low-light model"):
        build_enhancer(EnhancerSpec(model="highlights"), _runtime("FusionNet"))


def test_fusion_network_opened_on_the_same_runtime():
    runtime = _runtime("FusionNet")
    enhancer = build_enhancer(EnhancerSpec(model="none", highlights=HighlightSpec(fusion="network")), runtime)
    assert runtime.opened == ["highlights"] and enhancer.recovery.fuse is not None


@pytest.mark.parametrize("runtime", [TorchRuntime("cpu"), OnnxRuntime()], ids=["torch", "onnxruntime"])
def test_shipped_models_build_and_enhance(runtime, tmp_path, monkeypatch):
    monkeypatch.setenv("NOCTURNE_CACHE", str(tmp_path))
    rng = np.random.default_rng(0)
    y = rng.integers(10, 60, (48, 64), dtype=np.uint8)
    c = np.full((24, 32), 128, np.uint8)
    from engines.image import YuvImage

    image = YuvImage(y, c, c.copy(), 8, False, "bt709")
    for model in ("fast", "quality"):
        enhancer = build_enhancer(EnhancerSpec(model=model, highlights=HighlightSpec(fusion="network")), runtime)
        out = enhancer.enhance(image, 0.0)
        assert out.y.shape == (48, 64) and out.y.mean() > y.mean() + 10          # dark picture lifted


def test_onnxruntime_path_never_imports_torch(tmp_path, monkeypatch):
    """Once the ONNX files are cached, building and running every shipped model loads no torch."""
    monkeypatch.setenv("NOCTURNE_CACHE", str(tmp_path))
    for model in ("fast", "quality", "highlights"):
        OnnxRuntime().open(model)                        # exports the files (this process has torch anyway)
    script = textwrap.dedent("""
        import sys
        import numpy as np
        from engines.build import build_enhancer
        from engines.spec import EnhancerSpec, HighlightSpec
        from engines.image import YuvImage
        from engines.runtimes import OnnxRuntime
        y = np.full((48, 64), 30, np.uint8); c = np.full((24, 32), 128, np.uint8)
        for model in ("fast", "quality"):
            spec = EnhancerSpec(model=model, highlights=HighlightSpec(fusion="network"))
            build_enhancer(spec, OnnxRuntime()).enhance(YuvImage(y, c, c.copy(), 8, False, "bt709"), 0.0)
        print("torch" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False", done.stderr
