#!/usr/bin/env bash
# Deliverability check: builds a sample alert and a sample digest exactly as
# herald sends them and runs SpamAssassin (local rules, no network tests)
# over each. Fails when a total score reaches 2, or when a rule fires that
# herald could avoid (MIME structure, missing text part, missing Date or
# Message-ID, HTML-only or image-only, List-Unsubscribe problems).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v spamassassin >/dev/null; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq spamassassin >/dev/null
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go run ./bench/mailsample -maildir "$dir/maildir"

avoidable='MIME_|MISSING_|HTML_ONLY|HTML_IMAGE|HTML_SHORT|MPART_ALT_DIFF|LIST_UNSUB|UNPARSEABLE|INVALID_DATE|INVALID_MSGID|MSGID_|TVD_|BAD_ENC|HEADER_FROM_DIFFERENT|FROM_EXCESS|SUBJ_ALL_CAPS|EMPTY_MESSAGE|T_REMOTE_IMAGE|HTML_FONT|HTML_OBFUSCATE'
status=0
for f in "$dir"/maildir/new/*; do
	kind=$(sed -n 's/^X-Herald-Kind: //p' "$f" | head -1)
	report=$(spamassassin -L -t <"$f")
	line=$(sed -n '/^X-Spam-Status:/,/^[^[:space:]]/p' <<<"$report" | sed '$d' | tr -d '\n\t' | tr -s ' ')
	score=$(sed -E 's/.*score=(-?[0-9.]+).*/\1/' <<<"$line")
	tests=$(sed -E 's/.*tests=([^ ]*).*/\1/' <<<"$line")
	echo "$kind: score $score, rules: $tests"
	if awk -v s="$score" 'BEGIN { exit !(s >= 2) }'; then
		echo "  FAIL: score $score is not below 2"
		status=1
	fi
	if grep -Eq "$avoidable" <<<"$tests"; then
		echo "  FAIL: an avoidable rule fired: $(tr ',' '\n' <<<"$tests" | grep -E "$avoidable" | tr '\n' ' ')"
		status=1
	fi
done
exit $status
