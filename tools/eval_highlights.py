"""Highlight recovery measured on real footage with a synthetic exposure ramp.

    python -m tools.eval_highlights [--clips a.mp4,b.mp4] [--width 640] [--out runs/highlights]

Each clip (``../shared/data/videos``, daytime, almost nothing clipped) is
taken for ``LEAD_S + 2 s + LEAD_S`` from its start. In linear light every frame
is multiplied by a gain that stays at 1 for ``LEAD_S``, rises to ``PEAK_GAIN``
over one second (raised cosine), falls back over the next and stays at 1 —
a camera's auto-exposure reacting late. The gained frame, *unclipped*, is
the truth; clipped to white and quantised to 8 bits (4:2:0) it is the input.

Measures, on frames with at least ``MIN_CLIPPED_SHARE`` of pixels clipped:
    structure  inside the clipped mask (every channel ≥ code 254 in the input: it holds nothing there):
               zero-mean normalised cross-correlation between output and truth
               in Gaussian windows (σ = 4 px) on log luminance, averaged over
               mask pixels where the truth has structure (local std > 0.02) —
               tone-free, since the tone of a recovered highlight is a design
               choice; a clipped input scores 0 there;
    inside     PSNR (8-bit R'G'B') in the same mask against the truth passed through the
               stage's highlight roll-off (``roll_off``): our chosen tone, so this
               scores level, colour and seams of a fill as the stage means to show it;
    outside    PSNR (8-bit R'G'B') between output and the stage's input outside
               the stage's soft mask (any channel from code 230, ``CLIP_LOW``) grown
               by its reach (``stage_reach``: dilation + feather, 2 × 0.4 % of the
               width) — what the stage must not touch;
    age / switches  the chosen reference's mean age (frames) and switches per minute;
    ms         per frame on this machine: frames with at least ``MIN_CLIPPED_SHARE``
               of pixels in the stage's soft mask, and frames without any.
    lamp kept  a guard: the first clip at gain 1 with a headlight (a Gaussian disc, 6× white)
               sweeping across it for 2 s — a real light, which must stay white: the
               share of its core pixels still white in the output.
Methods: nothing (the input), OpenCV inpainting (Telea, radius 5), the stage with
its classical fill, the stage with the fusion network (when trained).
A contact sheet (input, Telea, each stage variant, truth rolled off for display)
of the peak frame of each clip is written beside the table. Look at it.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from engines.errors import ModelNotAvailableError
from engines.highlights import HighlightRecovery, HighlightStats
from engines.highlights.align import luma_linear, to_display, to_linear
from engines.highlights.fusion import roll_off
from engines.highlights.mask import CLIP_LOW, stage_reach
from engines.highlights.network import open_fusion
from engines.highlights.recovery import Fuse
from engines.image import YuvImage, image_from_rgb, image_to_rgb
from engines.runtimes import TorchRuntime
from tools.eval_video import read_clip

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "videos"
DEFAULT_CLIPS = ("day_parkinglot_overhead__intel_car-detection.mp4",
                 "day_indoor_people_walking__intel_one-by-one-person-detection.mp4",
                 "day_highway_dashcam__udacity_solidWhiteRight.mp4")
PEAK_GAIN = 3.0
LEAD_S = 0.5
CLIP_CODE = 254
MIN_CLIPPED_SHARE = 0.002
WINDOW_SIGMA = 4.0
MIN_STRUCTURE = 0.02
FLAT = 0.005


@dataclass(frozen=True)
class RampClip:
    """One clip: the input as 8-bit 4:2:0 pictures and as the uint8 RGB (T, H, W, 3) they decode to,
    and the truth (linear float32, unclipped)."""

    name: str
    fps: float
    images: list[YuvImage]
    inputs: np.ndarray
    truth: np.ndarray


def ramp_gains(fps: float) -> np.ndarray:
    """Per-frame linear gain: 1 for LEAD_S, up to PEAK_GAIN over 1 s, back over 1 s, 1 for LEAD_S."""
    lead, ramp = round(LEAD_S * fps), max(2, round(fps))
    up = 1.0 + (PEAK_GAIN - 1.0) * 0.5 * (1.0 - np.cos(np.linspace(0.0, np.pi, ramp)))
    return np.concatenate([np.ones(lead), up, up[::-1], np.ones(lead)]).astype(np.float32)


def make_ramp_clip(path: Path, width: int) -> RampClip:
    import av

    with av.open(str(path)) as container:
        fps = float(container.streams.video[0].average_rate or 25)
    gains = ramp_gains(fps)
    clean = read_clip(path, len(gains), width)
    gains = gains[: len(clean)]
    truth = to_linear(clean.astype(np.float32) / 255.0) * gains[:, None, None, None]
    clipped = np.clip(np.rint(to_display(truth) * 255.0), 0, 255).astype(np.uint8)
    images = [image_from_rgb(frame) for frame in clipped]
    return RampClip(path.stem.split("__")[0], fps, images, np.stack([image_to_rgb(i) for i in images]), truth)


def make_lamp_clip(clip: RampClip, seconds: float = 2.0) -> tuple[RampClip, np.ndarray]:
    """The clip at gain 1 with a headlight sweeping across it (a real light: it must stay white).

    Returns the clip and, per frame, the (H, W) bool mask of the lamp's core (over 2× white).
    """
    count = min(len(clip.truth), round(seconds * clip.fps))
    height, width = clip.truth.shape[1:3]
    gains = ramp_gains(clip.fps)[:count]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    radius = 0.02 * width
    truth, cores = [], []
    for i in range(count):
        cx, cy = width * (0.1 + 0.8 * i / max(1, count - 1)), height * 0.6
        lamp = 6.0 * np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius ** 2))
        truth.append(clip.truth[i] / gains[i] + lamp[..., None])
        cores.append(lamp > 2.0)
    truth_array = np.stack(truth).astype(np.float32)
    images = [image_from_rgb(np.clip(np.rint(to_display(t) * 255.0), 0, 255).astype(np.uint8)) for t in truth_array]
    lamp_clip = RampClip(clip.name + " + headlight", clip.fps, images,
                         np.stack([image_to_rgb(i) for i in images]), truth_array)
    return lamp_clip, np.stack(cores)


def lamp_kept(clip: RampClip, cores: np.ndarray, make: Method) -> float:
    """Share of the lamp's core pixels that stay white (every channel ≥ 250) in the method's output."""
    run, _ = make()
    kept = [run(frame, image)[core].min(axis=1) >= 250 for frame, image, core in zip(clip.inputs, clip.images, cores)]
    return float(np.concatenate(kept).mean())


def clipped_core(rgb: np.ndarray) -> np.ndarray:
    """(H, W) bool: every channel at or above ``CLIP_CODE`` — the input holds nothing there."""
    return rgb.min(axis=2) >= CLIP_CODE


def stage_mask(rgb: np.ndarray) -> np.ndarray:
    """(H, W) bool: where the stage's soft mask is above 0 (any channel from ``CLIP_LOW``)."""
    return rgb.max(axis=2) >= CLIP_LOW * 255.0


def _log_luma(linear_rgb: np.ndarray) -> np.ndarray:
    return np.log(luma_linear(linear_rgb) + 0.01).astype(np.float32)


def structure(output: np.ndarray, truth_linear: np.ndarray, mask: np.ndarray) -> float | None:
    """Local ZNCC of log luminance inside ``mask`` where the truth has structure; None if nowhere.

    Window statistics use masked pixels only (normalised Gaussian weights), so a
    window at the mask's edge does not score the step from clipped to unclipped.
    """
    a = _log_luma(to_linear(output.astype(np.float32) / 255.0))
    b = _log_luma(truth_linear)
    inside = mask.astype(np.float32)
    weight = np.maximum(cv2.GaussianBlur(inside, (0, 0), WINDOW_SIGMA), 1e-6)
    mean = lambda x: cv2.GaussianBlur(x * inside, (0, 0), WINDOW_SIGMA) / weight      # noqa: E731
    ma, mb = mean(a), mean(b)
    va, vb = np.maximum(mean(a * a) - ma * ma, 0.0), np.maximum(mean(b * b) - mb * mb, 0.0)
    cov = mean(a * b) - ma * mb
    # Less than half a percent of local contrast is no visible structure (a clipped area's
    # ±1-code encoder noise would otherwise "correlate").
    r = np.where(va > FLAT ** 2, cov / np.sqrt(np.maximum(va * vb, 1e-16)), 0.0)
    informative = mask & (np.sqrt(vb) > MIN_STRUCTURE)
    return float(np.clip(r[informative], -1, 1).mean()) if informative.any() else None


def inside_psnr(output: np.ndarray, truth_linear: np.ndarray, mask: np.ndarray) -> float:
    """PSNR (dB, 8-bit R'G'B') inside ``mask`` against the truth through the stage's own roll-off.

    Tone is a design choice, and this is ours: it scores how faithfully a fill reproduces the
    unclipped scene *as the stage means to show it* — level, colour and seams, not only structure.
    """
    target = np.clip(np.rint(to_display(roll_off(truth_linear[mask])) * 255.0), 0, 255)
    error = np.square(output[mask].astype(np.float32) - target).mean()
    return 99.0 if error == 0 else float(10 * np.log10(255.0 ** 2 / error))


def outside_psnr(output: np.ndarray, stage_input: np.ndarray, mask: np.ndarray) -> float:
    """PSNR (dB, 8-bit) outside ``mask`` grown by the stage's reach; 99 when identical."""
    reach = stage_reach(mask.shape[1])
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 3, 2 * reach + 3))
    outside = ~cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)
    error = np.square(output[outside].astype(np.float32) - stage_input[outside].astype(np.float32)).mean()
    return 99.0 if error == 0 else float(10 * np.log10(255.0 ** 2 / error))


# A method makes, per clip, a fresh frame function ((uint8 RGB, the same as YuvImage) → uint8 RGB)
# and its stage's stats (or None).
Frames = Callable[[np.ndarray, YuvImage], np.ndarray]
Method = Callable[[], tuple[Frames, HighlightStats | None]]


def nothing() -> tuple[Frames, None]:
    return (lambda rgb, image: rgb), None


def telea() -> tuple[Frames, None]:
    def run(rgb: np.ndarray, image: YuvImage) -> np.ndarray:
        mask = cv2.dilate(clipped_core(rgb).astype(np.uint8), np.ones((3, 3), np.uint8))
        return cv2.inpaint(rgb, mask, 5, cv2.INPAINT_TELEA) if mask.any() else rgb
    return run, None


def stage(fuse: Fuse | None = None) -> Method:
    """The recovery stage on its own (``--model none``), classical fill or ``fuse``."""
    def make() -> tuple[Frames, HighlightStats]:
        recovery = HighlightRecovery(fuse=fuse)

        def run(rgb: np.ndarray, image: YuvImage) -> np.ndarray:
            return image_to_rgb(recovery(image, image))
        return run, recovery.stats
    return make


def evaluate(clips: list[RampClip], methods: dict[str, Method]
             ) -> tuple[dict[str, dict[str, float]], dict[str, list[np.ndarray]]]:
    """Per method: mean structure, lowest outside PSNR, reference age, switches/min, ms/frame;
    and each clip's peak-frame output."""
    results: dict[str, dict[str, float]] = {}
    peaks: dict[str, list[np.ndarray]] = {}
    for name, make in methods.items():
        scores, psnrs, inside, times, quiet_times, ages = [], [], [], [], [], []
        switches, minutes = 0, 0.0
        by_clip: list[float] = []
        peaks[name] = []
        for clip in clips:
            first = len(scores)
            run, stats = make()
            peak = int(np.argmax([clipped_core(f).mean() for f in clip.inputs]))
            for i, (frame, image) in enumerate(zip(clip.inputs, clip.images)):
                start = time.perf_counter()
                out = run(frame, image)
                elapsed = time.perf_counter() - start
                if i == peak:
                    peaks[name].append(out)
                touchable = stage_mask(frame)
                if not touchable.any():
                    quiet_times.append(elapsed)
                if touchable.mean() < MIN_CLIPPED_SHARE:
                    continue
                times.append(elapsed)
                psnrs.append(outside_psnr(out, frame, touchable))
                mask = clipped_core(frame)
                if mask.mean() < MIN_CLIPPED_SHARE:
                    continue
                inside.append(inside_psnr(out, clip.truth[i], mask))
                score = structure(out, clip.truth[i], mask)
                if score is not None:
                    scores.append(score)
            by_clip.append(float(np.mean(scores[first:])) if len(scores) > first else float("nan"))
            minutes += len(clip.inputs) / clip.fps / 60.0
            if stats is not None:
                switches += stats.switches
                if stats.mean_reference_age is not None:
                    ages.append(stats.mean_reference_age)
        results[name] = {"structure": float(np.mean(scores)) if scores else 0.0,
                         **{f"structure {clip.name}": value for clip, value in zip(clips, by_clip)},
                         "inside_psnr": float(np.mean(inside)) if inside else 0.0,
                         "outside_psnr": float(np.min(psnrs)) if psnrs else 99.0,
                         "age": float(np.mean(ages)) if ages else float("nan"),
                         "switches_per_min": switches / minutes if minutes else 0.0,
                         "ms": 1000.0 * float(np.mean(times)) if times else 0.0,
                         "ms_quiet": 1000.0 * float(np.mean(quiet_times)) if quiet_times else 0.0}
    return results, peaks


def quiet_cost(clip: RampClip, exposure: float = 0.3) -> float:
    """ms per frame of the stage on ``clip`` darkened to ``exposure`` (nothing clipped): its fixed cost."""
    images = [image_from_rgb(np.clip(np.rint(to_display(t / g * exposure) * 255.0), 0, 255).astype(np.uint8))
              for t, g in zip(clip.truth, ramp_gains(clip.fps))]
    recovery = HighlightRecovery()
    start = time.perf_counter()
    for image in images:
        recovery(image, image)
    assert recovery.stats.filled_frames == 0
    return 1000.0 * (time.perf_counter() - start) / len(images)


def markdown_table(results: dict[str, dict[str, float]], clips: list[RampClip], width: int) -> str:
    lines = [f"Clips: {', '.join(c.name for c in clips)} ({width} px wide, gain 1 → {PEAK_GAIN:g} → 1 over 2 s)", "",
             "| method | structure in clipped (ZNCC) | PSNR in clipped vs rolled-off truth (dB) "
             "| PSNR outside, lowest (dB) | reference age (frames) | switches / min | ms / clipped frame "
             "| ms / frame without clipping |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        age = "—" if np.isnan(r["age"]) else f"{r['age']:.1f}"
        switches = f"{r['switches_per_min']:.1f}" if not np.isnan(r["age"]) else "—"
        quiet = f"{r['ms_quiet']:.1f}" if r["ms_quiet"] else "—"
        lines.append(f"| {name} | {r['structure']:.3f} | {r['inside_psnr']:.2f} | {r['outside_psnr']:.1f} | {age} "
                     f"| {switches} | {r['ms']:.1f} | {quiet} |")
    lines += ["", "Structure in clipped areas, per clip (frames with at least "
              f"{100 * MIN_CLIPPED_SHARE:.1f} % fully clipped):", "",
              "| method | " + " | ".join(c.name for c in clips) + " |", "|---|" + "---:|" * len(clips)]
    for name, r in results.items():
        lines.append(f"| {name} | " + " | ".join(f"{r[f'structure {c.name}']:.3f}" for c in clips) + " |")
    return "\n".join(lines)


def contact_sheet(clips: list[RampClip], peaks: dict[str, list[np.ndarray]], tile_width: int = 320) -> np.ndarray:
    """Rows: clips at their most clipped frame; columns: each method, then the truth rolled off for display."""
    rows = []
    for k, clip in enumerate(clips):
        peak = int(np.argmax([clipped_core(f).mean() for f in clip.inputs]))
        truth = np.clip(np.rint(to_display(roll_off(clip.truth[peak])) * 255.0), 0, 255).astype(np.uint8)
        tiles = [peaks[name][k] for name in peaks] + [truth]
        height = round(tiles[0].shape[0] * tile_width / tiles[0].shape[1])
        rows.append(np.concatenate([cv2.resize(t, (tile_width, height), interpolation=cv2.INTER_AREA)
                                    for t in tiles], axis=1))
    width = max(r.shape[1] for r in rows)
    return np.concatenate([np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0))) for r in rows], axis=0)


def default_methods(fusion_weights: Path | None = None) -> dict[str, Method]:
    """nothing, Telea, the stage's classical fill, and the fusion network (shipped, or from ``fusion_weights``)."""
    methods: dict[str, Method] = {"nothing": nothing, "telea": telea, "stage, classical fill": stage()}
    try:
        fuse = open_fusion(TorchRuntime(), fusion_weights)
    except ModelNotAvailableError as error:
        print(f"fusion network left out: {error}")
    else:
        methods["stage, fusion network"] = stage(fuse)
    return methods


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", default=",".join(DEFAULT_CLIPS))
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--fusion", type=Path, default=None, help="folder of fusion weights (default: the shipped)")
    parser.add_argument("--out", type=Path, default=Path("runs/highlights"))
    args = parser.parse_args()
    clips = [make_ramp_clip(args.data / name, args.width) for name in args.clips.split(",") if name]
    methods = default_methods(args.fusion)          # one FusionNet load for both measurements
    results, peaks = evaluate(clips, methods)
    table = markdown_table(results, clips, args.width)
    quiet = quiet_cost(clips[0])
    table += (f"\n\nThe stage on {clips[0].name} darkened so that nothing clips (its fixed cost: thumbnails "
              f"and masks): {quiet:.1f} ms per frame.")
    lamp_clip, cores = make_lamp_clip(clips[0])
    kept = {name: lamp_kept(lamp_clip, cores, make) for name, make in methods.items()}
    table += ("\n\nA real light must stay: share of a sweeping headlight's core still white "
              f"({lamp_clip.name}, gain 1): " + ", ".join(f"{name} {100 * v:.1f} %" for name, v in kept.items()) + ".")
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "highlights.md").write_text(table + "\n")
    sheet = contact_sheet(clips, peaks)
    cv2.imwrite(str(args.out / "highlights_sheet.png"), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    print(f"contact sheet: {args.out / 'highlights_sheet.png'} (columns: {', '.join(peaks)}, truth)")


if __name__ == "__main__":
    main()
