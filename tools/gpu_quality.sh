#!/usr/bin/env bash
# One device session for the quality model (issue 3) on a lent NVIDIA machine:
#   1. the engine tests, CUDA ones included;
#   2. the quality network alone at 1080p, fp16, eager and torch.compile (target: <= 2.5 ms);
#   3. (TRAIN_MINUTES > 0) train the quality model twice at once on the GPU with the same code as on
#      the CPU — with camera-shake blur and without (the ablation) — batches made by worker processes.
# Expects wheels in ${WHEELS:-.whl}/ (kornia for training; PyAV for test_colour) and the training pool in
# .gpu/train/ (`python -m tools.train --prepare .gpu/train`). Results and weights go to $OUT.
set -u
OUT=${OUT:-gpu-out}; mkdir -p "$OUT"
TRAIN_MINUTES=${TRAIN_MINUTES:-0}
PYTEST_ARGS=${PYTEST_ARGS:-}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site ${WHEELS:-.whl}/*.whl \
  || { echo "wheel install failed"; exit 1; }
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 NOCTURNE_CACHE=/tmp/nocturne-cache
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"

echo "== tests"
timeout 120 python3 -m pytest tests/engines -q -p no:cacheprovider $PYTEST_ARGS 2>&1 | tail -n 4 | tee "$OUT/pytest.txt"
echo "== quality model, 1080p"
timeout 150 python3 -m tools.time_model --model quality --size 1920x1080 --device cuda --repeats 50 \
  --compile default 2>&1 | tail -n 4 | tee "$OUT/time_quality.txt"
timeout 60 python3 -m tools.time_model --model quality --size 1280x720 --device cuda --repeats 50 2>&1 \
  | tail -n 2 | tee -a "$OUT/time_quality.txt"
if [ "$TRAIN_MINUTES" != "0" ]; then
  echo "== train ($TRAIN_MINUTES min, two runs in parallel)"
  for run in blur noblur; do
    p=0.5; [ $run = noblur ] && p=0
    python3 -m tools.train --model quality --device cuda --data .gpu/train --steps 100000 --batch 32 --lr 2e-3 \
      --workers 7 --threads 1 --blur-probability $p --max-minutes "$TRAIN_MINUTES" --out "$OUT/$run" \
      > "$OUT/train_$run.log" 2>&1 &
  done
  wait
fi

for run in blur noblur; do [ -f "$OUT/train_$run.log" ] && tail -n 3 "$OUT/train_$run.log"; done
echo "== done"
