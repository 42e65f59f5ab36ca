#!/usr/bin/env bash
# The cost of the sandbox: `bulwark scan` over a corpus in-process (--no-sandbox) and in
# locked-down workers, in the same run. Reports wall time and CPU time (user + system,
# workers included), best of N rounds, and the ratios.
# Usage: bench/sandbox/bench_sandbox.sh BULWARK_BINARY CORPUS_DIR [ROUNDS]
set -euo pipefail
bin=${1:?usage: bench_sandbox.sh BULWARK CORPUS [ROUNDS]}
corpus=${2:?usage: bench_sandbox.sh BULWARK CORPUS [ROUNDS]}
rounds=${3:-3}
n=$(find "$corpus" -type f -name '*.eml' | wc -l)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "corpus: $n messages in $corpus"

# best_of LABEL ARGS...: prints "wall cpu" (seconds) of the fastest round.
best_of() {
  local best_wall="" best_cpu=""
  for ((i = 0; i < rounds; i++)); do
    local t
    # scan exits 1 when it flags anything: that is a result, not a failure here.
    t=$( { /usr/bin/time -f "%e %U %S" "$bin" scan --no-progress "$@" "$corpus" >/dev/null || true; } 2>&1 | tail -1 )
    read -r wall user sys <<<"$t"
    local cpu
    cpu=$(echo "$user + $sys" | bc -l)
    if [ -z "$best_wall" ] || (( $(echo "$wall < $best_wall" | bc -l) )); then best_wall=$wall; fi
    if [ -z "$best_cpu" ] || (( $(echo "$cpu < $best_cpu" | bc -l) )); then best_cpu=$cpu; fi
  done
  echo "$best_wall $best_cpu"
}

read -r w0 c0 < <(best_of --no-sandbox)
read -r w1 c1 < <(best_of --workers 1)
read -r w2 c2 < <(best_of)
printf "%-28s %8s %8s %14s %14s\n" "mode" "wall s" "cpu s" "msgs/s wall" "msgs/cpu-s"
row() { printf "%-28s %8.2f %8.2f %14.0f %14.0f\n" "$1" "$2" "$3" "$(echo "$n / $2" | bc -l)" "$(echo "$n / $3" | bc -l)"; }
row "in-process (--no-sandbox)" "$w0" "$c0"
row "sandbox, 1 worker" "$w1" "$c1"
row "sandbox, $(nproc) workers" "$w2" "$c2"
printf "sandbox CPU cost: %+.1f%% (1 worker vs in-process, CPU time)\n" "$(echo "($c1 / $c0 - 1) * 100" | bc -l)"
printf "sandbox wall cost: %+.1f%% (1 worker vs in-process)\n" "$(echo "($w1 / $w0 - 1) * 100" | bc -l)"
printf "speed-up with %d workers: %.2fx wall vs in-process\n" "$(nproc)" "$(echo "$w0 / $w2" | bc -l)"
