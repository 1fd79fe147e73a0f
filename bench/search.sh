#!/usr/bin/env bash
# bench/search.sh: the public archive and search with 100,000 releases in
# four languages (SPEC 13: p95 < 50 ms), on SQLite and on PostgreSQL.
#
#   bash bench/search.sh                     # both engines, 100,000 releases
#   RELEASES=20000 ENGINES=sqlite bash bench/search.sh
#   PG=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable (the default)
#
# It builds herald and bench/newsroom, seeds the releases through the store
# (bench/newsroom seed: 500 a transaction, the FTS triggers / generated
# column indexing as they go), starts `herald serve` on a free 127.0.0.1
# port, and measures p50/p95/p99 of archive pages (first, second, filtered,
# term pages) and searches (common, two words, Arabic, rare, filtered) with
# 4 concurrent clients, 400 requests each (bench/newsroom load): once
# asking the same page again (what herald's cache of result pages answers,
# per releases version), once with every request a page not asked before
# (-fresh: each with another date bound, past every release). The home
# page is left out: it is cached per releases version. PostgreSQL gets a
# database of its own (herald_bench_search), dropped at the end. Everything
# started is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

RELEASES="${RELEASES:-100000}"
ENGINES="${ENGINES:-sqlite postgres}"
PG="${PG:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
CONC="${CONC:-4}"
REQUESTS="${REQUESTS:-400}"

WORK="$(mktemp -d)"
PID=""
cleanup() {
	if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
	rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
	done
	echo "no free port found" >&2; exit 1
}

echo "== building herald and bench/newsroom"
go build -o "$WORK/herald" ./cmd/herald
go build -o "$WORK/newsroom" ./bench/newsroom

for engine in $ENGINES; do
	data="$WORK/data-$engine"
	mkdir -p "$data"
	case "$engine" in
	sqlite) dsn="$data/herald.db" ;;
	postgres)
		admin_db="${PG%%\?*}"; opts="${PG#*\?}"
		base_url="${admin_db%/*}"
		psql "$PG" -qc "DROP DATABASE IF EXISTS herald_bench_search" -c "CREATE DATABASE herald_bench_search" >/dev/null
		dsn="$base_url/herald_bench_search?$opts"
		;;
	*) echo "unknown engine $engine" >&2; exit 2 ;;
	esac
	echo "== $engine: migrating and seeding $RELEASES releases"
	HERALD_DATA_DIR="$data" HERALD_DB="$dsn" "$WORK/herald" db migrate >/dev/null
	/usr/bin/time -f "   seeding: %e s, peak RSS %M KB" "$WORK/newsroom" seed -db "$dsn" -n "$RELEASES"
	if [ "$engine" = postgres ]; then psql "$dsn" -qc "VACUUM ANALYZE" >/dev/null; fi
	port="$(free_port)"
	HERALD_DATA_DIR="$data" HERALD_DB="$dsn" HERALD_ADDR="127.0.0.1:$port" HERALD_BASE_URL="http://127.0.0.1:$port" \
		HERALD_LOG_FORMAT=text "$WORK/herald" serve >"$WORK/serve-$engine.log" 2>&1 &
	PID=$!
	for _ in $(seq 100); do
		curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
		sleep 0.2
	done
	echo "== $engine: $CONC clients, $REQUESTS requests per page (the same page again: cached per releases version)"
	"$WORK/newsroom" load -base "http://127.0.0.1:$port" -c "$CONC" -n "$REQUESTS"
	echo "== $engine: $CONC clients, $REQUESTS requests per page, every request a new page (never cached)"
	"$WORK/newsroom" load -fresh -base "http://127.0.0.1:$port" -c "$CONC" -n "$REQUESTS"
	kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
	if [ "$engine" = postgres ]; then psql "$PG" -qc "DROP DATABASE IF EXISTS herald_bench_search" >/dev/null; fi
done
