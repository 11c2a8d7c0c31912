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
# Optional: OCR for scanned PDFs (Tesseract with simplified Chinese) and DOC/WPS conversion (headless LibreOffice).
# Installed when running as root with apt; otherwise `qa add` says which package is missing and those tests skip.
# QA_SKIP_DEBIAN=1 skips this step.
if [ "${QA_SKIP_DEBIAN:-0}" != 1 ] && ! { command -v tesseract >/dev/null 2>&1 && command -v soffice >/dev/null 2>&1; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      tesseract-ocr tesseract-ocr-chi-sim libreoffice-writer-nogui >/dev/null \
      || echo "could not install tesseract-ocr/libreoffice: scanned PDFs and DOC/WPS files will be refused with a clear error" >&2
  else
    echo "tesseract-ocr / libreoffice-writer-nogui not installed: scanned PDFs and DOC/WPS files cannot be added" >&2
  fi
fi
