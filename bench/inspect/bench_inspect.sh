#!/usr/bin/env bash
# Bulwark's inspection against clamd on the same signatures: `bulwark scan` (MIME, archive
# and document walking, ClamAV on every blob, YARA) vs clamd scanning the same files with
# its own mail and archive parsers (clamdscan --multiscan, or clamd's MULTISCAN command
# when clamdscan is not installed). Reports messages per CPU-second for each and the ratio.
#
# CPU: clamd's from /proc/<pid>/stat (utime + stime) before and after each scan, its
# database already loaded; bulwark's from /usr/bin/time (user + sys, workers included).
# The client (clamdscan) is not counted: it only sends the directory name.
#
# Usage: bench/inspect/bench_inspect.sh BULWARK_BINARY SA_CORPUS_DIR [N_ATTACHMENT_MSGS]
# Environment:
#   CLAMAV_DB=dir       signatures for both (default: a 3-signature test database built
#                       here, so the figures measure parsing and walking, not matching)
#   BULWARK_MODE=...    extra `bulwark scan` arguments (default: none = sandboxed workers;
#                       "--no-sandbox" for in-process)
#   KEEP=1              keep the temp directory (corpus, logs)
set -euo pipefail
bin=${1:?usage: bench_inspect.sh BULWARK SA_CORPUS [N_ATTACHMENT_MSGS]}
sa=${2:?usage: bench_inspect.sh BULWARK SA_CORPUS [N_ATTACHMENT_MSGS]}
n_attach=${3:-200}
here=$(cd "$(dirname "$0")" && pwd)
command -v clamd >/dev/null || { echo "clamd not installed" >&2; exit 2; }
clk=$(getconf CLK_TCK)

tmp=$(mktemp -d /tmp/bulwark-bench-inspect.XXXXXX)
clamd_pid=""
cleanup() {
  if [ -n "$clamd_pid" ]; then kill "$clamd_pid" 2>/dev/null || true; wait "$clamd_pid" 2>/dev/null || true; fi
  if [ -z "${KEEP:-}" ]; then rm -rf "$tmp"; else echo "kept $tmp"; fi
}
trap cleanup EXIT

# ---- signatures ----
db=${CLAMAV_DB:-}
if [ -z "$db" ]; then
  db=$tmp/db
  mkdir -p "$db"
  python3 - "$db" <<'EOF'
import hashlib, sys
# EICAR's published test string, assembled (the repository never holds it whole).
e = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-" + b"ANTIVIRUS-TEST-FILE!$H+H*"
d = sys.argv[1]
open(d + "/bench.hdb", "w").write("%s:%d:Bulwark.Bench.EICAR\n" % (hashlib.md5(e).hexdigest(), len(e)))
open(d + "/bench.ndb", "w").write("Bulwark.Bench.EICAR.Body:0:*:%s\nBulwark.Bench.Marker:0:*:%s\n"
                                  % (e.hex(), b"bulwark-bench-marker-0x5eed".hex()))
EOF
fi

# ---- corpora ----
attach=$tmp/attachments
python3 "$here/gen_attachment_corpus.py" "$attach" "$n_attach"

# ---- configurations ----
printf '[inspect]\nclamav_database = "%s"\n' "$db" >"$tmp/bulwark.toml"
mkdir -p "$tmp/clamtmp"
cat >"$tmp/clamd.conf" <<EOF
LocalSocket $tmp/clamd.sock
DatabaseDirectory $db
TemporaryDirectory $tmp/clamtmp
Foreground yes
LogFile $tmp/clamd.log
MaxThreads $(nproc)
ScanMail yes
ScanArchive yes
ScanOLE2 yes
ScanPDF yes
ScanHTML yes
AlertEncrypted yes
AlertExceedsMax yes
EOF

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "ClamAV: $(clamd --version); signatures: $db"
echo "bulwark: $bin scan ${BULWARK_MODE:-(sandboxed workers)}"

clamd -c "$tmp/clamd.conf" >"$tmp/clamd.out" 2>&1 &
clamd_pid=$!
for _ in $(seq 1 600); do [ -S "$tmp/clamd.sock" ] && break; sleep 0.1; done
[ -S "$tmp/clamd.sock" ] || { echo "clamd did not start:"; cat "$tmp/clamd.log"; exit 2; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# clamd_scan DIR: prints "wall cpu found"
clamd_scan() {
  local dir=$1 t0 t1 c0 c1 found
  c0=$(cpu_ticks "$clamd_pid")
  t0=$(date +%s.%N)
  if command -v clamdscan >/dev/null; then
    found=$(clamdscan -c "$tmp/clamd.conf" --multiscan --no-summary "$dir" 2>/dev/null | grep -c ' FOUND$' || true)
  else
    found=$(python3 - "$tmp/clamd.sock" "$dir" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"zMULTISCAN " + sys.argv[2].encode() + b"\0")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
print(data.count(b" FOUND"))
EOF
)
  fi
  t1=$(date +%s.%N)
  c1=$(cpu_ticks "$clamd_pid")
  echo "$(echo "$t1 - $t0" | bc -l) $(echo "($c1 - $c0) / $clk" | bc -l) $found"
}

# bulwark_scan DIR: prints "wall cpu flagged"
bulwark_scan() {
  local dir=$1 wall user sys
  # shellcheck disable=SC2086
  /usr/bin/time -o "$tmp/time.out" -f "%e %U %S" "$bin" scan --no-progress --format json \
    --config "$tmp/bulwark.toml" ${BULWARK_MODE:-} "$dir" >"$tmp/bulwark.out" 2>"$tmp/bulwark.err" || true
  read -r wall user sys < <(tail -1 "$tmp/time.out")
  local flagged
  flagged=$(grep -c '"kind":"virus"' "$tmp/bulwark.out" || true)
  if grep -q '"SANDBOX_UNSCANNABLE"' "$tmp/bulwark.out"; then
    echo "  warning: $(grep -c '"SANDBOX_UNSCANNABLE"' "$tmp/bulwark.out") messages unscannable in workers (see $tmp/bulwark.err)" >&2
  fi
  echo "$wall $(echo "$user + $sys" | bc -l) $flagged"
}

printf "\n%-34s %8s %8s %8s %14s %8s\n" "corpus / scanner" "msgs" "wall s" "cpu s" "msgs/cpu-s" "flagged"
row() { printf "%-34s %8d %8.2f %8.2f %14.1f %8s\n" "$1" "$2" "$3" "$4" "$(echo "$2 / ($4 + 0.0001)" | bc -l)" "$5"; }
for corpus in "$sa" "$attach"; do
  n=$(find "$corpus" -type f | wc -l)
  label=$(basename "$corpus")
  read -r cw cc cf < <(clamd_scan "$corpus")
  read -r bw b_cpu bf < <(bulwark_scan "$corpus")
  row "$label: clamd multiscan" "$n" "$cw" "$cc" "$cf"
  row "$label: bulwark scan" "$n" "$bw" "$b_cpu" "$bf"
  printf "%-34s %.2fx messages per CPU-second\n" "$label: ratio (bulwark/clamd)" \
    "$(echo "($cc + 0.0001) / ($b_cpu + 0.0001)" | bc -l)"
done
