#!/usr/bin/env bash
# Metrics endpoint load test (issue 9): `gale schedule` serving /metrics on loopback under
# `ab` (apache2-utils) for DURATION seconds (default 60) with 4 concurrent keep-alive
# clients; prints requests/s, failed requests and the daemon's resident memory before and
# after. Baseline in the same run: Python's http.server serving the same scrape as a file.
#   bench/run_metrics_load.sh [seconds]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${GALE_BUILD_DIR:-$ROOT/build}"
SECONDS_RUN="${1:-60}"
W="$(mktemp -d)"
PORT=$((20000 + RANDOM % 20000))
cleanup() { kill "${DAEMON:-}" "${PEER:-}" 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
cd "$W"
mkdir -p in/2001010100 && touch in/2001010100/a.grib in/2001010100/.done
cat > s.yaml <<YAML
schedule:
  cron: "0 0,6,12,18 * * *"
  start: 2001-01-01T00
  input: {pattern: "in/{YYYYMMDDHH}/*.grib", done_marker: "in/{YYYYMMDDHH}/.done"}
  command: [sh, -c, "true"]
  poll_seconds: 60
  metrics: {listen: "127.0.0.1:$PORT", threads: 4, request_timeout_ms: 5000}
YAML
"$BUILD/ops/gale" schedule -q --allow-root -c s.yaml --clock 2001-01-01T00@60 &
DAEMON=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/metrics" > scrape.txt && break; sleep 0.1; done
rss() { awk '/VmRSS/ {print $2}' "/proc/$DAEMON/status"; }
echo "== gale /metrics on 127.0.0.1:$PORT, ${SECONDS_RUN} s, 4 keep-alive clients"
before=$(rss)
ab -q -k -c 4 -t "$SECONDS_RUN" -n 100000000 "http://127.0.0.1:$PORT/metrics" > gale.txt 2>&1 || true
after=$(rss)
grep -E "Complete requests|Failed requests|\(Connect:|Non-2xx|Requests per second" gale.txt | sed 's/^/  /'
# ab counts a response whose length differs from the first as "failed (Length)": the
# scrape includes the exposer's own counters (scrapes, bytes), so its length changes
# with every request. Connection, receive and exception failures and non-2xx replies are
# the real errors.
awk '/\(Connect:/ {gsub(",", ""); print "  real errors (connect + receive + exceptions): " $2 + $4 + $8}' gale.txt
echo "  daemon RSS: ${before} kB before, ${after} kB after"

PEER_PORT=$((PORT + 1))
mkdir -p static && cp scrape.txt static/metrics
(cd static && exec python3 -m http.server "$PEER_PORT" --bind 127.0.0.1 > /dev/null 2>&1) &
PEER=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PEER_PORT/metrics" > /dev/null && break; sleep 0.1; done
echo "== baseline: python3 http.server serving the same scrape as a file, ${SECONDS_RUN} s"
ab -q -k -c 4 -t "$SECONDS_RUN" -n 100000000 "http://127.0.0.1:$PEER_PORT/metrics" > peer.txt 2>&1 || true
grep -E "Complete requests|Failed requests|Requests per second" peer.txt | sed 's/^/  /'
g=$(awk '/Requests per second/ {print $4}' gale.txt)
p=$(awk '/Requests per second/ {print $4}' peer.txt)
echo "ratio (gale / http.server requests per second): $(echo "$g / $p" | bc -l | cut -c1-5)x"
