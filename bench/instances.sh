#!/usr/bin/env bash
# Delivery by one and by two `herald serve` instances sharing one
# PostgreSQL database (SPEC 6, 13: two instances deliver at least as fast
# as one), into postfix's smtp-sink. For each round: N subscribers get an
# alert queued by the CLI, then 1 (or 2) instances start and the time until
# every message is recorded sent is measured from the database.
#
#   bash bench/instances.sh [MESSAGES] [ROUNDS]
#
# HERALD_BENCH_POSTGRES names the server (default postgres://postgres@127.0.0.1:5432);
# the database herald_bench_instances is dropped and made anew.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-20000}"
rounds="${2:-2}"
port="${PORT:-25251}"
server="${HERALD_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
out=bench/results/instances
rm -rf "$out"
mkdir -p "$out"
go build -o "$out/herald" ./cmd/herald

if ! command -v smtp-sink >/dev/null; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix >/dev/null
fi
smtp-sink -u postfix "127.0.0.1:$port" 256 &
sink=$!
pids=()
cleanup() { kill "${pids[@]}" "$sink" 2>/dev/null || true; }
trap cleanup EXIT

db="$server/herald_bench_instances"
export HERALD_DB="$db?sslmode=disable" HERALD_LOG_FORMAT=json HERALD_ADMIN_TOKEN=bench \
	HERALD_SMTP_URL="smtp://127.0.0.1:$port?tls=none" HERALD_SEND_CONCURRENCY=4
psql "$server/postgres" -qc "DROP DATABASE IF EXISTS herald_bench_instances" -c "CREATE DATABASE herald_bench_instances"

awk -v n="$n" 'BEGIN { print "email,topics,regions,language,cadence,timezone,status";
	for (i = 0; i < n; i++) printf "reader%06d@example.org,,,en,daily,UTC,active\n", i }' > "$out/subscribers.csv"
HERALD_DATA_DIR="$out/cli" "$out/herald" subscribers import --quiet "$out/subscribers.csv" >/dev/null

sent() { psql "$db" -qtAc "SELECT COUNT(*) FROM outbox WHERE state = 'sent'"; }

run() { # instances round
	local k="$1" r="$2" id before start end
	id=$(HERALD_DATA_DIR="$out/cli" "$out/herald" releases add - <<JSON | cut -f1
{"title": "Bench alert $k-$r", "body": "$(head -c 12000 /dev/zero | tr '\0' 'x')", "topics": ["migration"]}
JSON
)
	HERALD_DATA_DIR="$out/cli" "$out/herald" alert "$id" --follow=false >/dev/null
	before=$(sent)
	start=$(date +%s.%N)
	pids=()
	for i in $(seq 1 "$k"); do
		HERALD_DATA_DIR="$out/i$i" "$out/herald" serve --addr "127.0.0.1:0" 2>"$out/serve-$k-$r-$i.log" &
		pids+=($!)
	done
	while [ "$(( $(sent) - before ))" -lt "$n" ]; do sleep 0.2; done
	end=$(date +%s.%N)
	kill -TERM "${pids[@]}"
	wait "${pids[@]}" 2>/dev/null || true
	awk -v k="$k" -v n="$n" -v a="$start" -v b="$end" 'BEGIN { printf "%d instance(s): %d messages in %.2f s = %.0f msg/s\n", k, n, b - a, n / (b - a) }'
}

echo "PostgreSQL, $n messages of about 25 KB, HERALD_SEND_CONCURRENCY=4 per instance, smtp-sink"
for r in $(seq 1 "$rounds"); do
	run 1 "$r"
	run 2 "$r"
done | tee "$out/results.txt"
