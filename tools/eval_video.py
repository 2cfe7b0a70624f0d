"""Video measures: flicker, noise and detail of the enhancers on synthetic dark clips.

    python -m tools.eval_video [--clips a.mp4,b.mp4] [--frames 48] [--width 640] [--out runs/eval]

Clips: daytime videos from ``../shared/data/videos`` (no frame of them is in
the training pool), first ``--frames`` frames, reduced to ``--width``: a static
camera with people walking, and a moving dashcam. Each frame is darkened with
``tools.lowlight_synth.degrade_restoration`` with every parameter fixed
(exposure ``EXPOSURE``, one colour cast, one noise level; no lamps, blur or
compression) and fresh noise per frame — a static camera's night video of the
same scene. Frames go through the real enhancers as 8-bit 4:2:0 ``YuvImage``
in order, with their timestamps.

Measures (on BT.709 luma, 8-bit codes), per method, averaged over frames and clips.
The output clip's luma is first scaled by one gain so its mean equals the clean
clip's (flicker, noise and detail compare at the same brightness; PSNR and
moving PSNR use the output as it is):
    psnr       against the clean frame;
    flicker    mean |out_t − warp(out_{t−1})| over pixels the flow can follow
               (forward–backward consistent), flow by OpenCV DIS (medium preset)
               on the *clean* frames — the motion as it really was; the clean
               clip's own value is the floor (interpolation error). Frame-to-frame
               noise counts as flicker, as viewers see it;
    noise      ``skimage.restoration.estimate_sigma`` of the output luma;
    detail     Σ ∇out·∇clean / Σ |∇clean|² over textured pixels (the top
               ``TEXTURE_QUANTILE`` of clean gradient magnitude): the share of the
               clean frame's fine structure the output reproduces — blur lowers it,
               noise (uncorrelated with the clean gradients) does not raise it;
    moving     PSNR on pixels that changed between consecutive clean frames
               (where a temporal filter would ghost).
Methods: ``fast`` (curves only, per frame), ``fast+temporal``, ``quality``
(per frame, no temporal), ``quality+temporal``; then the denoise knob swept on
``quality+temporal``, written as a table and a plot (knob.png).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import av
import cv2
import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio
from skimage.restoration import estimate_sigma

from engines.colour import rgb_to_yuv
from engines.image import image_from_rgb, image_to_rgb
from engines.enhancer import Enhancer
from engines.temporal import TemporalDenoiser, TemporallyDenoised, warp
from tools.eval import model_enhancer, to_uint8
from tools.lowlight_synth import RestorationRanges, degrade_restoration

EXPOSURE = 1 / 20
VIDEO_RANGES = RestorationRanges(exposure=(EXPOSURE, EXPOSURE), keep_exposure_probability=0.0, lamp_probability=0.0,
                                 shot_noise=(1.5e-3, 1.5e-3), read_noise=(3e-5, 3e-5), channel_noise=(1.2, 1.2),
                                 cast=(0.85, 0.85), blur_probability=0.0, jpeg_probability=0.0)
# Not the solidWhiteRight dashcam clip: one of its frames is in the training pool (road_udacity/p1_*).
DEFAULT_CLIPS = ("day_indoor_people_walking__intel_one-by-one-person-detection.mp4",
                 "day_highway_dashcam_short__udacity_vehicle-detection_test_video.mp4")
TEXTURE_QUANTILE = 0.75
KNOB = (0.0, 0.25, 0.5, 0.75, 1.0)
FPS = 25.0


@dataclass(frozen=True)
class Clip:
    """Clean frames and their dark versions, uint8 RGB (T, H, W, 3), H and W even."""

    name: str
    clean: np.ndarray
    dark: np.ndarray


def read_clip(path: Path, frames: int, width: int, start_s: float = 0.0) -> np.ndarray:
    """``frames`` frames of ``path`` from ``start_s`` seconds on as uint8 RGB, resized to ``width`` (even H and W);
    none (a (0, 0, width, 3) array) when the clip ends before ``start_s``."""
    out = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if start_s > 0 and (frame.time is None or frame.time < start_s):
                continue
            rgb = frame.to_ndarray(format="rgb24")
            height = round(rgb.shape[0] * width / rgb.shape[1]) // 2 * 2
            out.append(cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA))
            if len(out) == frames:
                break
    return np.stack(out) if out else np.empty((0, 0, width, 3), np.uint8)


def darken(clean: np.ndarray, seed: int = 0) -> np.ndarray:
    """Every frame with the same camera settings and fresh noise (seed + frame index)."""
    dark = []
    for i, frame in enumerate(clean):
        x = torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 255.0
        dark.append(to_uint8(degrade_restoration(x, torch.Generator().manual_seed(seed + i), VIDEO_RANGES).dark[0]))
    return np.stack(dark)


def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.709 Y' of uint8 RGB, float32 in codes 0..255."""
    return rgb_to_yuv(*(rgb[..., i].astype(np.float32) for i in range(3)))[0]


def run_enhancer(enhancer: Enhancer, dark: np.ndarray) -> np.ndarray:
    """The clip through one enhancer, in order, 25 fps timestamps; uint8 RGB (T, H, W, 3)."""
    enhancer.reset()
    return np.stack([image_to_rgb(enhancer.enhance(image_from_rgb(frame), i / FPS)) for i, frame in enumerate(dark)])


def _flows(clean_luma: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """For t ≥ 1: (flow t→t−1, valid mask) from the clean luma, forward–backward checked."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    out = []
    for t in range(1, len(clean_luma)):
        a, b = (np.clip(clean_luma[i], 0, 255).astype(np.uint8) for i in (t, t - 1))
        back = dis.calc(a, b, None)
        forth = dis.calc(b, a, None)
        round_trip = back + warp(forth, back)
        valid = np.linalg.norm(round_trip, axis=2) < 0.5
        out.append((back, valid))
    return out


def _gradients(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return cv2.Sobel(y, cv2.CV_32F, 1, 0), cv2.Sobel(y, cv2.CV_32F, 0, 1)


def detail_share(out_y: np.ndarray, ref_y: np.ndarray) -> float:
    """Σ ∇out·∇ref / Σ |∇ref|² over the textured pixels of ``ref_y`` (1 = all of its structure)."""
    (ox, oy), (rx, ry) = _gradients(out_y), _gradients(ref_y)
    magnitude = np.hypot(rx, ry)
    textured = magnitude >= np.quantile(magnitude, TEXTURE_QUANTILE)
    return float((ox * rx + oy * ry)[textured].sum() / max(float((rx * rx + ry * ry)[textured].sum()), 1e-6))


def video_metrics(output: np.ndarray, clean: np.ndarray,
                  flows: list[tuple[np.ndarray, np.ndarray]] | None = None) -> dict[str, float]:
    """The module's measures for one output clip (uint8 RGB (T, H, W, 3)) against its clean clip."""
    out_y, ref_y = luma(output), luma(clean)
    flows = flows if flows is not None else _flows(ref_y)
    # One gain for the whole clip: same mean brightness as the clean clip, while brightness
    # pumping from frame to frame still shows as flicker.
    scaled = out_y * (ref_y.mean() / max(float(out_y.mean()), 1e-3))
    flicker = [float(np.abs(scaled[t] - warp(scaled[t - 1], f))[valid].mean())
               for t, (f, valid) in enumerate(flows, start=1)]
    noise, detail, moving = [], [], []
    for t in range(len(out_y)):
        noise.append(float(estimate_sigma(scaled[t] / 255.0)) * 255.0)
        detail.append(detail_share(scaled[t], ref_y[t]))
        if t:
            changed = np.abs(ref_y[t] - ref_y[t - 1]) > 10
            if changed.sum() > 100:
                moving.append(peak_signal_noise_ratio(ref_y[t][changed], out_y[t][changed], data_range=255))
    psnr = [peak_signal_noise_ratio(c, o, data_range=255) for c, o in zip(clean, output)]
    return {"psnr": float(np.mean(psnr)), "flicker": float(np.mean(flicker)), "noise": float(np.mean(noise)),
            "detail": float(np.mean(detail)), "moving": float(np.mean(moving)) if moving else float("nan")}


def methods(denoise: float) -> dict[str, Callable[[], Enhancer]]:
    """The compared enhancers, made fresh per clip (per-stream state)."""
    return {
        "fast": lambda: model_enhancer("fast"),
        "fast+temporal": lambda: TemporallyDenoised(model_enhancer("fast"), TemporalDenoiser(denoise)),
        "quality": lambda: model_enhancer("quality", denoise=denoise),
        "quality+temporal": lambda: TemporallyDenoised(model_enhancer("quality", denoise=denoise),
                                                       TemporalDenoiser(denoise)),
    }


def _average(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: float(np.nanmean([r[k] for r in rows])) for k in rows[0]}


def table(results: dict[str, dict[str, float]], first_column: str = "method") -> str:
    lines = [f"| {first_column} | PSNR dB | flicker | noise σ | detail | moving PSNR dB |", "|---|---:|---:|---:|---:|---:|"]
    for name, m in results.items():
        lines.append(f"| {name} | {m['psnr']:.2f} | {m['flicker']:.2f} | {m['noise']:.2f} | {m['detail']:.3f} "
                     f"| {m['moving']:.2f} |")
    return "\n".join(lines) + "\n"


def knob_plot(knob: dict[float, dict[str, float]], path: Path) -> None:
    """Noise and detail (relative to denoise 0) against the knob; PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = sorted(knob)
    noise = [knob[x]["noise"] / knob[xs[0]]["noise"] for x in xs]
    detail = [knob[x]["detail"] / knob[xs[0]]["detail"] for x in xs]
    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=120)
    ax.plot(xs, noise, "o-", label="noise σ (rel. to denoise 0)")
    ax.plot(xs, detail, "s-", label="detail: share of clean structure (rel.)")
    ax.set_xlabel("--denoise")
    ax.set_ylabel("relative to denoise 0")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("quality + temporal: the noise/detail knob")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    videos = Path(__file__).resolve().parents[1].parent / "shared/data/videos"
    parser.add_argument("--clips", default=",".join(str(videos / c) for c in DEFAULT_CLIPS))
    parser.add_argument("--frames", type=int, default=36)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--denoise", type=float, default=1.0, help="denoise setting of the compared methods")
    parser.add_argument("--out", type=Path, default=Path("runs/eval"))
    args = parser.parse_args()
    torch.set_num_threads(2)

    clips = []
    for path in map(Path, args.clips.split(",")):
        clean = read_clip(path, args.frames, args.width)
        clips.append(Clip(path.stem, clean, darken(clean)))
    flows = {clip.name: _flows(luma(clip.clean)) for clip in clips}
    per_method: dict[str, list[dict[str, float]]] = {"clean (floor)": [], "dark input": []}
    for clip in clips:
        per_method["clean (floor)"].append(video_metrics(clip.clean, clip.clean, flows[clip.name]))
        per_method["dark input"].append(video_metrics(clip.dark, clip.clean, flows[clip.name]))
    for name, make in methods(args.denoise).items():
        per_method[name] = [video_metrics(run_enhancer(make(), c.dark), c.clean, flows[c.name]) for c in clips]
        print(name, _average(per_method[name]), flush=True)
    results = {name: _average(rows) for name, rows in per_method.items()}
    knob = {}
    for d in KNOB:
        make = methods(d)["quality+temporal"]
        knob[d] = _average([video_metrics(run_enhancer(make(), c.dark), c.clean, flows[c.name]) for c in clips])
        print("denoise", d, knob[d], flush=True)
    text = (f"Clips: {', '.join(c.name for c in clips)}; {args.frames} frames at {args.width} px wide, exposure "
            f"1/{round(1 / EXPOSURE)}, fixed noise and cast; denoise {args.denoise}.\n\n" + table(results)
            + "\nDenoise knob (quality+temporal):\n\n" + table({f"denoise {d}": m for d, m in knob.items()}, "setting"))
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "eval_video.md").write_text(text)
    knob_plot(knob, args.out / "knob.png")
    print(f"wrote {args.out / 'eval_video.md'} and {args.out / 'knob.png'}")


if __name__ == "__main__":
    main()
