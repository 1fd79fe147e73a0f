#!/usr/bin/env bash
# bench/feeds.sh: how fast herald serves a feed, beside nginx serving the very
# same bytes as static files on the same machine in the same run.
#
#   bash bench/feeds.sh             # 10 s per run (the issue's measurement)
#   DURATION=3s bash bench/feeds.sh # quicker
#   ROUNDS=3 bash bench/feeds.sh    # best of three interleaved runs
#
# It installs nginx and wrk with apt-get if they are missing, builds herald,
# seeds 1,000 releases through the CLI into a temporary data directory, starts
# `herald serve` (and a second one with HERALD_FEED_FASTPATH=false, to
# show what the feed fast path brings) and nginx on free 127.0.0.1 ports,
# copies herald's 50-item RSS feed (plain and gzip) into nginx's root, and
# runs
# `wrk -t2 -c64 -d10s` for plain, gzip and 304 (If-None-Match) requests
# against both. It prints a table of requests per second and herald/nginx
# ratios, and stops everything it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-64}"
RELEASES="${RELEASES:-1000}"
# This machine's neighbours make single runs noisy: ROUNDS > 1 runs every
# case that many times, interleaved, and keeps each server's best figure.
ROUNDS="${ROUNDS:-1}"

need() {
	if ! command -v "$1" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$1" ]; then
		echo "== installing $2 with apt-get"
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
	fi
}
need nginx nginx
need wrk wrk
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	echo "no free port found" >&2
	exit 1
}

echo "== building herald and the bare Go yardstick"
go build -o "$WORK/herald" ./cmd/herald
go build -o "$WORK/bare" ./bench/bare

echo "== seeding $RELEASES releases through the CLI"
export HERALD_DATA_DIR="$WORK/data" HERALD_LOG_FORMAT=text
topics=(migration refugees human-trafficking emergencies displacement integration)
regions=(argentina mali greece "" americas europe bangladesh)
langs=(en en en fr es)
places=(Geneva "Buenos Aires" Bamako Athens Dhaka Panama Nairobi Kyiv Amman Manila Bogota Niamey)
months=(January February March April May June July August September October November December)
sentences=(
	"The organization and its partners met to agree on a common response to the displacement of families across the region."
	"Shelter, health care and protection will reach those most at risk before the rainy season."
	"More than NUM delegations took part in the meeting, which closed in MONTH."
	"Registration, access to services and the recognition of documents are at the heart of the plan adopted today."
	"Host communities will receive support for schools, clinics and water networks, which are under strain."
	"Only NUM per cent of the appeal has been funded so far, and needs keep growing."
	"Teams recorded NUM arrivals at the border in the past week, most of them women and children."
	"The next review of progress is planned in six months, with a report to be published in MONTH."
)
{
	echo "["
	for i in $(seq 1 "$RELEASES"); do
		t=${topics[$((i % ${#topics[@]}))]}
		r=${regions[$((i % ${#regions[@]}))]}
		l=${langs[$((i % ${#langs[@]}))]}
		p=${places[$((i % ${#places[@]}))]}
		ts=$(date -u -d "@$(($(date +%s) - 86400 * 30 + i * 600))" +%Y-%m-%dT%H:%M:%SZ)
		body=""
		for k in 0 1 2 3; do
			x=${sentences[$(((i * 7 + k * 3) % ${#sentences[@]}))]}
			x=${x//NUM/$(((i * 13 + k) % 97 + 3))}
			body+="${x//MONTH/${months[$(((i + k) % 12))]}} "
			[ "$k" = 1 ] && body+='\n\n'
		done
		[ "$i" -gt 1 ] && echo ","
		printf '{"title":"%s: partners agree on a response to displacement, release %d","dateline":"%s","language":"%s","topics":["%s"],"regions":[%s],"published_at":"%s","contacts":[{"name":"Media Desk","email":"media@example.org"}],"body":"%s"}' \
			"$p" "$i" "$p" "$l" "$t" "${r:+\"$r\"}" "$ts" "$body"
	done
	echo "]"
} >"$WORK/releases.json"
"$WORK/herald" releases add "$WORK/releases.json" >/dev/null

echo "== starting herald serve"
"$WORK/herald" serve --addr 127.0.0.1:0 >"$WORK/herald.log" 2>&1 &
PIDS+=($!)
HERALD=""
for _ in $(seq 100); do
	HERALD=$(sed -n 's/.*herald is running" addr=\([0-9.:]*\).*/\1/p' "$WORK/herald.log")
	[ -n "$HERALD" ] && break
	sleep 0.1
done
[ -n "$HERALD" ] || { cat "$WORK/herald.log"; echo "herald did not start" >&2; exit 1; }
H="http://$HERALD"

# The same herald without the feed fast path (net/http alone), beside it.
echo "== starting herald serve with HERALD_FEED_FASTPATH=false"
HERALD_FEED_FASTPATH=false "$WORK/herald" serve --addr 127.0.0.1:0 >"$WORK/herald-nh.log" 2>&1 &
PIDS+=($!)
HNH=""
for _ in $(seq 100); do
	HNH=$(sed -n 's/.*herald is running" addr=\([0-9.:]*\).*/\1/p' "$WORK/herald-nh.log")
	[ -n "$HNH" ] && break
	sleep 0.1
done
[ -n "$HNH" ] || { cat "$WORK/herald-nh.log"; echo "herald (net/http) did not start" >&2; exit 1; }
HN="http://$HNH"

echo "== copying herald's feed into nginx's root"
mkdir -p "$WORK/www" "$WORK/nginx"
chmod 755 "$WORK" "$WORK/www" # nginx's workers run as another user
curl -sf "$H/feed.rss" -o "$WORK/www/feed.rss"
curl -sf -H 'Accept-Encoding: gzip' "$H/feed.rss" -o "$WORK/www/feed.rss.gz"
cmp -s <(gzip -dc "$WORK/www/feed.rss.gz") "$WORK/www/feed.rss" || { echo "gzip body differs" >&2; exit 1; }
chmod 644 "$WORK/www/feed.rss" "$WORK/www/feed.rss.gz"
ITEMS=$(grep -c '<item>' "$WORK/www/feed.rss")
SIZE=$(wc -c <"$WORK/www/feed.rss")
GZSIZE=$(wc -c <"$WORK/www/feed.rss.gz")
HETAG=$(curl -sfI "$H/feed.rss" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')

NPORT=$(free_port)
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
    types { application/rss+xml rss; }
    server {
        listen 127.0.0.1:$NPORT;
        root $WORK/www;
        location / {
            gzip_static on;
            gzip_vary on;
            add_header Cache-Control "public, max-age=60";
        }
    }
}
EOF
echo "== starting nginx on 127.0.0.1:$NPORT"
"$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
PIDS+=($!)
N="http://127.0.0.1:$NPORT"
for i in $(seq 51); do
	curl -sf -o /dev/null "$N/feed.rss" && break
	[ "$i" = 51 ] && { cat "$WORK/nginx/error.log" >&2; echo "nginx did not start" >&2; exit 1; }
	sleep 0.1
done
NETAG=$(curl -sfI "$N/feed.rss" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')

BPORT=$(free_port)
echo "== starting the bare Go handler on 127.0.0.1:$BPORT"
"$WORK/bare" "127.0.0.1:$BPORT" "$WORK/www/feed.rss" "$WORK/www/feed.rss.gz" "$HETAG" &
PIDS+=($!)
B="http://127.0.0.1:$BPORT"
for _ in $(seq 50); do curl -sf -o /dev/null "$B/feed.rss" && break; sleep 0.1; done

# Check that each case gets what it should before measuring it.
check() { # url expected-status expected-encoding headers...
	local url=$1 want=$2 enc=$3
	shift 3
	local args=() h
	for h in "$@"; do args+=(-H "$h"); done
	local got
	got=$(curl -s -o /dev/null -D - "${args[@]}" "$url" | tr -d '\r' |
		awk 'NR==1{s=$2} tolower($1)=="content-encoding:"{e=$2} END{print s" "e}')
	if [ "$got" != "$want${enc:+ $enc}" ] && [ "$got" != "$want $enc" ]; then
		echo "unexpected answer from $url ($*): '$got', want '$want $enc'" >&2
		exit 1
	fi
}
check "$H/feed.rss" 200 ""
check "$N/feed.rss" 200 ""
check "$H/feed.rss" 200 gzip "Accept-Encoding: gzip"
check "$N/feed.rss" 200 gzip "Accept-Encoding: gzip"
check "$H/feed.rss" 304 "" "If-None-Match: $HETAG"
check "$HN/feed.rss" 200 gzip "Accept-Encoding: gzip"
check "$HN/feed.rss" 304 "" "If-None-Match: $HETAG"
check "$B/feed.rss" 304 "" "If-None-Match: $HETAG"
check "$B/feed.rss" 200 gzip "Accept-Encoding: gzip"
check "$N/feed.rss" 304 "" "If-None-Match: $NETAG"

run() { # url headers... -> requests per second
	local url=$1
	shift
	local args=() h
	for h in "$@"; do args+=(-H "$h"); done
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "${args[@]}" "$url" >"$WORK/wrk.out"
	if grep -q "Non-2xx" "$WORK/wrk.out"; then
		cat "$WORK/wrk.out" >&2
		exit 1
	fi
	awk '/Requests\/sec/ {printf "%.0f", $2}' "$WORK/wrk.out"
}

echo "== feed: $ITEMS items, $SIZE bytes ($GZSIZE gzip); wrk -t$THREADS -c$CONNECTIONS -d$DURATION on $(nproc) cores"
declare -A RPS
best() { # key value: keep the larger
	if [ -z "${RPS[$1]:-}" ] || [ "$2" -gt "${RPS[$1]}" ]; then RPS[$1]=$2; fi
}
for round in $(seq "$ROUNDS"); do
	for c in plain gzip 304; do
		case $c in
		plain) hh=() nh=() ;;
		gzip) hh=("Accept-Encoding: gzip") nh=("Accept-Encoding: gzip") ;;
		304) hh=("If-None-Match: $HETAG") nh=("If-None-Match: $NETAG") ;;
		esac
		n=$(run "$N/feed.rss" "${nh[@]}")
		b=$(run "$B/feed.rss" "${hh[@]}")
		h=$(run "$H/feed.rss" "${hh[@]}")
		x=$(run "$HN/feed.rss" "${hh[@]}")
		echo "   round $round, $c: nginx $n, bare Go $b, herald $h, herald without fast path $x req/s"
		best "nginx_$c" "$n"
		best "bare_$c" "$b"
		best "herald_$c" "$h"
		best "nethttp_$c" "$x"
	done
done

echo
printf "%-6s %12s %12s %12s %12s %13s %12s %7s\n" case "nginx req/s" "bare Go" "herald" "no fastpath" "herald/nginx" "herald/bare" target
for c in plain gzip 304; do
	case $c in plain) target=0.60 ;; gzip) target=0.60 ;; 304) target=0.70 ;; esac # SPEC 13
	awk -v c="$c" -v n="${RPS[nginx_$c]}" -v b="${RPS[bare_$c]}" -v h="${RPS[herald_$c]}" -v x="${RPS[nethttp_$c]}" -v t="$target" \
		'BEGIN { r = h / n; printf "%-6s %12d %12d %12d %12d %13.2f %12.2f %7.2f %s\n", c, n, b, h, x, r, h / b, t, (r >= t ? "ok" : "BELOW TARGET") }'
done
echo "(herald: with the feed fast path, the default; no fastpath: HERALD_FEED_FASTPATH=false)"
