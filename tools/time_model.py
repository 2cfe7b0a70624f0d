"""Time one shipped network per frame at a given size, on a device, the network alone.

    python -m tools.time_model --model quality --size 1920x1080 --device cuda        # fp16 on a GPU
    python -m tools.time_model --model quality --size 1280x720 --device cpu --threads 2

Inputs are made on the device once (no host copies in the figure); every
timed call is followed by ``torch.cuda.synchronize()`` on CUDA, so the time
is the GPU's, not the launch queue's. Prints the median and the 10th/90th
percentiles over ``--repeats`` calls after ``--warmup`` calls; with
``--onnx`` on the CPU, ONNX Runtime's time on the same input is printed beside.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from engines.io_specs import IO_SPECS
from engines.registry import load_model
from engines.runtimes import OnnxRuntime


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def time_torch(model_name: str, width: int, height: int, device: str, repeats: int, warmup: int,
               compile_mode: str | None = None) -> list[float]:
    """Milliseconds per call of the torch model (fp16 on CUDA, fp32 on the CPU), optionally torch.compile'd."""
    model, info = load_model(model_name)
    dtype = torch.float16 if device == "cuda" else torch.float32
    model = model.to(device, dtype)
    if compile_mode:
        model = torch.compile(model, mode=compile_mode)
    inputs = [torch.from_numpy(x).to(device, dtype) for x in IO_SPECS[info.architecture].examples(height, width)]
    times = []
    with torch.inference_mode():
        for i in range(warmup + repeats):
            start = time.perf_counter()
            model(*inputs)
            if device == "cuda":
                torch.cuda.synchronize()
            if i >= warmup:
                times.append(1000.0 * (time.perf_counter() - start))
    return times


def time_onnx(model_name: str, width: int, height: int, threads: int, repeats: int, warmup: int) -> list[float]:
    """Milliseconds per call of the exported model in ONNX Runtime on the CPU."""
    estimator = OnnxRuntime(threads=threads).open(model_name)
    inputs = IO_SPECS[estimator.info.architecture].examples(height, width)
    times = []
    for i in range(warmup + repeats):
        start = time.perf_counter()
        estimator(*inputs)
        if i >= warmup:
            times.append(1000.0 * (time.perf_counter() - start))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="quality")
    parser.add_argument("--size", default="1920x1080", help="WIDTHxHEIGHT (multiples of 8 for quality)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--onnx", action="store_true", help="also time ONNX Runtime (CPU)")
    parser.add_argument("--compile", default="", help="also time torch.compile with this mode (e.g. max-autotune)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    if width % 8 or height % 8:
        parser.error(f"--size {args.size}: width and height must be multiples of 8")
    torch.set_num_threads(args.threads)
    label = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU, {args.threads} threads"
    rows = [("torch " + ("fp16" if args.device == "cuda" else "fp32"),
             time_torch(args.model, width, height, args.device, args.repeats, args.warmup))]
    if args.compile:
        rows.append((f"torch.compile {args.compile}", time_torch(args.model, width, height, args.device, args.repeats,
                                                                 max(args.warmup, 5), args.compile)))
    if args.onnx:
        rows.append(("onnxruntime fp32", time_onnx(args.model, width, height, args.threads, args.repeats, args.warmup)))
    print(f"{args.model} at {width}x{height} on {label}, {args.repeats} calls:")
    for name, times in rows:
        print(f"  {name}: median {statistics.median(times):.2f} ms (p10 {_percentile(times, 10):.2f}, "
              f"p90 {_percentile(times, 90):.2f})")


if __name__ == "__main__":
    main()
