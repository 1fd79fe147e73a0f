#!/usr/bin/env bash
# Times `herald subscribers import` of a 100,000-row CSV into a fresh
# database (goal: under 10 s), the same file again (every row skipped),
# and `herald subscribers export` of the result.
#
#   bash bench/subscribers_import.sh [ROWS]
#
# Everything is written under bench/results/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-100000}"
out=bench/results/subscribers
rm -rf "$out"
mkdir -p "$out"
go build -o "$out/herald" ./cmd/herald

awk -v n="$rows" 'BEGIN {
  split("|migration|refugees;gender|human-trafficking;children;migration", topics, "|")
  split("|europe|argentina;venezuela|africa", regions, "|")
  split("en fr es", langs, " ")
  split("immediate daily weekly", cadences, " ")
  split("UTC Europe/Paris America/Argentina/Buenos_Aires Asia/Dhaka", zones, " ")
  print "email,topics,regions,language,cadence,timezone,status"
  for (i = 0; i < n; i++)
    printf "subscriber%06d@example.org,%s,%s,%s,%s,%s,active\n", i,
      topics[i % 4 + 1], regions[int(i / 4) % 4 + 1], langs[i % 3 + 1], cadences[i % 3 + 1], zones[int(i / 3) % 4 + 1]
}' > "$out/subscribers.csv"
echo "CSV: $rows rows, $(du -h "$out/subscribers.csv" | cut -f1)"

export HERALD_DATA_DIR="$out/data"
time_it() {
  local label="$1"; shift
  local start end
  start=$(date +%s.%N)
  "$@"
  end=$(date +%s.%N)
  awk -v l="$label" -v s="$start" -v e="$end" 'BEGIN { printf "%s: %.2f s\n", l, e - s }'
}
time_it "import (new rows)" "$out/herald" subscribers import --quiet "$out/subscribers.csv"
time_it "import again (no change)" "$out/herald" subscribers import --quiet "$out/subscribers.csv"
time_it "export" "$out/herald" subscribers export --quiet "$out/export.csv"
echo "export: $(($(wc -l < "$out/export.csv") - 1)) rows"
