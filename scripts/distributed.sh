#!/usr/bin/env bash
# Runs a load test as N processes on this machine, each its own segment of the
# load, all starting together against one target, then merges their run files
# exactly: the distributed recipe (see scripts/k8s) without a cluster.
#
#   scripts/distributed.sh -n 2 -run TestLoadLight -duration 10s
#   scripts/distributed.sh -n 4 -o out/heavy -run TestLoadHeavy -host http://localhost:8000 -timeout 0
#
# Options before the test flags: -n N (processes, default 2), -o DIR (output,
# default out/distributed). The test flags are go test's: -run, -v, -short and
# -timeout are given to the test binary with its -test. prefix. Without -host a
# standalone fake (scripts/fakeapi) is started for all processes and stopped
# after. Writes DIR/seg-<i>.json and .log, and DIR/merged.json, merged_*.csv
# and merged.html; exits with scripts/merge's status (1 when the merged run fails).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

n=2
out=out/distributed
while [[ $# -gt 0 ]]; do
	case "$1" in
	-n) n=$2; shift 2 ;;
	-o) out=$2; shift 2 ;;
	--) shift; break ;;
	*) break ;;
	esac
done
if ! [[ "$n" =~ ^[0-9]+$ ]] || (( n < 1 )); then
	echo "distributed.sh: -n $n: want a positive number of processes" >&2
	exit 2
fi

args=()
host=""
while [[ $# -gt 0 ]]; do
	case "$1" in
	-run | -timeout) args+=("-test.${1#-}" "$2"); shift 2 ;;
	-v | -short) args+=("-test.${1#-}"); shift ;;
	-host) host=$2; shift 2 ;;
	-json-file | -json | -segment | -start-at)
		echo "distributed.sh: $1 is set per process by this script" >&2
		exit 2 ;;
	*) args+=("$1"); shift ;;
	esac
done

mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/seg-*.json "$out"/seg-*.log
export PATH="/usr/local/go/bin:$PATH"
go test -c -o "$out/perf.test" ./perf
go build -o "$out/merge" ./scripts/merge

fake_pid=""
cleanup() { if [[ -n "$fake_pid" ]]; then kill "$fake_pid" 2>/dev/null || true; wait "$fake_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT
if [[ -z "$host" ]]; then
	go build -o "$out/fakeapi" ./scripts/fakeapi
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
	"$out/fakeapi" -addr "127.0.0.1:$port" >"$out/fakeapi.log" 2>&1 &
	fake_pid=$!
	host="http://127.0.0.1:$port"
	for _ in $(seq 50); do
		curl -fsS "$host/healthz" >/dev/null 2>&1 && break
		sleep 0.1
	done
fi

start=$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%S.%3NZ)
echo "distributed: $n processes against $host, starting at $start"
pids=()
for ((i = 1; i <= n; i++)); do
	(cd "$root/perf" && exec "$out/perf.test" "${args[@]}" -host "$host" -segment "$i/$n" -start-at "$start" \
		-json-file "$out/seg-$i.json") >"$out/seg-$i.log" 2>&1 &
	pids+=($!)
done
for ((i = 1; i <= n; i++)); do
	if wait "${pids[$((i - 1))]}"; then
		echo "segment $i/$n: passed (its own share; the merged run is what counts)"
	else
		echo "segment $i/$n: failed its own share (see $out/seg-$i.log); the merged run is what counts"
	fi
done

files=()
for ((i = 1; i <= n; i++)); do
	if [[ -f "$out/seg-$i.json" ]]; then files+=("$out/seg-$i.json"); fi
done
if [[ ${#files[@]} -eq 0 ]]; then
	echo "distributed: no segment wrote its run file; see $out/seg-*.log" >&2
	exit 2
fi
"$out/merge" -o "$out/merged.json" -csv "$out/merged" -html "$out/merged.html" "${files[@]}"
