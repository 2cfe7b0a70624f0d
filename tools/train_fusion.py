"""Training of the highlight fusion network (FusionNet); called by ``tools.train --model highlights``.

Samples are made by the real stage (``engines.highlights.HighlightRecovery``),
so the network learns on exactly what it will see:

- a (reference, current) pair of clean pictures: two frames 2–12 apart of a
  clip in ``../shared/data/videos`` — from ``EVAL_SKIP_S`` seconds on, the
  first seconds being ``tools.eval_highlights``' — or a photo of
  ``../shared/data/clean`` and the same photo moved by a small random
  homography (camera shake and pan), 192×192 crops;
- exposures: in linear light the reference × 0.8–1.2, the current × 1.5–4
  (the auto-exposure ramp of a camera reacting late); on half the pairs,
  one or two moving light sources (Gaussian discs 2–8× white, moved by up
  to 30 px in x and in y between the two frames), which are clipped in both;
- both clipped, quantised to 8 bits, 4:2:0; the stage sees the reference,
  then the current; its fill inputs (current, classical fill, weight) are
  captured; the target is the current *unclipped* picture through the same
  highlight roll-off (``engines.highlights.fusion.roll_off``).

Loss, over pixels the weight covers: L1(out, target) + 0.5 · L1(∇out, ∇target)
(the gradient term is what penalises seams and fringes). Adam, cosine
decay. Deterministic for a given ``--seed``, thread count and number of
steps; a ``--max-minutes`` stop (and the schedule's progress, which follows
the clock too) depends on the machine's speed. The held-out
tenth of the samples is scored against the classical fill (the network at
its zero-initialised start) at the end; both figures go to the model card.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from engines.highlights import HighlightRecovery
from engines.highlights.align import to_display, to_linear
from engines.highlights.fusion import classical_fill, roll_off
from engines.image import image_from_rgb
from engines.models.fusion_net import FusionNet
from engines.registry import parameter_count, save_model
from tools.eval_video import read_clip
from tools.dataset import list_training_images
from tools.schedule import set_cosine_lr

EVAL_SKIP_S = 5.0
CROP = 192
PATCH = 64
VIDEO_WIDTH = 384


def video_pairs(folder: Path, rng: random.Random, per_clip: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(reference, current) uint8 RGB crops from each clip, after its first ``EVAL_SKIP_S`` seconds."""
    pairs = []
    for path in sorted(p for p in folder.iterdir() if p.suffix in (".mp4", ".avi")):
        frames = read_clip(path, 400, VIDEO_WIDTH, start_s=EVAL_SKIP_S)
        for _ in range(per_clip if len(frames) > 20 else 0):
            t = rng.randrange(12, len(frames))
            pairs.append(_same_crop(frames[t - rng.randint(2, 12)], frames[t], rng))
    return pairs


def photo_pairs(folder: Path, rng: random.Random, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(photo crop, the same crop moved by a small random homography) uint8 RGB."""
    paths = list_training_images(folder)
    pairs = []
    for path in rng.sample(paths, min(count, len(paths))):
        image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        if min(image.shape[:2]) < CROP + 32:
            continue
        y, x = rng.randrange(image.shape[0] - CROP - 31), rng.randrange(image.shape[1] - CROP - 31)
        big = image[y:y + CROP + 32, x:x + CROP + 32]
        jitter = np.float32([[rng.uniform(-6, 6), rng.uniform(-6, 6)] for _ in range(4)])
        corners = np.float32([[0, 0], [CROP + 31, 0], [CROP + 31, CROP + 31], [0, CROP + 31]])
        moved = cv2.warpPerspective(big, cv2.getPerspectiveTransform(corners, corners + jitter), big.shape[1::-1],
                                    borderMode=cv2.BORDER_REFLECT)
        pairs.append((big[16:16 + CROP, 16:16 + CROP], moved[16:16 + CROP, 16:16 + CROP]))
    return pairs


def _same_crop(a: np.ndarray, b: np.ndarray, rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    y, x = rng.randrange(a.shape[0] - CROP + 1), rng.randrange(a.shape[1] - CROP + 1)
    return a[y:y + CROP, x:x + CROP], b[y:y + CROP, x:x + CROP]


def _lamps(rng: random.Random) -> list[tuple[float, float, float, float, float, float]]:
    """Light sources: (x, y, dx, dy, radius, intensity) — position in the reference, motion to the current."""
    return [(rng.uniform(20, CROP - 20), rng.uniform(20, CROP - 20), rng.uniform(-30, 30), rng.uniform(-30, 30),
             rng.uniform(4, 14), rng.uniform(2, 8)) for _ in range(rng.randint(1, 2))]


def _add_lamps(linear: np.ndarray, lamps: list, moved: bool) -> np.ndarray:
    ys, xs = np.mgrid[0:CROP, 0:CROP].astype(np.float32)
    out = linear.copy()
    for x, y, dx, dy, radius, intensity in lamps:
        cx, cy = (x + dx, y + dy) if moved else (x, y)
        out += (intensity * np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius ** 2)))[..., None]
    return out


def make_sample(reference: np.ndarray, current: np.ndarray, rng: random.Random
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """(current, fill, weight, target) over the stage's fill box, or None when the stage filled nothing."""
    ref_lin = to_linear(reference.astype(np.float32) / 255.0) * rng.uniform(0.8, 1.2)
    truth = to_linear(current.astype(np.float32) / 255.0) * rng.uniform(1.5, 4.0)
    if rng.random() < 0.5:
        lamps = _lamps(rng)
        ref_lin, truth = _add_lamps(ref_lin, lamps, False), _add_lamps(truth, lamps, True)
    encode = lambda lin: image_from_rgb(np.clip(np.rint(to_display(lin) * 255.0), 0, 255).astype(np.uint8))  # noqa: E731
    captured: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def capture(cur: np.ndarray, fill: np.ndarray, weight: np.ndarray) -> np.ndarray:
        captured.append((cur, fill, weight))
        return classical_fill(cur, fill, weight)

    stage = HighlightRecovery(fuse=capture)
    ref_image, cur_image = encode(ref_lin), encode(truth)
    stage(ref_image, ref_image)
    stage(cur_image, cur_image)
    if not captured or stage.last_box is None or float(captured[0][2].max()) < 0.5:
        return None
    x0, y0, x1, y1 = stage.last_box
    target = to_display(roll_off(truth[y0:y1, x0:x1]))
    return (*captured[0], target)


def _patches(samples: list, rng: random.Random, count: int) -> tuple[torch.Tensor, ...]:
    """``count`` random PATCH×PATCH crops, centred near filled pixels, as (N, C, P, P) tensors."""
    batch: list[list[np.ndarray]] = [[], [], [], []]
    while len(batch[0]) < count:
        current, fill, weight, target = samples[rng.randrange(len(samples))]
        height, width = weight.shape
        if height < PATCH or width < PATCH:
            continue
        ys, xs = np.nonzero(weight > 0.5)
        k = rng.randrange(len(ys))
        y = min(max(0, ys[k] - PATCH // 2), height - PATCH)
        x = min(max(0, xs[k] - PATCH // 2), width - PATCH)
        for slot, array in zip(batch, (current, fill, weight[..., None], target)):
            slot.append(array[y:y + PATCH, x:x + PATCH].transpose(2, 0, 1))
    return tuple(torch.from_numpy(np.ascontiguousarray(np.stack(slot), dtype=np.float32)) for slot in batch)


def fusion_loss(out: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """L1 + 0.5 · gradient L1, over pixels with weight > 0 (elsewhere the output is the input by construction)."""
    covered = (weight > 0).float()
    area = covered.sum().clamp_min(1.0)
    l1 = (covered * (out - target).abs()).sum() / (3 * area)
    dx = lambda x: x[..., :, 1:] - x[..., :, :-1]      # noqa: E731
    dy = lambda x: x[..., 1:, :] - x[..., :-1, :]      # noqa: E731
    # A difference counts where both of its pixels are covered.
    gx = (covered[..., :, 1:] * covered[..., :, :-1] * (dx(out) - dx(target)).abs()).sum()
    gy = (covered[..., 1:, :] * covered[..., :-1, :] * (dy(out) - dy(target)).abs()).sum()
    return l1 + 0.5 * (gx + gy) / (6 * area)


def build_samples(videos: Path, photos: Path, rng: random.Random, count: int) -> list:
    pairs = video_pairs(videos, rng, per_clip=count // 8) + photo_pairs(photos, rng, count // 2)
    rng.shuffle(pairs)
    samples = [s for s in (make_sample(a, b, rng) for a, b in pairs) if s is not None]
    return [s for s in samples if min(s[2].shape) >= PATCH]


def train_fusion(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    started = time.time()
    samples = build_samples(args.videos, args.data, rng, args.samples)
    held_out = max(8, len(samples) // 10)
    validation, training = samples[:held_out], samples[held_out:]
    print(f"{len(training)} training and {len(validation)} held-out fills made in {time.time() - started:.0f} s")
    model = FusionNet(width=args.width)
    optimiser = torch.optim.Adam(model.parameters(), lr=args.lr)
    val_batch = _patches(validation, random.Random(args.seed + 1), 256)
    with torch.no_grad():
        # The last layer starts at zero: the untrained network *is* the classical fill.
        baseline = float(fusion_loss(model(*val_batch[:3]), val_batch[3], val_batch[2]))
    started, step = time.time(), 0
    for step in range(1, args.steps + 1):
        minutes = (time.time() - started) / 60.0
        progress = max(step / args.steps, minutes / args.max_minutes if args.max_minutes else 0.0)
        if progress >= 1.0 and step < args.steps:      # the last planned step still runs (at lr ≈ 0)
            break
        set_cosine_lr(optimiser, args.lr, progress)
        current, fill, weight, target = _patches(training, rng, args.batch)
        loss = fusion_loss(model(current, fill, weight), target, weight)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % 200 == 0:
            print(f"step {step}: loss {float(loss):.4f} ({minutes:.1f} min)")
    with torch.no_grad():
        final = float(fusion_loss(model(*val_batch[:3]), val_batch[3], val_batch[2]))
    print(f"held-out loss: classical fill {baseline:.4f} → network {final:.4f} after {step} steps")
    info = save_model(args.name or "highlights", model, "FusionNet",
                      {"width": args.width, "steps": step, "held_out_loss": round(final, 5),
                       "held_out_loss_classical": round(baseline, 5)}, args.out)
    print(f"saved {info.path} ({parameter_count(model)} parameters, sha256 {info.sha256[:12]}…)")
