#!/usr/bin/env bash
# Measures this harness's max-throughput scenario (perf TestLoadMax, with its
# net/http and fasthttp engines) against peer load generators on this machine:
# wrk, bombardier, hey, vegeta and ab, all hitting one fake X-Agent
# (scripts/fakeapi) on loopback with GET /status.
#
#   scripts/bench-peers.sh                          # 3 rounds of 10 s, 50 connections, then 5000 and 10000 users
#   scripts/bench-peers.sh -rounds 1 -d 3 -no-many  # a quick pass
#   scripts/bench-peers.sh -o out/bp -c 100 -many 2000,5000
#
# Options: -rounds R (throughput rounds, default 3), -d SECONDS (each run,
# default 10), -c N (connections/users, default 50), -many N,N (the many-users
# round's sizes, default 5000,10000), -no-many (skip that round), -o DIR
# (output, default out/bench-peers).
#
# What it does: installs the missing peers (wrk, hey, ab from apt; bombardier
# and vegeta with go install into DIR/bin; a peer that cannot be installed is
# skipped, with a line saying so); builds DIR/perf.test and DIR/fakeapi; starts
# the fake pinned to core 0 and runs every generator pinned to core 1 (unpinned
# on a 1-core machine), under /usr/bin/time for its CPU seconds and peak RSS.
# Throughput rounds run the tools interleaved, the order rotated each round;
# the many-users round runs ours (net, fast), wrk and bombardier with N
# connections against a second fake whose /status takes 50 ms. Needs
# `ulimit -n` of N+1000 for the largest N, in each process (raised here when the hard limit allows).
#
# Writes DIR/results.tsv and DIR/many.tsv (one row per run), each run's output
# and time files under DIR/runs/, and DIR/summary.md, which it prints.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

rounds=3
dur=10
conns=50
many="5000,10000"
out=out/bench-peers
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while [[ $# -gt 0 ]]; do
	case "$1" in
	-rounds) rounds=$2; shift 2 ;;
	-d) dur=${2%s}; shift 2 ;;
	-c) conns=$2; shift 2 ;;
	-many) many=$2; shift 2 ;;
	-no-many) many=""; shift ;;
	-o) out=$2; shift 2 ;;
	-h | -help | --help) usage ;;
	*) echo "bench-peers.sh: unknown option $1" >&2; usage ;;
	esac
done
for v in "$rounds" "$dur" "$conns"; do
	if ! [[ "$v" =~ ^[1-9][0-9]*$ ]]; then
		echo "bench-peers.sh: -rounds, -d and -c want positive whole numbers, got $v" >&2
		exit 2
	fi
done
many_ns=()
if [[ -n "$many" ]]; then
	IFS=, read -r -a many_ns <<<"$many"
	for n in "${many_ns[@]}"; do
		if ! [[ "$n" =~ ^[1-9][0-9]*$ ]]; then
			echo "bench-peers.sh: -many $many: want comma-separated positive numbers" >&2
			exit 2
		fi
	done
fi
many_dur=15

# The file limit comes first: a many-users round that cannot run should fail
# before the throughput rounds spend their minutes.
if ((${#many_ns[@]} > 0)); then
	maxn=0
	for n in "${many_ns[@]}"; do ((n > maxn)) && maxn=$n; done
	need=$((maxn + 1000)) # per process: the generator and the fake each hold N sockets
	if (($(ulimit -n) < need)); then
		if ! ulimit -n "$need" 2>/dev/null; then
			echo "bench-peers.sh: the many-users round with $maxn connections needs 'ulimit -n' of at least $need," >&2
			echo "  but the limit is $(ulimit -n) (hard limit $(ulimit -Hn)) and cannot be raised here." >&2
			echo "  Raise the hard limit (limits.conf, systemd LimitNOFILE, docker --ulimit nofile=…), or pass" >&2
			echo "  -many with N ≤ $(($(ulimit -Hn) - 1000)), or -no-many." >&2
			exit 1
		fi
	fi
fi

export PATH="/usr/local/go/bin:$PATH"
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/runs" "$out/results.tsv" "$out/many.tsv" "$out/summary.md"
mkdir -p "$out/runs" "$out/bin"
export PATH="$out/bin:$PATH"
notes=() # lines for the summary's header

# ---- 1. Peers ----
sudo=()
if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
apt_updated=""
apt_install() { # apt_install PACKAGE…: install, running apt-get update first only when a package has no candidate
	local p need_update=""
	for p in "$@"; do
		if ! apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [^(]'; then need_update=1; fi
	done
	if [[ -n "$need_update" && -z "$apt_updated" ]]; then
		"${sudo[@]}" apt-get update -qq >/dev/null 2>&1 || true
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$@" >"$out/runs/apt-$1.log" 2>&1
}
if [[ ! -x /usr/bin/time ]]; then
	apt_install time || { echo "bench-peers.sh: /usr/bin/time is missing and 'apt-get install time' failed" >&2; exit 1; }
fi
if ! command -v taskset >/dev/null; then
	apt_install util-linux || true
fi
skipped=()
have_tool() { # have_tool NAME COMMAND INSTALL…
	local name=$1 cmd=$2
	shift 2
	if command -v "$cmd" >/dev/null; then return 0; fi
	echo "bench-peers: installing $name"
	if "$@" && command -v "$cmd" >/dev/null; then return 0; fi
	echo "bench-peers: $name could not be installed; skipping it"
	skipped+=("$name")
	return 1
}
peers=()
have_tool wrk wrk apt_install wrk && peers+=(wrk)
have_tool bombardier bombardier env GOBIN="$out/bin" go install github.com/codesenberg/bombardier@v1.2.6 && peers+=(bombardier)
have_tool hey hey apt_install hey && peers+=(hey)
have_tool vegeta vegeta env GOBIN="$out/bin" go install github.com/tsenart/vegeta/v12@v12.13.0 && peers+=(vegeta)
have_tool ab ab apt_install apache2-utils && peers+=(ab)

# ---- 2. Builds ----
echo "bench-peers: building perf.test, fakeapi and the helper"
go build -o "$out/fakeapi" ./scripts/fakeapi
go build -o "$out/bin/bench-peers" ./scripts/bench-peers
ours=()
rm -f "$out/perf.test"
if ! go test -c -o "$out/perf.test" ./perf >"$out/runs/build-perf.log" 2>&1; then
	cat "$out/runs/build-perf.log" >&2
	echo "bench-peers: ./perf does not build (above, and $out/runs/build-perf.log); skipping ours"
	skipped+=("ours (./perf does not build)")
elif "$out/perf.test" -test.list '^TestLoadMax$' 2>/dev/null | grep -qx TestLoadMax; then
	ours=(ours-net ours-fast)
else
	echo "bench-peers: perf has no TestLoadMax yet; skipping ours"
	skipped+=("ours (no TestLoadMax in perf)")
fi
tools=("${ours[@]}" "${peers[@]}")
if ((${#tools[@]} == 0)); then
	echo "bench-peers.sh: no load generator to run" >&2
	exit 1
fi

# ---- 3. Target and pinning ----
cores=$(nproc)
pin_target=()
pin_gen=()
if ((cores >= 2)); then
	pin_target=(taskset -c 0)
	pin_gen=(taskset -c 1)
	pinning="target on core 0, generator on core 1 ($cores cores)"
else
	pinning="unpinned: this machine has $cores core, target and generator share it"
	echo "bench-peers: only $cores core; running target and generators unpinned"
fi

fake_pids=()
gen_pid=""
cleanup() {
	if [[ -n "$gen_pid" ]]; then kill -- "-$gen_pid" 2>/dev/null || true; fi
	for p in "${fake_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${fake_pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_fake() { # start_fake LOGNAME [FLAG…]: starts a fake on a free port, sets $host
	local name=$1 port
	shift
	port=$(bench-peers freeport)
	"${pin_target[@]}" "$out/fakeapi" -addr "127.0.0.1:$port" "$@" >"$out/runs/$name.log" 2>&1 &
	fake_pids+=($!)
	host="http://127.0.0.1:$port"
	for _ in $(seq 100); do
		if curl -fsS -o /dev/null "$host/status" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "bench-peers.sh: the fake ($name) did not answer on $host; see $out/runs/$name.log" >&2
	exit 1
}

# run_gen ROUND TOOL N SECONDS HOST TSV [SPAWN]: one measured generator run, one TSV row.
run_gen() {
	local round=$1 tool=$2 n=$3 secs=$4 h=$5 tsv=$6 spawn=${7:-}
	local base="$out/runs/$round-$tool" url="$5/status" res cmd=()
	res="$base.out"
	rm -f "$base".*
	local limit=$((secs + 90))
	case "$tool" in
	ours-net | ours-fast)
		res="$base.json"
		cmd=("$out/perf.test" -test.run '^TestLoadMax$' -test.v -test.timeout 0 -host "$h" -users "$n"
			-duration "${secs}s" -path /status -client "${tool#ours-}" -json-file "$res"
			-health-every 0 -metrics-every 0)
		if [[ -n "$spawn" ]]; then cmd+=(-spawn-rate "$spawn"); fi ;;
	wrk)
		local threads=1
		if [[ -n "$spawn" ]]; then threads=2; fi
		cmd=(wrk -t "$threads" -c "$n" -d "${secs}s" --latency "$url") ;;
	bombardier) cmd=(bombardier -c "$n" -d "${secs}s" -l -p r -o json "$url") ;;
	hey) cmd=(hey -z "${secs}s" -c "$n" "$url") ;;
	vegeta)
		res="$base.bin"
		printf 'GET %s\n' "$url" >"$base.targets"
		cmd=(vegeta attack -targets="$base.targets" -rate=0 -workers="$n" -max-workers="$n"
			-duration="${secs}s" -output="$res") ;;
	ab)
		# ab allocates a record per planned request: plan for 200k/s at most.
		cmd=(ab -k -c "$n" -t "$secs" -n $((secs * 200000)) "$url") ;;
	esac
	printf 'bench-peers: round %s: %-10s ' "$round" "$tool"
	local rc=0
	# setsid: the run is its own process group, which cleanup can stop whole.
	(cd "$root/perf" && exec setsid "${pin_gen[@]}" /usr/bin/time -o "$base.time" -f '%e %U %S %M' \
		timeout -k 5 "$limit" "${cmd[@]}") >"$base.log" 2>&1 &
	gen_pid=$!
	wait "$gen_pid" || rc=$?
	gen_pid=""
	case "$tool" in
	vegeta)
		res="$base.out"
		vegeta report -type=json "$base.bin" >"$res" 2>>"$base.log" || true
		rm -f "$base.bin" ;;
	ours-*) ;;
	*) cp "$base.log" "$res" ;;
	esac
	local status=ok
	if ((rc == 124 || rc == 137)); then status="failed: timed out after ${limit}s"; fi
	bench-peers record -tsv "$tsv" -round "$round" -tool "$tool" -out "$res" -time "$base.time" -status "$status" || true
	tail -n 1 "$tsv" | awk -F'\t' '{
		if ($14 != "ok") { print $14; exit }
		rps = ($5 > 0) ? $3 / $5 : 0; cpu = $7 + $8
		printf "%9.0f req/s  %9.0f req/CPU-s  rss %6.1f MB  p50 %s ms  p99 %s ms  errors %d (exit %s)\n", rps, (cpu > 0 ? $3 / cpu : 0), $9 / 1024, $10, $11, $4, "'"$rc"'" }'
}

# ---- 4. Throughput rounds ----
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start_fake fake
thost=$host
body=$(curl -fsS "$thost/status")
body_size=${#body}
echo "bench-peers: target $thost ($pinning); GET /status answers $body_size bytes: $body"
echo "bench-peers: $rounds round(s) of ${dur}s, $conns connections, tools: ${tools[*]}"
nt=${#tools[@]}
for ((r = 1; r <= rounds; r++)); do
	for ((i = 0; i < nt; i++)); do
		run_gen "$r" "${tools[$(((i + r - 1) % nt))]}" "$conns" "$dur" "$thost" "$out/results.tsv"
	done
done

# ---- 5. Many users ----
if ((${#many_ns[@]} > 0)); then
	mtools=()
	for t in "${ours[@]}" wrk bombardier; do
		if [[ " ${tools[*]} " == *" $t "* ]]; then mtools+=("$t"); fi
	done
	start_fake fake-many -latency /status=fixed:50ms
	mhost=$host
	echo "bench-peers: many-users round against $mhost (/status takes 50 ms), ${many_dur}s each, ulimit -n $(ulimit -n): ${mtools[*]}"
	for n in "${many_ns[@]}"; do
		for t in "${mtools[@]}"; do
			run_gen "$n" "$t" "$n" "$many_dur" "$mhost" "$out/many.tsv" "$n"
			sleep 2 # let the last run's sockets close
		done
	done
fi

# ---- 6. Summary ----
notes+=("Load average (1, 5, 15 min) before the runs: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg) (anything else running on core 0 or 1 skews the numbers)")
{
	echo "# Load generators compared: perf TestLoadMax and peers"
	echo
	echo "- $(date -u +%Y-%m-%dT%H:%M:%SZ), $(uname -sr), $cores cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(go version | cut -d' ' -f3)"
	echo "- Target: scripts/fakeapi on loopback; $pinning; every generator run under /usr/bin/time (CPU = user+sys of the generator process)"
	echo "- Throughput: GET /status ($body_size-byte JSON body), $conns connections/users, no wait, ${dur}s per run, $rounds round(s) interleaved (order rotated each round)"
	echo "- req/s = requests / the tool's own measured duration; req per CPU-s = requests / generator CPU seconds; vs wrk = that against wrk's in the same round"
	echo "- Latency percentiles as each tool reports them (ab's in whole ms; ours from the run file's HDR histogram of service time)"
	if ((${#skipped[@]} > 0)); then echo "- Skipped: ${skipped[*]}"; fi
	if ((${#notes[@]} > 0)); then printf -- '- %s\n' "${notes[@]}"; fi
	args=(-tsv "$out/results.tsv")
	if [[ -f "$out/many.tsv" ]]; then
		echo "- Many users: second fake with -latency /status=fixed:50ms; ${many_dur}s per run; ours with -spawn-rate N; wrk -t 2; held = errors ≤ 1 % and (ours) all N users running, (wrk) no connect errors"
		args+=(-many "$out/many.tsv")
	fi
	bench-peers table "${args[@]}"
} >"$out/summary.md"
echo
cat "$out/summary.md"
echo
echo "bench-peers: wrote $out/summary.md, results.tsv$([[ -f "$out/many.tsv" ]] && echo ", many.tsv"), runs/"
