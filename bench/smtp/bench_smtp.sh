#!/usr/bin/env bash
# SMTP throughput and added latency: Bulwark (relay mode, full scanning) against a plain
# Postfix relay, smtp-source -> system -> smtp-sink, in the same run. See README.md.
# Usage (from the repository root, as root): bash bench/smtp/bench_smtp.sh [--messages N] [...]
# BULWARK_BINARY overrides build/bulwark.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export BULWARK_BINARY=${BULWARK_BINARY:-$repo/build/bulwark}
if [ ! -x "$BULWARK_BINARY" ]; then
  echo "bench_smtp: $BULWARK_BINARY not found; build it first: ninja -C build bulwark" >&2
  exit 2
fi
export PYTHONDONTWRITEBYTECODE=1
exec python3 "$here/bench_smtp.py" "$@"
