"""Training loop of the ``quality`` model (RestoreNet); called by ``tools.train --model quality``.

Each step: random 128×128 crops of the clean pool (``tools.train``), degraded
by ``tools.lowlight_synth.degrade_restoration`` (exposure 1/50…1/4, lamps,
colour cast, per-channel Poisson–Gaussian noise, camera shake with
``--blur-probability``, JPEG blocking); a denoise strength d per crop (1 for
half the crops, uniform in [0, 1] otherwise) is the conditioning map, and the
target is the clean picture with (1 − d) of the grain kept. Loss:

    L1(out, target) + 0.2 · (1 − SSIM(out, target))        (SSIM from kornia, 11×11 window)

Adam with gradient-norm clipping at 1, cosine learning-rate decay over the run's progress — steps or wall time,
whichever is further along, so a run cut short by ``--max-minutes`` still ends
at a low rate. On the CPU, deterministic for a given ``--seed``, ``--workers``
and thread count (cuDNN kernels make GPU runs differ slightly). ``--workers N`` makes the batches in N processes (a GPU is otherwise
left waiting for the CPU's degradation work).
"""

from __future__ import annotations

import argparse
import math
import random
import time

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from kornia.losses import ssim_loss
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from engines.models.restore_net import MULTIPLE, RestoreNet
from engines.registry import parameter_count, save_model
from stream.images import is_image_path
from tools.dataset import load_training_pool, sample_batch
from tools.lowlight_synth import RestorationRanges, degrade_restoration
from tools.schedule import set_cosine_lr

SSIM_WEIGHT = 0.2
REAL_SHARE = 0.3
# LOL-v1's evaluation images: never trained on, whatever folder they turn up in.
LOL_EVAL15 = {"1", "22", "23", "55", "79", "111", "146", "179", "493", "547", "665", "669", "748", "778", "780"}
GRADIENT_CLIP = 1.0
WIDTHS = (16, 32, 64)


def sample_denoise(n: int, generator: torch.Generator) -> torch.Tensor:
    """Denoise strengths (N, 1, 1, 1): 1 for half the crops, uniform in [0, 1] for the rest."""
    d = torch.rand(n, generator=generator)
    full = torch.rand(n, generator=generator) < 0.5
    return torch.where(full, torch.ones_like(d), d).view(n, 1, 1, 1)


def load_real_pairs(root: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """(low, high) uint8 RGB pairs under ``root``: each ``low`` folder with a sibling ``high``/``normal``."""
    pairs = []
    if not root.is_dir():
        return pairs
    for low_dir in sorted(d for d in root.rglob("*") if d.is_dir() and d.name.lower() == "low"):
        high_dir = next((d for d in low_dir.parent.iterdir() if d.is_dir() and d.name.lower() in ("high", "normal")), None)
        if high_dir is None:
            continue
        for low_path in sorted(p for p in low_dir.iterdir() if is_image_path(p)):
            high_path = high_dir / low_path.name
            if low_path.stem in LOL_EVAL15 or not high_path.exists():
                continue
            low, high = (cv2.imread(str(p), cv2.IMREAD_COLOR) for p in (low_path, high_path))
            if low is not None and high is not None and low.shape == high.shape:
                pairs.append((low[:, :, ::-1].copy(), high[:, :, ::-1].copy()))
    return pairs


def sample_real_batch(pairs: list[tuple[np.ndarray, np.ndarray]], batch: int, patch: int, rng: random.Random
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Aligned random crops (N, 3, patch, patch) of low and high, in [0, 1], mirrored half the time."""
    lows, highs = [], []
    for _ in range(batch):
        low, high = pairs[rng.randrange(len(pairs))]
        top, left = rng.randrange(low.shape[0] - patch + 1), rng.randrange(low.shape[1] - patch + 1)
        flip = rng.random() < 0.5
        for image, out in ((low, lows), (high, highs)):
            crop = image[top:top + patch, left:left + patch]
            out.append(torch.from_numpy(np.ascontiguousarray(crop[:, ::-1] if flip else crop)).permute(2, 0, 1))
    return torch.stack(lows).float() / 255.0, torch.stack(highs).float() / 255.0


class DegradedBatches(IterableDataset):
    """Endless (dark, target, denoise) batches: (N, 3, P, P), (N, 3, P, P), (N, 1, 1, 1).

    Each worker (or the main process, worker 0) has its own seeds,
    ``seed + 1009 · worker``, so the stream is reproducible for a worker count.
    """

    def __init__(self, images: list[np.ndarray], batch: int, patch: int, ranges: RestorationRanges, seed: int,
                 real_pairs: list[tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        self.images, self.batch, self.patch, self.ranges, self.seed = images, batch, patch, ranges, seed
        self.real_pairs = [p for p in (real_pairs or []) if min(p[0].shape[:2]) >= patch]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        worker = get_worker_info()
        seed = self.seed + 1009 * (worker.id if worker else 0)
        rng, generator = random.Random(seed), torch.Generator().manual_seed(seed)
        while True:
            if self.real_pairs and rng.random() < REAL_SHARE:
                dark, target = sample_real_batch(self.real_pairs, self.batch, self.patch, rng)
                yield dark, target, torch.ones(self.batch, 1, 1, 1)
                continue
            clean = sample_batch(self.images, self.batch, rng, (self.patch, self.patch))
            pair = degrade_restoration(clean, generator, self.ranges)
            denoise = sample_denoise(self.batch, generator)
            yield pair.dark, pair.target(denoise), denoise


def train_quality(args: argparse.Namespace) -> None:
    if args.patch % MULTIPLE:
        raise SystemExit(f"--patch must be a multiple of {MULTIPLE}")
    torch.manual_seed(args.seed)
    ranges = RestorationRanges(blur_probability=args.blur_probability)
    images = load_training_pool(args.data)
    real_pairs = load_real_pairs(Path(args.pairs)) if getattr(args, "pairs", None) else []
    print(f"real pairs: {len(real_pairs)}" + (f" from {args.pairs}" if real_pairs else " (none found; synthetic only)"))
    workers = getattr(args, "workers", 0)
    batches = iter(DataLoader(DegradedBatches(images, args.batch, args.patch, ranges, args.seed, real_pairs),
                              batch_size=None,
                              num_workers=workers, persistent_workers=workers > 0))
    model = RestoreNet(WIDTHS)
    if args.init:
        from safetensors.torch import load_file

        model.load_state_dict(load_file(str(args.init)))
        print(f"starting from {args.init}")
    device = torch.device(args.device)
    model = model.to(device)
    print(f"RestoreNet {WIDTHS}: {parameter_count(model)} parameters, training on {device}, "
          f"blur probability {args.blur_probability}")
    optimiser = torch.optim.Adam(model.parameters(), lr=args.lr)
    start = time.time()
    limit_s = 60 * args.max_minutes if args.max_minutes else math.inf
    running = 0.0
    done = 0
    for step in range(1, args.steps + 1):
        progress = max(step / args.steps, (time.time() - start) / limit_s)
        if progress >= 1.0 and step < args.steps:
            print(f"stopping after {done} steps: --max-minutes {args.max_minutes} reached")
            break
        set_cosine_lr(optimiser, args.lr, progress)
        dark, target, denoise = (x.to(device, non_blocking=True) for x in next(batches))
        out = model(dark, denoise.expand(-1, 1, args.patch, args.patch))
        loss = F.l1_loss(out, target) + SSIM_WEIGHT * 2 * ssim_loss(out.clamp(0, 1), target, 11)
        optimiser.zero_grad()
        loss.backward()
        # Without normalisation layers a bad batch can throw the net off (a GPU run at lr 2e-3 diverged without this).
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRADIENT_CLIP)
        optimiser.step()
        done = step
        value = float(loss.detach())
        running = 0.98 * running + 0.02 * value if step > 1 else value
        if step % 100 == 0 or step == args.steps:
            print(f"step {step:5d}  loss {running:.4f}  lr {optimiser.param_groups[0]['lr']:.2e}  "
                  f"{time.time() - start:6.0f} s", flush=True)
    settings = {"widths": list(WIDTHS), "steps": done, "batch": args.batch, "patch": args.patch,
                "blur_probability": args.blur_probability}
    info = save_model(args.name or args.model, model.cpu(), "RestoreNet", settings, args.out)
    print(f"wrote {info.path} sha256 {info.sha256}")
