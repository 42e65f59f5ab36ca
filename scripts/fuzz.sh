#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD/tests/fuzz: first it replays the seed corpus in
# tests/fuzz/corpus/<name>/ (crashers that once failed live there too), then fuzzes for
# SECONDS. New inputs go to BUILD/fuzz-work/<name>/, never into the source tree.
# Usage: scripts/fuzz.sh BUILD SECONDS
set -euo pipefail
build=${1:?usage: fuzz.sh BUILD SECONDS}
seconds=${2:?usage: fuzz.sh BUILD SECONDS}
root=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
targets=("$build"/tests/fuzz/fuzz_*)
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: no targets in $build/tests/fuzz"; exit 1; }
failed=0
for bin in "${targets[@]}"; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin"); short=${name#fuzz_}
  seeds="$root/tests/fuzz/corpus/$short"
  work="$build/fuzz-work/$short"; art="$build/fuzz-artifacts/$short/"
  mkdir -p "$work" "$art" "$seeds"
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
        -artifact_prefix="$art" "$work" "$seeds" >"$build/fuzz-work/$short.log" 2>&1; then
    echo "fuzz: $name FAILED (log: $build/fuzz-work/$short.log, input in $art)"
    tail -30 "$build/fuzz-work/$short.log"
    failed=$((failed + 1))
  else
    runs=$(grep -oE "Done [0-9]+ runs" "$build/fuzz-work/$short.log" | grep -oE "[0-9]+")
    echo "fuzz: $name ok (${seconds}s, ${runs:-?} runs, $(ls "$seeds" | wc -l) seeds)"
  fi
done
[ $failed -eq 0 ] || { echo "fuzz: $failed target(s) failed"; exit 1; }
