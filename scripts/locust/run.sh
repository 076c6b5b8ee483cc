#!/usr/bin/env bash
# Runs real Locust with X-Agent's suite (locustfile.py) against the fake and
# fails if Locust saw any failure: the fake must answer the suite as X-Agent does.
# Usage: scripts/locust/run.sh [seconds] [users]   (installs Debian's python3-locust if missing)
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-20}
users=${2:-30}
if ! command -v locust >/dev/null; then
  echo "installing python3-locust" >&2
  apt-get update -qq && apt-get install -y -qq python3-locust >/dev/null
fi
out=$(mktemp -d)
go build -o "$out/fakeapi" ./scripts/fakeapi
port=$(( 20000 + RANDOM % 20000 ))
"$out/fakeapi" -addr "127.0.0.1:$port" >"$out/fake.log" 2>&1 &
fake=$!
trap 'kill "$fake" 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q listening "$out/fake.log" && break; sleep 0.1; done
locust -f scripts/locust/locustfile.py --headless -u "$users" -r "$users" -t "${secs}s" \
  --host "http://127.0.0.1:$port" --csv "$out/locust" --only-summary >"$out/locust.log" 2>&1 || true
tail -n 25 "$out/locust.log"
fails=$(tail -n +2 "$out/locust_failures.csv" | wc -l)
requests=$(awk -F, '$2=="Aggregated"{print $3}' "$out/locust_stats.csv")
echo "locust: $requests requests, $fails failure groups (details: $out)"
[ "$fails" -eq 0 ] && [ "${requests:-0}" -gt 0 ]
