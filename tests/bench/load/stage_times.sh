#!/usr/bin/env bash
# Where an announce's time goes inside a loaded NoBrake server, stage by stage: this checkout's
# `src/` is copied and `stage_times.patch` applied to the copy (it adds `src/stage_timer.ts` and
# a `performance.now()` read between the stages of an HTTP announce), then that copy serves the
# load runner's workload under wrk, as callgrind_announce.sh does, pinned to core 0 (wrk on core 1).
# The tracker itself carries no timers. Each printed line is the average over 100,000 announces of
# the measured window, in nanoseconds, with the cost of a clock read taken off each stage:
#
#   before    handler entry to the announce: method, client address, path, admission
#   parse     parseAnnounceUrl (request.url already read)
#   core      Tracker.announce without the sampling: swarm and peer lookup, record update
#   sample    picking and copying the reply's peers (Tracker #fill)
#   encode    the bencoded reply into the shared buffer
#   response  new Response(body): Deno copies the body (the floor pays this too)
#
# followed by the server's CPU per announce over the window (from /proc/PID/stat; the timers add
# eight clock reads per announce to it). What is left of the CPU is Deno.serve's own work, the
# kernel's, and what NoBrake costs outside its handler (garbage collection).
#
#   tests/bench/load/stage_times.sh [SECONDS]    # measured seconds, default 20; needs wrk, curl
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
seconds=${1:-20}
port=${PORT:-6973}
work=$(mktemp -d)
pid=""
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

cp -r "$repo/src" "$repo/main.ts" "$repo/deno.json" "$work/"
[ -f "$repo/deno.lock" ] && cp "$repo/deno.lock" "$work/"
(cd "$work" && git apply "$here/stage_times.patch")

cat > "$work/sequence.ts" <<TS
import { Workload } from "$here/workload.ts";
import { writeSequence } from "$here/wrk_load.ts";
const workload = new Workload({ torrents: 1000 });
await writeSequence("$work/sequence.txt", Array.from({ length: 100000 }, () => workload.nextAnnounce()));
TS
deno run --allow-read --allow-write="$work" "$work/sequence.ts"
cat > "$work/tracker.json" <<JSON
{ "ip": "127.0.0.1", "port": $port, "allowed": "*", "interval": 1800, "expiry": 3600,
  "udp": false, "state_file": null }
JSON

taskset -c 0 deno run -A --v8-flags=--max-semi-space-size=4 "$work/main.ts" "$work/tracker.json" \
  > "$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 60); do
  curl -s -o /dev/null "http://127.0.0.1:$port/announce" && break
  sleep 0.5
done
taskset -c 1 deno run -A "$here/load_generator.ts" --port "$port" --prefill --torrents 1000 \
  --seconds 1 --warmup 1 > /dev/null
run_wrk() {
  taskset -c 1 wrk -t1 -c32 -d"$1" --timeout 10s -H "User-Agent: libtorrent/2.0.6.0" \
    -H "Accept-Encoding: gzip" -s "$here/wrk_tracker.lua" "http://127.0.0.1:$port" \
    -- "$work/sequence.txt" 50 50
}
run_wrk 10s > /dev/null
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
lines=$(grep -c "^stages" "$work/server.log" || true)
ticks=$(cpu_ticks)
run_wrk "${seconds}s" > "$work/wrk.txt"
ticks=$(( $(cpu_ticks) - ticks ))
requests=$(grep -o '"requests":[0-9]*' "$work/wrk.txt" | cut -d: -f2)
# Lines printed during the measured window, less its first (which straddles the warm-up).
grep "^stages" "$work/server.log" | tail -n +"$((lines + 2))" || true
echo "requests $requests cpu_us/announce $(awk -v t="$ticks" -v r="$requests" -v hz="$(getconf CLK_TCK)" \
  'BEGIN { printf "%.2f", t / hz * 1e6 / r }')"
