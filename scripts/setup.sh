#!/usr/bin/env bash
# Set up var_bench for one use, in .venv (or $VENV), editable. Idempotent: re-running only updates.
#
#   bash scripts/setup.sh score     # download, score, compare, leaderboard: no torch (the default)
#   bash scripts/setup.sh train     # + torch and the models, offline extras: synth, train, evaluate
#   bash scripts/setup.sh extract   # + torch and the extract-core extra (av, opencv): features from raw
#                                   # videos with I3D, VGGish, TV-L1; keeps the pinned torch (no CUDA wheels).
#                                   # RAFT and CLIP need a torchvision matching torch: set TORCHVISION_VERSION
#                                   # (with TORCH_VERSION and TORCH_INDEX of a matching pair) or use `vision`
#   bash scripts/setup.sh dev       # + torch, models, offline, extract-core, search, test: what scripts/test.sh runs
#   bash scripts/setup.sh vision    # .venv-vision: torch 2.14.1 + torchvision 0.29.1 (a matching pair), the
#                                   # extract, ray, models, qwen3vl, imagebind and test extras (+ ImageBind's
#                                   # model classes): RAFT, CLIP, Qwen3-VL and ImageBind, which torch 2.13
#                                   # CPU cannot run, and extraction on Ray Data (--ray)
#
# torch: TORCH_INDEX picks the build, e.g. TORCH_INDEX=https://download.pytorch.org/whl/cpu (CPU)
# or TORCH_INDEX=https://download.pytorch.org/whl/cu128 (CUDA 12.8); unset, pip's configured index
# serves torch==$TORCH_VERSION. PYTHON: the interpreter that makes the venv (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
use=${1:-score}
case "$use" in
  score)   extras="" ;        torch=0 ;;
  train)   extras="models,offline" ; torch=1 ;;
  extract) torch=1
           if [ -n "${TORCHVISION_VERSION:-}" ]; then
             extras="extract" ; vision="torchvision==$TORCHVISION_VERSION"
           else
             # no torchvision: pip would pick the newest, which pulls its own (CUDA) torch, GBs
             extras="extract-core"
           fi ;;
  dev)     extras="test,models,offline,extract-core,search" ; torch=1 ;;
  vision)  extras="test,extract,ray,models,qwen3vl,imagebind" ; torch=1 ; VENV=${VENV:-.venv-vision}
           # matching pairs: on x86_64 PyPI's 2.14.1 + 0.29.1 (a CUDA build, ~5.5 GB); on aarch64 2.9.1 + 0.24.1 (CPU)
           if [ "$(uname -m)" = aarch64 ]; then pair=(2.9.1 0.24.1); else pair=(2.14.1 0.29.1); fi
           TORCH_VERSION=${TORCH_VERSION:-${pair[0]}} ; vision="torchvision==${TORCHVISION_VERSION:-${pair[1]}}" ;;
  *) echo "scripts/setup.sh: expected one of score, train, extract, dev, vision, got '$use'" >&2; exit 2 ;;
esac
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
pip=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
if [ "$torch" = 1 ]; then
  # torch first, pinned, from the chosen index: a bare `torch` from PyPI is the CUDA build (GBs).
  "${pip[@]}" "torch==${TORCH_VERSION:-2.13.0}" ${vision:-} ${TORCH_INDEX:+--index-url "$TORCH_INDEX"}
fi
"${pip[@]}" -e ".${extras:+[$extras]}"
if [ "$use" = vision ]; then
  # ImageBind's model classes only: the package's requirements (torchaudio, pytorchvideo, decord)
  # have no build for this torch and var_bench does not use its data loader; the imagebind extra
  # holds what the classes import.
  "${pip[@]}" --no-deps "imagebind-unofficial==0.1.1"
fi
echo "scripts/setup.sh: $use set up in $VENV ($("$VENV/bin/var-bench" --version))"
if [ "$use" = extract ] && [ "$extras" = extract-core ]; then
  echo "scripts/setup.sh: extract-core: I3D, VGGish and TV-L1 flow; RAFT and CLIP need torchvision matching torch ${TORCH_VERSION:-2.13.0}: TORCHVISION_VERSION=... bash scripts/setup.sh extract, or bash scripts/setup.sh vision"
fi
