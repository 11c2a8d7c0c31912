#!/usr/bin/env bash
# Create .venv and install the project. torch==2.13.0 (the CPU build on these machines) goes in first:
# an unpinned torch pulled in by sentence-transformers would download gigabytes of CUDA packages.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[test]"
