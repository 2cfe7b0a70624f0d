#!/usr/bin/env bash
# The one-call check on a lent NVIDIA machine (Python 3.12 there, no package index, no ffmpeg binary,
# no GStreamer). Two modes:
#
#   tools/gpu_check.sh --prepare   here, with network: the Python 3.12 wheels the machine lacks into
#                                  .whl/gpu/ (PyAV: the newest release pyproject.toml admits), ~48 MB
#   tools/gpu_check.sh             there (device run, carry [".whl/gpu"]): writes $OUT/summary.md
#
# What it checks, in order (each step bounded by `timeout`, about 5 minutes in all on an H200):
#   1. the whole suite on that Python with the newest admitted PyAV, minus what cannot run there:
#      GStreamer and browser tests (skipped by their markers), ffmpeg-binary tests (skipped), and the
#      PyAV API guard (it downloads wheels; CI runs it);
#   2. `nocturne enhance` of a dark 1080p30 clip (300 frames, x264 ultrafast) with --device cuda and
#      --device cpu, two runs each, fps from the summary line;
#   3. the quality network alone at 1080p, fp16;
#   4. `nocturne doctor`.
set -u
WHEELS=.whl/gpu
if [ "${1:-}" = "--prepare" ]; then
  rm -rf "$WHEELS" && mkdir -p "$WHEELS"
  av_requirement=$(grep -oE '^ *"av[<>=!~ ][^"]*"' pyproject.toml | tr -d ' "')     # e.g. av>=17.1,<20
  # --no-deps: the machine has numpy, torch, rich, click, packaging...; these are what it lacks (or has too old).
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$WHEELS" "$av_requirement" pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 \
    typing-inspection==0.4.5 typing-extensions==4.16.0 typer==0.29.2 annotated-doc==0.0.7 kornia==0.9.0 kornia-rs==0.2.0 PyWavelets==1.10.0 \
    2>&1 | grep -v "^WARNING: Location" || true
  ls "$WHEELS"; du -sh "$WHEELS"
  exit 0
fi

OUT=${OUT:-gpu-out}; mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*.whl \
  || { echo "wheel install failed"; exit 1; }
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 NOCTURNE_CACHE=/tmp/nocturne-cache
SUMMARY="$OUT/summary.md"
{
  echo "# gpu_check $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "| what | value |"
  echo "|---|---|"
  echo "| GPU | $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader) |"
  python3 -c "import platform, av, torch, numpy, cv2, onnxruntime
print(f'| Python | {platform.python_version()} |')
print(f'| PyAV (FFmpeg) | {av.__version__} ({av.ffmpeg_version_info}) |')
print(f'| torch | {torch.__version__}, CUDA {torch.version.cuda}, available {torch.cuda.is_available()} |')
print(f'| numpy, opencv, onnxruntime | {numpy.__version__}, {cv2.__version__}, {onnxruntime.__version__} |')"
} > "$SUMMARY" 2>&1

echo "== 1. suite"
timeout 300 python3 -m pytest -q -p no:cacheprovider -m "not needs_gstreamer and not needs_browser" \
  --ignore=tests/tools/test_pyav_api.py 2>&1 | tee "$OUT/pytest.txt" | tail -n 25
echo "| suite | $(grep -E '[0-9]+ (passed|failed)' "$OUT/pytest.txt" | tail -n 1) |" >> "$SUMMARY"

echo "== 2. enhance 1080p30, 300 frames"
timeout 240 python3 - <<'PY' 2>&1 | tee "$OUT/enhance.txt"
import fractions, re, subprocess, sys
import av, numpy as np
rng = np.random.default_rng(0)
with av.open("/tmp/dark1080.mp4", "w") as c:
    s = c.add_stream("libx264", rate=30)
    s.width, s.height, s.pix_fmt = 1920, 1080, "yuv420p"
    s.codec_context.options = {"preset": "ultrafast", "crf": "23"}
    base = (rng.random((1080, 1920, 3)) * 60).astype(np.uint8)
    for i in range(300):
        f = av.VideoFrame.from_ndarray(np.roll(base, 4 * i, axis=1), format="rgb24").reformat(format="yuv420p")
        f.pts, f.time_base = i, fractions.Fraction(1, 30)
        c.mux(s.encode(f))
    c.mux(s.encode(None))
rows = {}
for run in (1, 2):
    for device in ("cuda", "cpu"):
        done = subprocess.run([sys.executable, "-m", "stream.cli", "enhance", "/tmp/dark1080.mp4", "-o",
                               f"/tmp/out_{device}.mp4", "--device", device, "--preset", "ultrafast"],
                              capture_output=True, text=True)
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        fps = re.search(r"([0-9.]+) fps", last)
        rows.setdefault(device, []).append(fps.group(1) if fps and done.returncode == 0 else f"rc {done.returncode}: {last}")
        print(device, run, done.returncode, last)
for device, values in rows.items():
    print(f"| enhance 1080p --device {device}, fps (two runs) | {' / '.join(values)} |")
PY
grep -E "^\| enhance" "$OUT/enhance.txt" >> "$SUMMARY"

echo "== 3. quality network, 1080p fp16"
timeout 120 python3 -m tools.time_model --model quality --size 1920x1080 --device cuda --repeats 50 2>&1 \
  | tee "$OUT/time_quality.txt" | tail -n 3
echo "| quality network 1080p | $(tail -n 1 "$OUT/time_quality.txt") |" >> "$SUMMARY"

echo "== 4. doctor"
timeout 60 python3 -m stream.cli doctor > "$OUT/doctor.txt" 2>&1
echo "| doctor, PyAV row | $(grep -E '^av \(PyAV\)' "$OUT/doctor.txt" | sed 's/  */ /g') |" >> "$SUMMARY"

echo "== summary"
cat "$SUMMARY"
