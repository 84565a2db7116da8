#!/usr/bin/env bash
# Create .venv and install var_bench into it (editable). Extra arguments are pip extras, e.g.
# `bash scripts/setup.sh test` installs the test tools too. Idempotent: re-running only updates.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
extras=$(IFS=,; echo "$*")
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras:+[$extras]}"
