#!/usr/bin/env bash
# One device session on a lent NVIDIA machine (see README, "Performance" and "Development"):
#   1. train the fast model on the GPU with tools/train.py (same code as on the CPU),
#   2. run the engine tests, CUDA ones included, against the new weights,
#   3. time the estimator on the GPU and a 1080p30 `nocturne enhance` (300 frames, x264 ultrafast)
#      with --device cuda vs cpu, two runs each; time the quality network alone at 1080p fp16.
# Expects wheels in .whl/ (PyAV, pydantic, typer for Python 3.12) and training images in
# .gpu/train/ (made by `python -m tools.train --prepare .gpu/train`). Results go to $OUT.
set -u
OUT=${OUT:-gpu-out}; mkdir -p "$OUT"
STEPS=${STEPS:-6000}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  || { echo "wheel install failed"; exit 1; }
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"

echo "== train"
python3 -m tools.train --device cuda --data .gpu/train --steps "$STEPS" --batch 16 --threads 8 \
  --max-minutes 5 --out "$OUT" 2>&1 | tee "$OUT/train.log" | tail -n 4
cp "$OUT"/fast.safetensors "$OUT"/manifest.json engines/weights/ || exit 1

echo "== tests"
python3 -m pytest tests/engines -q -p no:cacheprovider 2>&1 | tail -n 6 | tee "$OUT/pytest.txt"

echo "== timings"
python3 - <<'PY' 2>&1 | tee "$OUT/timing.txt"
import time, subprocess, sys, fractions
import av, numpy as np, torch
from engines.runtimes import TorchRuntime, cuda_available
print("cuda_available():", cuda_available())
est = TorchRuntime("cuda").open("fast")
x = np.random.rand(1, 3, 90, 160).astype(np.float32)
for _ in range(20): est(x)
torch.cuda.synchronize(); t = time.perf_counter()
for _ in range(200): est(x)
torch.cuda.synchronize(); print(f"estimator 160x90 on {torch.cuda.get_device_name()}: {(time.perf_counter()-t)/200*1e3:.3f} ms (incl. host copies)")
rng = np.random.default_rng(0)
with av.open("/tmp/dark1080.mp4", "w") as c:
    s = c.add_stream("libx264", rate=30); s.width, s.height, s.pix_fmt = 1920, 1080, "yuv420p"
    s.codec_context.options = {"preset": "ultrafast", "crf": "23"}
    base = (rng.random((1080, 1920, 3)) * 60).astype(np.uint8)
    for i in range(300):
        f = av.VideoFrame.from_ndarray(np.roll(base, 4 * i, axis=1), format="rgb24").reformat(format="yuv420p")
        f.pts, f.time_base = i, fractions.Fraction(1, 30)
        c.mux(s.encode(f))
    c.mux(s.encode(None))
for run in (1, 2):
    for device in ("cuda", "cpu"):
        r = subprocess.run([sys.executable, "-m", "stream.cli", "enhance", "/tmp/dark1080.mp4", "-o", f"/tmp/out_{device}.mp4",
                            "--device", device, "--preset", "ultrafast"], capture_output=True, text=True)
        print(device, "rc", r.returncode, r.stderr.strip().splitlines()[-1:])
PY
echo "== quality model, 1080p fp16 (issue 3's figure: <= 2.5 ms)"
python3 -m tools.time_model --model quality --size 1920x1080 --device cuda --repeats 50 2>&1 | tee "$OUT/time_quality.txt"
python3 -m stream.cli doctor 2>&1 | head -n 30 > "$OUT/doctor.txt"
echo "== done"
