#!/usr/bin/env bash
# Set up a fresh machine for the tests and run them. This is the README's test command and what
# CI runs (.ci/run). Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's Chromium renders the leaderboard page in the browser test; without it that test skips
# with its reason, everything else runs.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  { apt-get install -y -q chromium >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }; } \
    || echo "scripts/test.sh: could not install chromium; the browser test will skip" >&2
fi
[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
# The CPU build of torch first (for .pt submissions): a bare `torch` would pull GBs of CUDA wheels.
.venv/bin/python -m pip install -q --disable-pip-version-check "torch==2.13.0"
bash scripts/setup.sh test,models,offline
exec .venv/bin/python -m pytest "$@"
