#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite offline. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
bash scripts/setup.sh
# The browser tests drive Debian's Chromium (a test tool's own browser download cannot work here), with a CJK
# font so that Chinese renders in their screenshots instead of empty boxes.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium chromium-driver)
[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || missing+=(fonts-wqy-zenhei)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "not installed and cannot be installed here: ${missing[*]} (browser tests skip without chromium)" >&2
  fi
fi
# The shared rate-limit tests start their own Redis (Debian's redis-server) on a free port in a temp folder.
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "redis-server is not installed and cannot be installed here: the Redis rate-limit tests will be skipped" >&2
  fi
fi
.venv/bin/python -m pytest "$@"
