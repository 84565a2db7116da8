#!/usr/bin/env bash
# One prepared GPU check (< 5 min on one GPU; installs nothing beyond the project's set-up):
# ALAN's paper configs for one AMP epoch on UCFCrime-AR- and XDViolence-AR-sized synthetic data
# (seconds/epoch, samples/s, peak memory, end-to-end test retrieval time) and AMP vs fp32 test
# SumR within noise; prints one table. See benchmarks/gpu_check.py.
#   bash benchmarks/gpu_check.sh [--home DATA_HOME]      on a GPU machine
#   bash benchmarks/gpu_check.sh --dry-run               on CPU: checks the script only
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python}"
if [ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ]; then PY=.venv/bin/python; fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1
"$PY" -c "import torch, transformers, var_bench" || { echo "gpu_check: expected the project's models set-up (pip install -e '.[models,offline]')"; exit 2; }
exec timeout 290 "$PY" benchmarks/gpu_check.py "$@"
