#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite offline. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
bash scripts/setup.sh
.venv/bin/python -m pytest "$@"
