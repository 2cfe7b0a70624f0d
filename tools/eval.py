"""Measure an enhancer against classical baselines on the held-out dev set.

    python -m tools.eval [--set lol|night|shake] [--models fast,quality] [--extra NAME=DIR] [--limit N]

Dev set: every image of ``tools.dataset.DEV_FOLDERS`` (Kodak24 + CBSD68, 92 photos,
never seen in training), cropped to even H and W (4:2:0 needs it) and degraded
with ``tools.lowlight_synth.degrade_restoration`` using a ``torch.Generator``
seeded with the image's index in sorted order, so every run (and every
``--limit``) sees the very same dark inputs and targets. Three sets
(``DEV_SETS``): ``lol`` — LOL-like: exposure 1/50…1/4, colour cast,
per-channel Poisson–Gaussian noise, uncompressed, no lamps, no blur (the issue's
targets are on this set; LOL itself is not available here); ``night`` — street
lamps and JPEG blocking (what dark H.264 footage looks like); ``shake`` — the
``lol`` set with camera-shake blur on every image (1.5–12 px paths).
Everything is compared as 8-bit R'G'B'.

Methods (all uint8 RGB (H, W, 3) → uint8 RGB (H, W, 3)):
    input   the dark image itself (the floor any method must beat);
    gamma   out = in ** (1 / 2.2), one fixed global curve;
    clahe   the gamma lift, then OpenCV CLAHE (clip 2.0, 8×8 tiles) on L of Lab;
    <model> the real inference path: RGB → 8-bit 4:2:0 limited-range BT.709
            ``YuvImage`` → the model's enhancer (state reset per photo; ``quality``
            with denoise 1) → RGB. ``--extra NAME=DIR`` adds a model trained
            elsewhere (its ``manifest.json`` in DIR), e.g. an ablation.

Metrics, averaged over images: PSNR and SSIM against the target (scikit-image,
data range 255); mean BT.709 luma Y' of the output in [0, 1] (the target's is
printed for reference); clipped share = fraction of pixels whose largest channel
is ≥ 250 in the output minus that fraction in the target (positive: highlights
blown that should not be); slope reversals = share of 4×4-block luma slopes
clearly present in the input (> 4 codes) whose sign flips in the output — the
dark rings a local curve can draw around lamps; runtime per image in ms (for the model this includes
the RGB↔YUV conversions, which a decoder-fed pipeline does not pay).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from engines.colour import rgb_to_yuv
from engines.curve_enhancer import CurveEnhancer
from engines.image import YuvImage, image_from_rgb, image_to_rgb
from engines.registry import WEIGHTS_DIR
from engines.restorer import RestoreEnhancer
from engines.runtimes import TorchRuntime
from tools.lowlight_synth import RestorationRanges, degrade_restoration
from stream.images import is_image_path
from tools.dataset import DEV_FOLDERS

Method = Callable[[np.ndarray], np.ndarray]
GAMMA = 2.2
CLIP_CODE = 250
SHEET_ROWS = 6
TILE_WIDTH = 256
_CLEAN_CAPTURE = dict(keep_exposure_probability=0.0, blur_probability=0.0, jpeg_probability=0.0)
DEV_SETS = {
    "lol": RestorationRanges(lamp_probability=0.0, **_CLEAN_CAPTURE),
    "night": RestorationRanges(lamp_probability=0.6, keep_exposure_probability=0.0, blur_probability=0.0,
                               jpeg_probability=1.0, jpeg_quality=(40, 80)),
    "shake": RestorationRanges(lamp_probability=0.0, **(_CLEAN_CAPTURE | {"blur_probability": 1.0})),
}


@dataclass(frozen=True)
class DevPair:
    """One dev image: dark input and target, uint8 RGB (H, W, 3), H and W even."""

    name: str
    dark: np.ndarray
    target: np.ndarray


def list_dev_images(data: Path) -> list[Path]:
    """Sorted dev-set image paths under ``data/<folder>`` for each dev folder."""
    return sorted(p for folder in DEV_FOLDERS for p in (data / folder).rglob("*")
                  if is_image_path(p))


def load_dev_set(data: Path, limit: int | None = None, ranges: RestorationRanges = DEV_SETS["lol"]) -> list[DevPair]:
    """Read and degrade the dev images; image i is degraded with seed i (reproducible)."""
    pairs = []
    for index, path in enumerate(list_dev_images(data)[:limit]):
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f"unreadable dev image {path}")
        h, w = bgr.shape[0] // 2 * 2, bgr.shape[1] // 2 * 2
        rgb = cv2.cvtColor(bgr[:h, :w], cv2.COLOR_BGR2RGB)
        clean = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255.0
        pair = degrade_restoration(clean, torch.Generator().manual_seed(index), ranges)
        pairs.append(DevPair(f"{path.parent.name}/{path.stem}", to_uint8(pair.dark[0]), to_uint8(pair.clean[0])))
    return pairs


def to_uint8(chw: torch.Tensor) -> np.ndarray:
    """(3, H, W) float in [0, 1] → (H, W, 3) uint8, rounded."""
    return (chw.clamp(0, 1) * 255.0).round().to(torch.uint8).permute(1, 2, 0).numpy().copy()


def gamma_lift(rgb: np.ndarray, gamma: float = GAMMA) -> np.ndarray:
    """Fixed curve out = in ** (1 / gamma) on every channel, via a 256-entry table."""
    table = np.round(255.0 * (np.arange(256) / 255.0) ** (1.0 / gamma)).astype(np.uint8)
    return cv2.LUT(rgb, table)


def clahe(rgb: np.ndarray) -> np.ndarray:
    """Gamma lift, then CLAHE on L of Lab: local contrast on top of the global lift, hue kept."""
    lab = cv2.cvtColor(gamma_lift(rgb), cv2.COLOR_RGB2LAB)
    lab[..., 0] = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(lab[..., 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def rgb_to_yuv_image(rgb: np.ndarray) -> YuvImage:
    """uint8 RGB (H, W, 3), H and W even → 8-bit 4:2:0 limited-range BT.709 ``YuvImage`` (what cameras record)."""
    return image_from_rgb(rgb, "bt709", full_range=False, chroma_420=True)


yuv_image_to_rgb = image_to_rgb


def model_enhancer(name: str, weights_dir: Path = WEIGHTS_DIR, denoise: float = 1.0) -> CurveEnhancer | RestoreEnhancer:
    """The per-photo enhancer of a model: curves for CurveNet, restoration for RestoreNet."""
    network = TorchRuntime("cpu", threads=2).open(name, weights_dir)
    if network.info.architecture == "RestoreNet":
        return RestoreEnhancer(network, denoise=denoise)
    return CurveEnhancer(network, iterations=network.info.iterations)


def enhancer_method(enhancer: CurveEnhancer | RestoreEnhancer) -> Method:
    """Wrap an enhancer as an RGB method; each photo is independent, so state is reset first."""
    def run(rgb: np.ndarray) -> np.ndarray:
        enhancer.reset()
        return yuv_image_to_rgb(enhancer.enhance(rgb_to_yuv_image(rgb)))
    return run


def mean_luma(rgb: np.ndarray) -> float:
    """Mean BT.709 Y' of uint8 RGB, in [0, 1]."""
    y, _, _ = rgb_to_yuv(*(rgb[..., i].astype(np.float32) / 255.0 for i in range(3)))
    return float(y.mean())


def clipped_fraction(rgb: np.ndarray) -> float:
    """Fraction of pixels whose largest channel is ≥ ``CLIP_CODE``."""
    return float((rgb.max(axis=2) >= CLIP_CODE).mean())


def _block_luma(rgb: np.ndarray, block: int = 4) -> np.ndarray:
    y = rgb_to_yuv(*(rgb[..., i].astype(np.float32) for i in range(3)))[0]
    h, w = y.shape[0] // block * block, y.shape[1] // block * block
    return y[:h, :w].reshape(h // block, block, w // block, block).mean(axis=(1, 3))


def slope_reversals(dark: np.ndarray, output: np.ndarray, threshold: float = 4.0) -> float:
    """Share of block-luma slopes above ``threshold`` codes in ``dark`` whose sign flips in ``output``."""
    a, b = _block_luma(dark), _block_luma(output)
    flipped = present = 0
    for axis in (0, 1):
        d_in, d_out = np.diff(a, axis=axis), np.diff(b, axis=axis)
        mask = np.abs(d_in) > threshold
        flipped += int((np.sign(d_in) != np.sign(d_out))[mask].sum())
        present += int(mask.sum())
    return flipped / max(present, 1)


def image_metrics(output: np.ndarray, target: np.ndarray, dark: np.ndarray | None = None) -> dict[str, float]:
    """PSNR (dB), SSIM, mean luma, clipped share and slope reversals of one output against its target."""
    return {
        "reversals": slope_reversals(dark, output) if dark is not None else 0.0,
        "psnr": float(peak_signal_noise_ratio(target, output, data_range=255)),
        "ssim": float(structural_similarity(target, output, channel_axis=2, data_range=255)),
        "luma": mean_luma(output),
        "clipped": clipped_fraction(output) - clipped_fraction(target),
    }


def evaluate(pairs: list[DevPair], methods: dict[str, Method]
             ) -> tuple[dict[str, dict[str, float]], dict[str, list[np.ndarray]]]:
    """Run every method on every pair. Returns (mean metrics per method, outputs per method)."""
    sums: dict[str, dict[str, float]] = {name: {} for name in methods}
    outputs: dict[str, list[np.ndarray]] = {name: [] for name in methods}
    for pair in pairs:
        for name, method in methods.items():
            start = time.perf_counter()
            out = method(pair.dark)
            elapsed_ms = 1000.0 * (time.perf_counter() - start)
            values = image_metrics(out, pair.target, pair.dark) | {"ms": elapsed_ms}
            for key, value in values.items():
                sums[name][key] = sums[name].get(key, 0.0) + value
            outputs[name].append(out)
    return {name: {k: v / len(pairs) for k, v in s.items()} for name, s in sums.items()}, outputs


def markdown_table(results: dict[str, dict[str, float]], pairs: list[DevPair], set_name: str = "lol") -> str:
    """Results as a markdown table, with a line saying what was measured."""
    target_luma = np.mean([mean_luma(p.target) for p in pairs])
    lines = [f"Dev set '{set_name}': {len(pairs)} images of {', '.join(DEV_FOLDERS)}, degraded with seed = index; "
             f"target mean luma {target_luma:.3f}.", "",
             "| method | PSNR dB | SSIM | mean luma | clipped share | slope reversals | ms/image |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, m in results.items():
        lines.append(f"| {name} | {m['psnr']:.2f} | {m['ssim']:.3f} | {m['luma']:.3f} "
                     f"| {m['clipped']:+.4f} | {m['reversals']:.2%} | {m['ms']:.1f} |")
    return "\n".join(lines) + "\n"


def contact_sheet(pairs: list[DevPair], outputs: dict[str, list[np.ndarray]], rows: int = SHEET_ROWS) -> np.ndarray:
    """RGB uint8 grid: rows spread evenly over the dev set, columns = methods then target."""
    picks = np.linspace(0, len(pairs) - 1, min(rows, len(pairs))).round().astype(int)
    columns = list(outputs) + ["target"]
    band = np.full((28, TILE_WIDTH * len(columns), 3), 255, np.uint8)
    for i, label in enumerate(columns):
        cv2.putText(band, label, (TILE_WIDTH * i + 8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    strips = [band]
    for k in picks:
        tiles = [outputs[name][k] for name in outputs] + [pairs[k].target]
        h, w = tiles[0].shape[:2]
        size = (TILE_WIDTH, round(h * TILE_WIDTH / w))
        strips.append(np.hstack([cv2.resize(t, size, interpolation=cv2.INTER_AREA) for t in tiles]))
    return np.vstack(strips)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="lol", choices=sorted(DEV_SETS), help="which degradation (see module doc)")
    parser.add_argument("--models", default="fast,quality", help="comma-separated shipped models to measure")
    parser.add_argument("--extra", action="append", default=[], metavar="NAME=DIR",
                        help="also measure model NAME from the weights folder DIR (repeatable)")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared/data/clean")
    parser.add_argument("--out", type=Path, default=Path("runs/eval"))
    parser.add_argument("--limit", type=int, default=None, help="evaluate only the first N dev images")
    args = parser.parse_args()
    torch.set_num_threads(2)

    pairs = load_dev_set(args.data, args.limit, DEV_SETS[args.set])
    if not pairs:
        raise SystemExit(f"no dev images under {args.data} ({', '.join(DEV_FOLDERS)})")
    methods: dict[str, Method] = {"input": lambda rgb: rgb, "gamma": gamma_lift, "clahe": clahe}
    for name in filter(None, args.models.split(",")):
        methods[name] = enhancer_method(model_enhancer(name))
    for extra in args.extra:
        name, sep, folder = extra.partition("=")
        if not sep or not name or not folder or name in methods:
            raise SystemExit(f"--extra {extra!r}: expected NAME=DIR with a NAME not already measured")
        methods[name] = enhancer_method(model_enhancer(name, Path(folder)))
    results, outputs = evaluate(pairs, methods)
    table = markdown_table(results, pairs, args.set) + "\nModels in torch on the CPU; quality with denoise 1.\n"
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"eval_{args.set}.md").write_text(table)
    sheet = contact_sheet(pairs, outputs)
    cv2.imwrite(str(args.out / f"contact_{args.set}.png"), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    print(f"wrote {args.out / f'eval_{args.set}.md'} and {args.out / f'contact_{args.set}.png'}")


if __name__ == "__main__":
    main()
