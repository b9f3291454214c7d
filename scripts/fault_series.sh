#!/usr/bin/env bash
# Run the fault tests N times in a row, each run on a fresh embedded stack (a new pytest session), and print one
# line per run plus the figures each test printed. Usage: scripts/fault_series.sh [N] [pytest -k expression]
set -uo pipefail
cd "$(dirname "$0")/.."
n=${1:-10}
expr=${2:-"sigkill or two_workers or clickhouse_down or broker_restart"}
passed=0
for i in $(seq 1 "$n"); do
  log=$(mktemp)
  started=$(date +%s)
  .venv/bin/python -m pytest -q -s -p no:cacheprovider -m faults -k "$expr" tests/faults/test_faults.py >"$log" 2>&1
  rc=$?
  [ $rc -eq 0 ] && passed=$((passed + 1))
  echo "run $i: rc=$rc in $(( $(date +%s) - started ))s: $(tail -1 "$log")"
  grep '^\[fault\]' "$log" | sed 's/^/    /'
  [ $rc -eq 0 ] || grep -E '^(E |FAILED)' "$log" | head -20 | sed 's/^/    /'
  rm -f "$log"
done
echo "$passed passed, $((n - passed)) failed"
