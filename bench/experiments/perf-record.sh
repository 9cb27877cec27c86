#!/bin/bash
# True-CPU profile (Linux perf, call graphs) of the gateway and the passthrough during their c=50
# non-streamed cells of a bench run; the gateway runs with --perf-basic-prof so that JIT frames
# carry names. Needs `perf` (Debian: apt-get install linux-perf) and root. Outputs:
#   /tmp/gw.data, /tmp/pt.data (perf record), /tmp/gw.script (perf script), and the owner table.
# The profiled run's own figures are inflated by perf; use the shares, scaled to a clean run's CPU.
set -euo pipefail
cd "$(dirname "$0")/../.."
LOG=/tmp/bench-perf.log
BENCH_GATEWAY_NODE_ARGS=--perf-basic-prof BENCH_MODES=json BENCH_SECONDS=20 BENCH_WARMUP=2 BENCH_REPEATS=1 BENCH_PROBE_ROUNDS=1 node bench/run.mjs > "$LOG" 2>&1 &
BENCH=$!
wait_line() { until grep -q "$1" "$LOG"; do sleep 0.2; kill -0 $BENCH 2>/dev/null || { echo "bench ended early, see $LOG"; exit 1; }; done; }
wait_line 'rep 1/1 json   direct'
sleep 4
perf record -F 499 -g -p "$(pgrep -f passthrough-child.mjs | head -1)" -o /tmp/pt.data -- sleep 10 2>/dev/null
wait_line 'rep 1/1 json   passthrough'
sleep 4
perf record -F 499 -g -p "$(pgrep -f apps/gateway/dist/main.js | head -1)" -o /tmp/gw.data -- sleep 10 2>/dev/null
wait $BENCH || true
grep -E 'rep 1/1' "$LOG"
perf report -i /tmp/pt.data --no-children --sort dso --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -4 | sed 's/^/passthrough /'
perf report -i /tmp/gw.data --no-children --sort dso --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -4 | sed 's/^/gateway /'
perf script -i /tmp/gw.data -F comm,tid,ip,sym 2>/dev/null > /tmp/gw.script
node bench/experiments/perf-owners.mjs /tmp/gw.script "${SCALE_US:-100}" 30
