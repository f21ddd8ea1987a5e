#!/usr/bin/env bash
# The whole GPU check in ONE device call, about 9 minutes: wheels, device info, the gpu-marked
# tests, the stylize stage alone (models x resolutions x batch sizes x fp16/graphs/compile), the
# end-to-end `vidstyle bench` at 360p-4K for both models, live streams at 720p30 and 1080p30 from
# a paced file. Every step is time-boxed and the run goes on when one fails; after each step the
# results are packed into $OUT (so a run killed at its limit still returns what it had):
#   $OUT/run.log          everything printed (this script's stdout and stderr)
#   $OUT/summary.json     the headline numbers and each step's exit code and seconds
#   $OUT/results.tar.gz   every JSON/CSV/PNG and each step's own log
# On the device machine (see benchmarks/gpu/README.md for the exact call):
#   bash benchmarks/gpu/run.sh
# A second, shorter call while the machine is still warm: only some steps, a smaller budget:
#   ONLY=tests,sweep_compile BUDGET=200 bash benchmarks/gpu/run.sh
# Here, on the CPU, to prove the plumbing with tiny sizes (no numbers worth keeping):
#   DRY=1 OUT=/tmp/gpu-dry bash benchmarks/gpu/run.sh
set -u
cd "$(dirname "$0")/../.."
OUT=${OUT:-$PWD/out/gpu}
BUDGET=${BUDGET:-540}                 # seconds for all steps; the device call's limit is 600
DRY=${DRY:-0}
W=/tmp/vidstyle-gpu
rm -rf "$W" && mkdir -p "$W/results" "$W/logs" "$OUT"
exec > >(tee -a "$OUT/run.log") 2>&1
export PYTHONUNBUFFERED=1 VIDSTYLE_HOME="$W/home" MPLBACKEND=Agg
PY=${PY:-python3}
T0=$(date +%s)
STEPS="$W/steps.tsv"
: > "$STEPS"

pack() {
  "$PY" benchmarks/gpu/summarize.py "$W" "$STEPS" > "$W/summary.json" 2>>"$W/logs/summarize.log" \
    && cp "$W/summary.json" "$OUT/summary.json"
  tar -czf "$OUT/results.tar.gz.tmp" -C "$W" results logs steps.tsv 2>/dev/null \
    && mv "$OUT/results.tar.gz.tmp" "$OUT/results.tar.gz"
}

# step NAME LIMIT_S CMD...: run CMD under min(LIMIT, what is left of BUDGET); log, record, pack
step() {
  local name=$1 limit=$2; shift 2
  if [[ -n "${ONLY:-}" && ",$ONLY,wheels,info," != *",$name,"* ]]; then return; fi
  local left=$(( BUDGET - ($(date +%s) - T0) ))
  (( limit > left )) && limit=$left
  if (( limit < 10 )); then
    echo "=== $name: skipped, ${left}s of the budget left"
    printf '%s\t%s\t%s\n' "$name" skipped 0 >> "$STEPS"
    return
  fi
  echo "=== $name (at most ${limit}s) $(date +%T)"
  local t=$(date +%s)
  timeout -k 5 "$limit" "$@" > "$W/logs/$name.log" 2>&1
  local rc=$?
  local dt=$(( $(date +%s) - t ))
  tail -n 15 "$W/logs/$name.log"
  echo "--- $name: exit $rc after ${dt}s$( ((rc == 124 || rc == 137)) && echo ' (time limit)')"
  printf '%s\t%s\t%s\n' "$name" "$rc" "$dt" >> "$STEPS"
  pack
}

R=$W/results
if (( DRY )); then    # tiny and on the CPU: every step's plumbing, none of its meaning
  DEV=cpu SIZES=64x96,96x128 E2E=96x128 BATCHES=1,2 VAR_BATCH=2 ITERS=2 FRAMES=6 REPEATS=1 SECS=4
  STREAMS="96x128" COMPILE_SIZE=64x96 PYTEST_ARGS="tests/stylize/test_gpu.py"
else
  DEV=cuda SIZES=360p,720p,1080p,4k E2E=360p,720p,1080p,4k BATCHES=1,4,8,16 VAR_BATCH=8 ITERS=10
  FRAMES=90 REPEATS=2 SECS=12 STREAMS="720x1280 1080x1920" COMPILE_SIZE=1080p PYTEST_ARGS="tests"
fi

# 1. wheels the machine lacks (PyAV, facenet-pytorch), carried in .whl/ (prepare_wheels.sh)
if compgen -G ".whl/*.whl" > /dev/null; then
  step wheels 60 "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl
  export PYTHONPATH="$PWD:/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
else
  echo "=== no .whl/ folder: using the installed packages"
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi

# 2. what the machine is
step info 45 bash -c "nvidia-smi; nvidia-smi -q -d CLOCK,POWER,MEMORY | head -60; nproc; free -g; \
  '$PY' -m pip list 2>/dev/null | grep -iE '^(torch|torchvision|triton|av|numpy|opencv|onnx|onnxruntime|facenet)' ; \
  '$PY' -c \"import torch, json, av, cv2, facenet_pytorch; from vidstyle.stylize.accel import compile_problem; \
d = torch.device('$DEV'); print(json.dumps({'torch': torch.__version__, 'cuda': torch.version.cuda, \
'cudnn': torch.backends.cudnn.version(), 'gpu': torch.cuda.get_device_name() if torch.cuda.is_available() else None, \
'capability': torch.cuda.get_device_capability() if torch.cuda.is_available() else None, 'av': av.__version__, \
'opencv': cv2.__version__, 'compile_problem': compile_problem(d)}))\" | tee $R/device.json"

# 3. the gpu-marked tests
step tests 120 "$PY" -m pytest -m gpu -q -rs -p no:cacheprovider --junitxml="$R/pytest-gpu.xml" $PYTEST_ARGS

# 4. the stylize stage alone: batch sweep (fp16 channels_last), then the variants at batch 8
SWEEP="$PY benchmarks/gpu/stylize_sweep.py --device $DEV --iters $ITERS"
step sweep_batch 70 $SWEEP --sizes "$SIZES" --batches "$BATCHES" --variants fp16 \
  --json "$R/sweep_batch.json" --csv "$R/sweep_batch.csv" --plot "$R/sweep_batch.png"
step sweep_variants 50 $SWEEP --sizes "$SIZES" --batches "$VAR_BATCH" --variants fp32,fp16-nchw,fp16-graphs \
  --json "$R/sweep_variants.json" --csv "$R/sweep_variants.csv"

# 5. end to end (decode, flow, faces, stylize, compose, encode): both models, then CUDA graphs
BENCH="$PY -m vidstyle bench --device $DEV --frames $FRAMES --repeats $REPEATS"
step bench_full 110 $BENCH --resolutions "$E2E" --style starry_night \
  --json "$R/bench_full.json" --csv "$R/bench_full.csv" --plot "$R/bench_full.png"
step bench_small 70 $BENCH --resolutions "$E2E" --style starry_night-small --no-naive \
  --json "$R/bench_small.json" --csv "$R/bench_small.csv" --plot "$R/bench_small.png"

# 6. live: a paced file at 30 fps, frames dropped when behind, latency from decode to written
for size in $STREAMS; do
  step "stream_${size}" 40 "$PY" benchmarks/stream_realtime.py --paced-file --size "$size" --fps 30 \
    --seconds "$SECS" --set model.device=$DEV --json "$R/stream_${size}.json"
done

# 7. whatever time is left: end to end with CUDA graphs and 8 flow workers (2 by default, sized for
#    a 2-core CPU; the per-stage fps tell which change moved what), then torch.compile (slow)
step bench_tuned 50 $BENCH --resolutions "${E2E#*,}" --style starry_night --no-naive --cuda-graphs \
  --set flow.workers=8 --json "$R/bench_tuned.json" --csv "$R/bench_tuned.csv"
step sweep_compile 150 $SWEEP --sizes "$COMPILE_SIZE" --batches "$VAR_BATCH" --budget-s 100 \
  --variants compile-graphs,autotune-graphs,autotune --json "$R/sweep_compile.json" --csv "$R/sweep_compile.csv"

pack
echo "=== done in $(( $(date +%s) - T0 ))s"
"$PY" benchmarks/gpu/summarize.py "$W" "$STEPS" --table
