#!/usr/bin/env bash
# Instructions per HTTP announce under valgrind's callgrind (user space, every thread: the JIT and
# the garbage collector included, the kernel's TCP work not), which other processes on a shared
# machine do not change, unlike CPU time. See tests/bench/README.md, "Where an announce's CPU goes".
#
#   tests/bench/load/callgrind_announce.sh nobrake [MAIN_TS]    # default: this checkout's main.ts
#   tests/bench/load/callgrind_announce.sh floor [announce|read|...]
#
# NoBrake runs in open mode with `deno task start`'s V8 flag, is filled with 50 torrents x 100
# peers, then gets 25 s of wrk (8 connections, the load runner's Lua script and workload) to warm
# up; counters are zeroed, 20 s more are counted, and the total is divided by wrk's request count.
# Prints one line: `<server> requests N Ir N kIr/req N`. Needs valgrind, wrk and curl; ~2 minutes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
kind=${1:?nobrake or floor}
port=${PORT:-6972}
work=$(mktemp -d)
pid=""
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

# The request sequence: the load runner's workload (50 torrents), one target per line.
cat > "$work/sequence.ts" <<EOF
import { Workload } from "$here/workload.ts";
import { writeSequence } from "$here/wrk_load.ts";
const workload = new Workload({ torrents: 50 });
await writeSequence("$work/sequence.txt", Array.from({ length: 100000 }, () => workload.nextAnnounce()));
EOF
deno run --allow-read --allow-write="$work" "$work/sequence.ts"

if [ "$kind" = nobrake ]; then
  main=${2:-$repo/main.ts}
  cat > "$work/tracker.json" <<EOF
{ "ip": "127.0.0.1", "port": $port, "allowed": "*", "interval": 1800, "expiry": 3600,
  "udp": false, "state_file": null }
EOF
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" \
    deno run -A --v8-flags=--max-semi-space-size=4 "$main" "$work/tracker.json" \
    > "$work/server.log" 2>&1 &
else
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" \
    deno run -A "$here/floor_server.ts" "$port" "${2:-announce}" > "$work/server.log" 2>&1 &
fi
pid=$!
for _ in $(seq 1 120); do
  curl -s -o /dev/null "http://127.0.0.1:$port/announce" && break
  sleep 1
done
if [ "$kind" = nobrake ]; then
  deno run -A "$here/load_generator.ts" --port "$port" --prefill --torrents 50 --seconds 1 \
    --warmup 1 --connections 8 > /dev/null
fi
run_wrk() {
  wrk -t1 -c8 -d"$1" --timeout 10s -H "User-Agent: libtorrent/2.0.6.0" \
    -H "Accept-Encoding: gzip" -s "$here/wrk_tracker.lua" "http://127.0.0.1:$port" \
    -- "$work/sequence.txt" 50 50
}
run_wrk 25s > /dev/null
callgrind_control -z "$pid" > /dev/null 2>&1
run_wrk 20s > "$work/wrk.txt"
callgrind_control -d "$pid" > /dev/null 2>&1
sleep 2
requests=$(grep -o '"requests":[0-9]*' "$work/wrk.txt" | cut -d: -f2)
instructions=$(grep -h "^summary:" "$work"/cg.*.1 | head -1 | awk '{print $2}')
echo "$kind${2:+ $2} requests $requests Ir $instructions kIr/req $(
  awk -v i="$instructions" -v r="$requests" 'BEGIN { printf "%.1f", i / r / 1000 }'
)"
