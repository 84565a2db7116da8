#!/usr/bin/env bash
# Set up a fresh machine for the tests and run them. This is the README's test command and what
# CI runs (.ci/run): every test, the slow model runs and the fresh-venv set-up tests included.
#   bash scripts/test.sh            # everything (see the README for how long)
#   bash scripts/test.sh --quick    # without the slow tests (-m "not slow"), for development
# Other arguments go to pytest. The full run (no arguments) then runs the RAFT / CLIP tests (extract
# and zero-shot) again in .venv-vision (scripts/setup.sh vision: a torch + torchvision pair; VAR_BENCH_NO_VISION=1 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
# Default (what CI runs): everything but the fresh-venv install tests. --quick: no slow tests
# either (development). --install: only the fresh-venv install tests (wheel, train/extract set-ups,
# the README's paths replayed: tests/test_readme_paths.py).
quick=(-m "not install")
mode=all
if [ "${1:-}" = "--quick" ]; then
  shift
  quick=(-m "not slow and not install")
  mode=quick
elif [ "${1:-}" = "--install" ]; then
  shift
  quick=(-m "install")
  mode=install
fi
# Debian's Chromium renders the leaderboard page in the browser test; without it that test skips
# with its reason, everything else runs. As root with apt-get (a CI container) it is installed
# system-wide, said first; VAR_BENCH_NO_CHROMIUM=1 leaves the system alone.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
   && [ -z "${VAR_BENCH_NO_CHROMIUM:-}" ]; then
  echo "scripts/test.sh: installing Debian's chromium system-wide (apt-get) for the browser tests; VAR_BENCH_NO_CHROMIUM=1 skips this" >&2
  { apt-get install -y -q chromium >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }; } \
    || echo "scripts/test.sh: could not install chromium; the browser test will skip" >&2
fi
# torch (CPU build), then the models, offline and test extras.
bash scripts/setup.sh dev
# RAFT and CLIP (torchvision, open_clip) cannot run beside torch 2.13 CPU, so the full run (no
# arguments) tests them again in .venv-vision, with a matching torch + torchvision pair (and
# Qwen3-VL-Embedding, whose preprocessing needs torchvision, and ImageBind), and the Ray Data path of extract (the ray extra lives there, so the main suite's sweeps stay sequential);
# that venv is set up (mostly unpacking wheels) while the main suite runs.
vision=0
if [ "$mode" = all ] && [ $# -eq 0 ] && [ -z "${VAR_BENCH_NO_VISION:-}" ]; then
  vision=1
  bash scripts/setup.sh vision > .venv-vision.log 2>&1 &
  vision_pid=$!
fi
rc=0
# One style everywhere (pyproject.toml [tool.ruff]): lint and format are checked before the tests.
if [ "$mode" != install ]; then
  .venv/bin/ruff check var_bench tests benchmarks conftest.py || rc=$?
  .venv/bin/ruff format --check var_bench tests benchmarks conftest.py || rc=$?
fi
# --durations: the slowest tests in every log, so the CI budget (15 min) has its culprits named.
.venv/bin/python -m pytest "${quick[@]}" --durations=15 "$@" || rc=$?
if [ "$vision" = 1 ]; then
  if ! wait "$vision_pid"; then
    cat .venv-vision.log >&2
    echo "scripts/test.sh: could not set up .venv-vision (above); RAFT / CLIP not tested" >&2
    exit 1
  fi
  .venv-vision/bin/python -m pytest -q -m "not install" -p no:cacheprovider --durations=5 \
    tests/extract/test_flow_clip.py tests/extract/test_distributed.py tests/zeroshot/test_qwen3vl.py \
    tests/zeroshot/test_binding.py tests/zeroshot/test_openclip.py tests/zeroshot/test_run_ray.py \
    || rc=$?
fi
exit "$rc"
