"""Train nocturne's models on synthetic low-light pairs.

    python -m tools.train --model fast --data ../shared/data/clean --steps 3000
    python -m tools.train --model quality --steps 10000 --max-minutes 55   # ≈ 55 min on 1 CPU core

``fast`` (CurveNet) is described below; ``quality`` (RestoreNet) is trained by
``tools.train_quality`` on ``tools.lowlight_synth.degrade_restoration`` pairs;
``highlights`` (FusionNet, the highlight recovery's fusion network) by
``tools.train_fusion`` on fills the real stage makes (``--samples``, ``--videos``).

Data: clean photos (``--data``), minus the dev folders kept for evaluation
(``tools.dataset.DEV_FOLDERS``) and minus pictures that are dark by content. Each step
degrades a batch with ``tools.lowlight_synth.degrade`` (exposure 1/40…1/3 in
linear light, lamps that keep their radiance, Poisson–Gaussian noise, 8-bit),
runs the exact inference path (thumbnail → CurveNet → luma curve + chroma gain
at full resolution, 4:2:0 chroma) and minimises

    L1(Y) + L1(Cb, Cr) + 0.05 · TV(alpha) + 100 · reversal(Y_in, Y_out)

against the clean picture. Deterministic for a given --seed (single thread
ordering aside). Writes ``engines/weights/<model>.safetensors`` and updates the
manifest; ``tools.eval`` then measures it and the model card records it.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from engines.colour import rgb_to_yuv
from engines.curve_torch import apply_curve_maps_torch, thumbnail_planes
from engines.curves import DEFAULT_ITERATIONS
from engines.models.curve_net import CurveNet
from engines.registry import MODEL_NAMES, WEIGHTS_DIR, parameter_count, save_model
from tools.dataset import load_training_pool, prepare, sample_batch
from tools.lowlight_synth import degrade
from tools.schedule import set_cosine_lr
from tools.train_fusion import train_fusion
from tools.train_quality import train_quality


def to_planes(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(N,3,H,W) R'G'B' → Y (N,1,H,W), Cb/Cr at 4:2:0 (N,1,H/2,W/2), BT.709 normalised."""
    y, cb, cr = rgb_to_yuv(rgb[:, 0:1], rgb[:, 1:2], rgb[:, 2:3], "bt709")
    return y, F.avg_pool2d(cb, 2), F.avg_pool2d(cr, 2)


def forward(model: CurveNet, dark: torch.Tensor, factor: int, iterations: int):
    y, cb, cr = to_planes(dark)
    y_t, rgb_t = thumbnail_planes(y, cb, cr, factor)
    alpha = model(rgb_t)
    return apply_curve_maps_torch(y, cb, cr, y_t, alpha, iterations), alpha


def gradient_reversal(y_in: torch.Tensor, y_out: torch.Tensor, pool: int = 4, threshold: float = 0.004) -> torch.Tensor:
    """Penalty where the output's luma slope runs against the input's (halo rings around lamps).

    A per-pixel curve whose strength changes faster than the picture's own
    brightness can make a lamp's glow darker than the lifted street beyond it;
    this term asks every 4×4-block slope to keep its sign.
    """
    a, b = F.avg_pool2d(y_in, pool), F.avg_pool2d(y_out, pool)
    total = y_in.new_zeros(())
    for dim in (-1, -2):
        d_in, d_out = torch.diff(a, dim=dim), torch.diff(b, dim=dim)
        direction = torch.sign(d_in) * (d_in.abs() > threshold)
        total = total + F.relu(-d_out * direction).mean()
    return total


def total_variation(x: torch.Tensor) -> torch.Tensor:
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()


def train(args: argparse.Namespace) -> None:
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    images = load_training_pool(args.data)
    device = torch.device(args.device)
    model = CurveNet(width=args.width)
    if args.init:
        from safetensors.torch import load_file

        model.load_state_dict(load_file(str(args.init)))
        print(f"starting from {args.init}")
    model = model.to(device)
    print(f"CurveNet width {args.width}: {parameter_count(model)} parameters, training on {device}")
    optimiser = torch.optim.Adam(model.parameters(), lr=args.lr)
    start = time.time()
    running = 0.0
    for step in range(1, args.steps + 1):
        if args.max_minutes and time.time() - start > 60 * args.max_minutes:
            print(f"stopping at step {step}: --max-minutes {args.max_minutes} reached")
            break
        clean = sample_batch(images, args.batch, rng).to(device)
        dark, target = degrade(clean, generator)
        factor = rng.choice((4, 6, 8))
        (y, cb, cr), alpha = forward(model, dark, factor, args.iterations)
        ty, tcb, tcr = to_planes(target)
        y_in = to_planes(dark)[0]
        loss = (F.l1_loss(y, ty) + F.l1_loss(cb, tcb) + F.l1_loss(cr, tcr) + args.tv * total_variation(alpha)
                + args.reversal * gradient_reversal(y_in, y))
        optimiser.zero_grad()
        loss.backward()
        set_cosine_lr(optimiser, args.lr, (step - 1) / args.steps)     # the rate LambdaLR gave this step before
        optimiser.step()
        value = float(loss.detach())
        running = 0.98 * running + 0.02 * value if step > 1 else value
        if step % 100 == 0 or step == args.steps:
            print(f"step {step:5d}  loss {running:.4f}  {time.time() - start:6.0f} s", flush=True)
    info = save_model(args.model, model.cpu(), "CurveNet", {"width": args.width, "iterations": args.iterations},
                      args.out)
    print(f"wrote {info.path} sha256 {info.sha256}")


def load_training_config(path: Path, parser: argparse.ArgumentParser) -> dict:
    """Option defaults from YAML (keys as the long options, with - or _); unknown keys are an error."""
    import yaml

    data = yaml.safe_load(path.read_text()) or {}
    known = {action.dest for action in parser._actions}
    values = {str(key).replace("-", "_"): value for key, value in data.items()}
    unknown = sorted(set(values) - known)
    if unknown:
        parser.error(f"{path}: unknown option(s) {', '.join(unknown)}")
    for key in ("data", "out", "init", "pairs"):
        if values.get(key) is not None:
            values[key] = Path(values[key])
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fast", choices=MODEL_NAMES)
    parser.add_argument("--name", help="save the weights under this name (default: --model)")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared/data/clean")
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, help="pictures per step (fast 8, quality 12)")
    parser.add_argument("--lr", type=float, help="peak learning rate (fast 3e-3, quality 1e-3)")
    parser.add_argument("--blur-probability", type=float, default=0.5, help="quality: share of shake-blurred pairs")
    parser.add_argument("--patch", type=int, default=128, help="quality: training crop size (multiple of 8)")
    parser.add_argument("--workers", type=int, default=0, help="quality: processes making the batches (GPU training)")
    parser.add_argument("--width", type=int, default=16, help="fast: CurveNet width (quality: RestoreNet (16, 32, 64))")
    parser.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS)
    parser.add_argument("--tv", type=float, default=0.05)
    parser.add_argument("--reversal", type=float, default=100.0, help="weight of the gradient-reversal (halo) penalty")
    parser.add_argument("--init", type=Path, help="start from these safetensors weights (fine-tuning)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-minutes", type=float, default=0, help="stop early (and save) after this long")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (same results up to float rounding)")
    parser.add_argument("--prepare", type=Path, help="only write the resized training pool here and exit")
    parser.add_argument("--pairs", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared/data/lol_train",
                        help="quality: real low/high pairs (LOL layout), mixed in when the folder exists")
    parser.add_argument("--config", type=Path, help="YAML of option defaults (configs/train-*.yaml); flags win")
    parser.add_argument("--videos", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared/data/videos",
                        help="highlights: clips for (reference, current) pairs")
    parser.add_argument("--samples", type=int, default=1600, help="highlights: fills to make before training")
    first, _ = parser.parse_known_args()
    if first.config:
        parser.set_defaults(**load_training_config(first.config, parser))
    args = parser.parse_args()
    if args.prepare:
        prepare(args.data, args.prepare)
        return
    torch.set_num_threads(args.threads)
    quality = args.model == "quality"
    args.batch = args.batch or (12 if quality else 8 if args.model == "fast" else 16)
    args.lr = args.lr or (1e-3 if quality else 3e-3)
    if quality:
        train_quality(args)
    elif args.model == "highlights":
        train_fusion(args)
    else:
        train(args)


if __name__ == "__main__":
    main()
