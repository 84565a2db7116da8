#!/usr/bin/env bash
# One prepared GPU check (< 5 min on one GPU; installs nothing beyond the project's set-up):
# ALAN's paper configs for one AMP epoch on UCFCrime-AR- and XDViolence-AR-sized synthetic data
# (seconds/epoch, samples/s, peak memory, end-to-end test retrieval time) and AMP vs fp32 test
# SumR within noise; prints one table. See benchmarks/gpu_check.py. Then a zero-shot CLIP ViT-B/16
# run (random weights) on 290 synthetic videos named by UCFCrime-AR's test ids, through score, with
# its throughput and the pipeline's overhead over the model's forward pass (benchmarks/
# zeroshot_speed.py; open_clip needs the torchvision of .venv-vision: bash scripts/setup.sh vision).
#   bash benchmarks/gpu_check.sh [--home DATA_HOME]      on a GPU machine
#   bash benchmarks/gpu_check.sh --dry-run               on CPU: checks the script only
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python}"
if [ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ]; then PY=.venv/bin/python; fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1
"$PY" -c "import torch, transformers, var_bench" || { echo "gpu_check: expected the project's models set-up (pip install -e '.[models,offline]')"; exit 2; }
rc=0
timeout 290 "$PY" benchmarks/gpu_check.py "$@" || rc=$?
home=() dry=0 prev=""
for a in "$@"; do
  [ "$prev" = --home ] && home=(--home "$a")
  [ "$a" = --dry-run ] && dry=1
  prev=$a
done
VPY="${PYTHON_VISION:-.venv-vision/bin/python}"
if [ ! -x "$VPY" ]; then
  echo "gpu_check: zero-shot CLIP skipped: expected $VPY (bash scripts/setup.sh vision)"
elif [ "$dry" = 1 ]; then
  timeout 240 "$VPY" benchmarks/zeroshot_speed.py --device cpu --videos 2 --seconds 2 --repeats 1 || rc=$?
else
  timeout 240 "$VPY" benchmarks/zeroshot_speed.py --device cuda --videos 16 --seconds 6 --ucf "${home[@]}" || rc=$?
fi
exit "$rc"
