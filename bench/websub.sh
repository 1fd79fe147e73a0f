#!/usr/bin/env bash
# WebSub fan-out (SPEC 9.2 / issue 13): one change to a topic with 10,000
# live subscriptions; prints how long queuing the 10,000 pushes took, on
# SQLite and, when HERALD_TEST_POSTGRES is set, on PostgreSQL.
# Usage: bash bench/websub.sh
set -euo pipefail
cd "$(dirname "$0")/.."
echo "SQLite:"
HERALD_TEST_POSTGRES= go test ./websub -run 'TestHub_FanOut10k$' -count=1 -v | grep -E 'fan-out|FAIL' || true
if [ -n "${HERALD_TEST_POSTGRES:-}" ]; then
	echo "PostgreSQL:"
	go test ./websub -run 'TestHub_FanOut10k$' -count=1 -v | grep -E 'fan-out|FAIL' || true
fi
