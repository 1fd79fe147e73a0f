#!/usr/bin/env bash
# Delivery speed of herald's mailer against postfix's smtp-sink, beside
# postfix's own load generator smtp-source (reusing connections, -d) sending
# the same number of messages of the same size at the same concurrency to
# the same sink, in the same run.
#
#   bench/smtp.sh                 # 20,000 and 50,000 messages at 1, 4, 16
#   COUNTS="10000" CONCS="4" bench/smtp.sh
#   ROUNDS=3 bench/smtp.sh        # best of three interleaved rounds
#
# herald's figure is from queue to sink: the messages are queued in a fresh
# SQLite database first, and the time covers claiming, rendering, encoding,
# SMTP and recording every outcome. Results go to bench/results/smtp.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNTS=${COUNTS:-"20000 50000"}
CONCS=${CONCS:-"1 4 16"}
SIZE=${SIZE:-20400}   # bytes; herald's bench alert is about 20.4 KB (text + HTML)
PORT=${PORT:-25250}
# This machine's neighbours make single runs noisy: ROUNDS > 1 runs every
# case that many times, smtp-source and herald in turn, and keeps each
# one's best figure.
ROUNDS=${ROUNDS:-1}

if ! command -v smtp-sink >/dev/null; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix >/dev/null
fi
# The postfix package may start its daemon: it is not wanted here.
if pgrep -x master >/dev/null; then postfix stop >/dev/null 2>&1 || true; fi

mkdir -p bench/results
out=bench/results/smtp.txt
bin=$(mktemp -d)
trap 'kill "$sink" 2>/dev/null || true; rm -rf "$bin"' EXIT
go build -o "$bin/mailbench" ./bench/mailbench

smtp-sink -u postfix "127.0.0.1:$PORT" 256 &
sink=$!
sleep 0.5

rate() { # count start end
	awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'
}

declare -A SRC HER CONNS RSS
for round in $(seq "$ROUNDS"); do
	for n in $COUNTS; do
		for c in $CONCS; do
			start=$(date +%s.%N)
			timeout 300 smtp-source -d -s "$c" -m "$n" -l "$SIZE" -f press@example.org -t reader@example.net "127.0.0.1:$PORT"
			end=$(date +%s.%N)
			src=$(rate "$n" "$start" "$end")
			line=$(timeout 600 "$bin/mailbench" -n "$n" -c "$c" -smtp "127.0.0.1:$PORT")
			her=$(sed -E 's/.*rate=([0-9]+).*/\1/' <<<"$line")
			echo "   round $round, $n messages at $c: smtp-source $src/s, herald $her/s" >&2
			k="$n/$c"
			if [ -z "${SRC[$k]:-}" ] || [ "$src" -gt "${SRC[$k]}" ]; then SRC[$k]=$src; fi
			if [ -z "${HER[$k]:-}" ] || [ "$her" -gt "${HER[$k]}" ]; then HER[$k]=$her; fi
			CONNS[$k]=$(sed -E 's/.*connections=([0-9]+).*/\1/' <<<"$line")
			r=$(sed -E 's/.*peak_rss=([0-9]+)MB.*/\1/' <<<"$line")
			if [ -z "${RSS[$k]:-}" ] || [ "$r" -gt "${RSS[$k]}" ]; then RSS[$k]=$r; fi
		done
	done
done
printf '%-8s %-4s %14s %14s %7s %12s %9s\n' messages conc "smtp-source/s" "herald/s" ratio connections peak_rss | tee "$out"
for n in $COUNTS; do
	for c in $CONCS; do
		k="$n/$c"
		ratio=$(awk -v a="${HER[$k]}" -v b="${SRC[$k]}" 'BEGIN { printf "%.2f", a / b }')
		printf '%-8s %-4s %14s %14s %7s %12s %9s\n' "$n" "$c" "${SRC[$k]}" "${HER[$k]}" "$ratio" "${CONNS[$k]}" "${RSS[$k]}MB" | tee -a "$out"
	done
done
# Transfer encodings at the highest concurrency: 8bit (default where the
# server announces 8BITMIME) against quoted-printable.
last=${COUNTS##* }
c=${CONCS##* }
echo | tee -a "$out"
for flag in "" "-qp"; do
	timeout 600 "$bin/mailbench" -n "$last" -c "$c" -smtp "127.0.0.1:$PORT" $flag | tee -a "$out"
done
