"""``--recover-highlights`` and the ``highlights`` config section, through the CLI and the composition."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

import media
from engines.spec import EnhancerSpec, HighlightSpec
from engines.curve_enhancer import CurveEnhancer
from engines.highlights import HighlightsRecovered
from engines.temporal import TemporallyDenoised
from stream.config import OfflineConfig, load_config
from stream.errors import UsageError
from stream.pipeline import make_enhancer

GAINS = [1.0] * 6 + [1.4, 1.9, 2.5, 3.0, 3.0, 3.0, 2.5, 1.9, 1.4] + [1.0] * 3


def write_ramp_clip(path: Path, width: int = 192, height: int = 112) -> tuple[Path, list[np.ndarray]]:
    """A grey textured scene panning 1 px per frame under an exposure ramp 1 → 3 → 1 (clipped at the peak).

    Returns the file and each frame's truth: linear light, unclipped, (height, width).
    """
    rng = np.random.default_rng(5)
    texture = cv2.GaussianBlur(rng.random((height, width + 40)).astype(np.float32), (0, 0), 4)
    low, high = np.percentile(texture, [2, 98])
    linear = 0.03 + 0.4 * np.clip((texture - low) / (high - low), 0, 1)
    truths = []
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "12"}
        for i, gain in enumerate(GAINS):
            truths.append(linear[:, i:i + width] * gain)
            view = np.clip(truths[-1], 0, 1) ** (1 / 2.2)
            rgb = np.repeat(np.rint(view * 255).astype(np.uint8)[..., None], 3, axis=2)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    return path, truths


def test_recover_highlights_on_its_own_reports_and_keeps_every_frame(cli, out):
    clip, truths = write_ramp_clip(out / "ramp.mp4")
    target = out / "recovered.mp4"
    result = cli("enhance", clip, "-o", target, "--model", "none", "--recover-highlights")
    assert result.code == 0, result.stderr
    summary = [line for line in result.lines if line.startswith("highlights:")]
    assert len(summary) == 1 and "reference" in summary[0] and "per minute" in summary[0], result.stderr
    frames = media.decoded_frames(target)
    assert len(frames) == len(GAINS)
    index = GAINS.index(3.0) + 1
    peak = frames[index].to_ndarray(format="gray").astype(np.float32)
    source = media.decoded_frames(clip)[index].to_ndarray(format="gray")
    white = source >= 250
    assert white.mean() > 0.05
    # Structure came back: the output follows the unclipped truth inside the white area (the input,
    # flat white there, correlates with nothing; H.264 and the roll-off's few codes keep this modest).
    a = np.log(peak[white] + 1.0)
    b = np.log(truths[index][white])
    a, b = a - a.mean(), b - b.mean()
    assert float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum())) > 0.3


def test_without_the_option_no_highlight_line(cli, out):
    clip, _ = write_ramp_clip(out / "ramp.mp4")
    result = cli("enhance", clip, "-o", out / "plain.mp4", "--model", "none")
    assert result.code == 0 and not any(line.startswith("highlights:") for line in result.lines)


def test_config_sections_become_the_engines_spec():
    config = load_config(None, {"enhance.model": "quality", "enhance.denoise": 0.3, "enhance.temporal": False,
                                "enhance.estimate_every": 4, "highlights.enabled": True, "highlights.buffer": 8,
                                "highlights.fusion": "network"})
    assert config.enhancer_spec() == EnhancerSpec(model="quality", denoise=0.3, temporal=False, estimate_every=4,
                                                  highlights=HighlightSpec(buffer=8, fusion="network"))
    assert OfflineConfig().enhancer_spec() == EnhancerSpec()        # the defaults agree, highlights off


def test_make_enhancer_builds_the_configured_stages_in_order():
    config = load_config(None, {"highlights.enabled": True, "highlights.buffer": 8})
    enhancer, _ = make_enhancer(config)
    assert isinstance(enhancer, TemporallyDenoised)                     # temporal last: it smooths the fill too
    assert isinstance(enhancer.inner, HighlightsRecovered) and isinstance(enhancer.inner.inner, CurveEnhancer)
    assert enhancer.inner.recovery.capacity == 8


def test_fusion_network_loads_when_asked_and_the_classical_fill_is_the_default():
    config = load_config(None, {"enhance.model": "none", "highlights.enabled": True})
    assert make_enhancer(config)[0].recovery.fuse is None
    config = load_config(None, {"enhance.model": "none", "highlights.enabled": True, "highlights.fusion": "network"})
    assert make_enhancer(config)[0].recovery.fuse is not None


@pytest.mark.parametrize("text, field", [("highlights:\n  buffer: 1\n", "highlights.buffer"),
                                         ("highlights:\n  fusion: magic\n", "highlights.fusion"),
                                         ("enhance:\n  model: nothing\n", "enhance.model")])
def test_bad_highlight_settings_name_the_field(tmp_path, text, field):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(UsageError, match=field.replace(".", r"\.")):
        load_config(path)
