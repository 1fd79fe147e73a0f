#!/usr/bin/env bash
# Fan-out at scale (issue: alerts and digests). Seeds 100,000 active
# subscribers of varied preferences (topics, regions and countries, four
# languages, three cadences, six time zones) and 20 live releases (two
# translation pairs among them) into a fresh SQLite database, then measures
# with /usr/bin/time, each as its own process beside nothing else (see
# settle):
#
#   - an alert to every matching subscriber (dry run, then the real one);
#   - a daily digest run for every daily subscriber (20 releases in window);
#   - the same run again (must queue nothing);
#   - rendering every queued digest and alert with `go test -bench Compose`.
#
# Targets on a 2-core machine (SPEC 13), on SQLite and PostgreSQL alike:
# 1,000,000 subscribers: import < 30 s, alert queued < 15 s, digest run
# < 30 s, peak RSS < 150 MB; 10,000,000: alert queued < 3 min, < 300 MB.
#
#   bash bench/dispatch.sh [SUBSCRIBERS] [sqlite|postgres]
#
# On postgres the database herald_bench is dropped and made anew on the
# server of HERALD_BENCH_POSTGRES (default: postgres://postgres@127.0.0.1:5432).
#
# Everything is written under bench/results/dispatch (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
engine="${2:-sqlite}"
out=bench/results/dispatch-$engine
rm -rf "$out"
mkdir -p "$out"
go build -o "$out/herald" ./cmd/herald
export HERALD_DATA_DIR="$out/data" HERALD_LOG_FORMAT=text
case "$engine" in
sqlite) unset HERALD_DB ;;
postgres)
  server="${HERALD_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
  psql "$server/postgres" -qc "DROP DATABASE IF EXISTS herald_bench" -c "CREATE DATABASE herald_bench"
  export HERALD_DB="$server/herald_bench?sslmode=disable"
  ;;
*) echo "engine must be sqlite or postgres" >&2; exit 2 ;;
esac
echo "engine: $engine, $n subscribers"

awk -v n="$n" 'BEGIN {
  srand(42)
  nt = split("|migration|refugees;displacement|human-trafficking;migrant-smuggling|emergencies|climate-change;displacement|labour-migration;remittances|children", topics, "|")
  nr = split("|americas|argentina;venezuela|europe|africa;middle-east-and-north-africa|asia-pacific|france;spain;italy|niger", regions, "|")
  split("en en en fr es es ar", langs, " ")
  split("immediate daily daily daily weekly", cadences, " ")
  split("UTC Europe/Paris Europe/Zurich America/Argentina/Buenos_Aires America/New_York Asia/Dhaka", zones, " ")
  print "email,topics,regions,language,cadence,timezone,status"
  for (i = 0; i < n; i++)
    printf "reader%06d@example.org,%s,%s,%s,%s,%s,active\n", i,
      topics[int(rand() * nt) + 1], regions[int(rand() * nr) + 1], langs[int(rand() * 7) + 1],
      cadences[int(rand() * 5) + 1], zones[int(rand() * 6) + 1]
}' > "$out/subscribers.csv"

# settle: each step is measured beside nothing else. On PostgreSQL, what the
# previous step left to the server (the checkpoint of its write-ahead log,
# autovacuum of the rows it wrote) is finished first; the seconds it took
# are printed, not counted.
settle() {
  [ "$engine" = postgres ] || { sync; return; }
  local t0=$SECONDS
  psql -q "$HERALD_DB" -c "CHECKPOINT"
  for _ in $(seq 120); do
    [ "$(psql -At "$HERALD_DB" -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'")" = 0 ] && break
    sleep 1
  done
  psql -q "$HERALD_DB" -c "CHECKPOINT"
  printf "%-34s %6d s (not counted)\n" "  settle" $((SECONDS - t0))
}

measure() { # label, command...: wall seconds and peak RSS of one process
  local label="$1"; shift
  settle
  /usr/bin/time -f "%e %M %U %S" -o "$out/time.txt" "$@" > "$out/last.out" 2> "$out/last.err" || { cat "$out/last.err"; exit 1; }
  read -r secs kb usr sys < "$out/time.txt"
  printf "%-34s %6.2f s  %6.1f MB peak RSS  %6.2f s CPU   %s\n" "$label" "$secs" "$(awk -v k="$kb" 'BEGIN{print k/1024}')" \
    "$(awk -v u="$usr" -v s="$sys" 'BEGIN{print u+s}')" "$(tail -n1 "$out/last.out")"
}

measure "import $n subscribers" "$out/herald" subscribers import --quiet "$out/subscribers.csv"
sleep 1 # releases are published after every subscriber's confirmation

python3 - "$out/releases.json" <<'PY'
import json, sys, random
random.seed(7)
topics = ["migration", "refugees", "displacement", "human-trafficking", "emergencies", "climate-change", "labour-migration", "children", "missing-migrants"]
regions = [[], ["argentina"], ["venezuela", "colombia"], ["france"], ["niger", "mali"], ["bangladesh"], ["americas"], ["europe"], ["libya", "italy"], []]
body = "\n\n".join(["Paragraph %d of a realistic press release, with enough words to weigh what a real one weighs: " % i + "lorem ipsum dolor sit amet " * 30 for i in range(8)])
out = []
for i in range(20):
    r = {"title": "Release %d: a headline of realistic length for a press office" % i, "body": body,
         "topics": random.sample(topics, random.randint(1, 2)), "regions": regions[i % len(regions)],
         "language": "en", "dateline": "Geneva"}
    if i in (3, 11):
        r["translation_key"] = "pair-%d" % i
        out.append(r)
        r = dict(r, language=random.choice(["fr", "es"]), title=r["title"] + " (traduction)")
    out.append(r)
json.dump(out[:20], open(sys.argv[1], "w"))
PY
measure "add 20 releases" "$out/herald" releases add "$out/releases.json"
id=$(head -n1 "$out/last.out" | cut -f1)
"$out/herald" releases add - > "$out/urgent.out" <<'JSON'
{"title": "Urgent: a release for everyone", "body": "Every subscriber matches this one.", "topics": ["emergencies", "migration", "refugees", "displacement", "human-trafficking", "migrant-smuggling", "climate-change", "labour-migration", "remittances", "children"]}
JSON
urgent=$(cut -f1 "$out/urgent.out")

measure "alert dry run (matching)" "$out/herald" alert "$urgent" --dry-run
measure "alert to every matching subscriber" "$out/herald" alert "$urgent" --follow=false
measure "alert again (nothing new)" "$out/herald" alert "$urgent" --follow=false
measure "daily digest dry run" "$out/herald" digest daily --dry-run
measure "daily digest run" "$out/herald" digest daily
measure "daily digest run again" "$out/herald" digest daily

echo
echo "Rendering cost per message (shared parts cached), from go test -bench:"
go test ./dispatch -run '^$' -bench 'Compose' -benchtime 2000x | grep -E '^Benchmark'
