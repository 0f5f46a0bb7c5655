#!/usr/bin/env bash
# The work queue's benchmarks, in one run:
#   1. claim + complete cycles/s as a real run does them: the native binary under `corral up --engine external`, its
#      controller the native `corral node workqueue.controller`, 4 workers each in a process of its own (the real client,
#      a no-op runner), each worker at concurrency 1 and 16 ($CONCURRENCY), on SQLite durability sync (WAL,
#      synchronous=NORMAL, the default) and on Redis (appendonly yes, appendfsync always), interleaved $ROUNDS times;
#      cycles/s, claim p50/p99 and CPU µs per cycle at the controller and at redis-server (utime + stime from /proc over
#      the window), medians. (`WorkQueueBench cycles ...` still runs the older in-process variant: controller and
#      clients in one JIT process.)
#   2. end-to-end tasks/s when each task starts a real process (`true`): `corral up` with 4 workers, 200 tasks;
#   3. makespan of 100 tasks with seeded skewed durations and ±20% jitter per run: longest-first against file order
#      against the bound max(total / workers, longest), on a virtual clock through the real store's claim order.
# Usage: bench/workqueue/run.sh [tasks for 1, default 10000] [binary, default ./corral's native one]
#   CYCLES_BINARIES="before=path,after=path" runs part 1 with several builds, interleaved in the same run.
#   PARTS="1 2 3" (default) picks the parts; CONCURRENCY="1 16" (default) the per-worker concurrencies of part 1;
#   ROUNDS=3 (default) its interleaved rounds. Binds 127.0.0.1, ports below 32768: redis 21379, Corral its default
#   ports shifted by 20000 (controller 23000, workers 23100+, control API 27999, dashboard 28000).
set -euo pipefail

TASKS="${1:-10000}"
ROUNDS="${ROUNDS:-3}"
PARTS="${PARTS:-1 2 3}"
CONCURRENCY="${CONCURRENCY:-1 16}"
part() { [[ " $PARTS " == *" $1 "* ]]; }
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TMP="$(mktemp -d /tmp/corral-bench-workqueue.XXXXXX)"
REDIS_PORT=21379
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

for tool in dotnet redis-server setpriv; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done

echo "building the benchmark (Release)..."
dotnet build "$ROOT/bench/workqueue/WorkQueueBench" -c Release -o "$TMP/bench" >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; exit 1; }
BINARY="${2:-}"
if [ -z "$BINARY" ]; then
  "$ROOT/corral" --version >/dev/null
  BINARY="$ROOT/.corral/bin/corral"
fi

mkdir -p "$TMP/redis"
setpriv --pdeathsig KILL -- redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$TMP/redis" --save '' \
  --appendonly yes --appendfsync always --daemonize no >"$TMP/redis.log" 2>&1 &
REDIS_PID=$!
PIDS+=($REDIS_PID)
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$REDIS_PORT) 2>/dev/null && break; sleep 0.1; done

if part 1; then
echo "== 1. claim + complete cycles ($TASKS tasks, native controller, 4 worker processes, no-op runner)"
timeout $(( ROUNDS * 4 * 300 )) dotnet "$TMP/bench/Corral.WorkQueue.Bench.dll" native "${CYCLES_BINARIES:-$BINARY}" "$TASKS" "redis://127.0.0.1:$REDIS_PORT" "$REDIS_PID" \
  "$ROUNDS" "$(tr ' ' ',' <<<"$CONCURRENCY")"
fi

if part 2; then
echo "== 2. end-to-end: 200 tasks that run 'true', 4 workers ($BINARY)"
mkdir -p "$TMP/e2e"
python3 - "$TMP/e2e/map.json" <<'PY'
import json, sys
tasks = [{"spec": f"spec{i:03}", "viewports": ["desktop"], "browsers": ["chrome"]} for i in range(200)]
json.dump({"groups": [{"name": "bench", "tasks": tasks}]}, open(sys.argv[1], "w"))
PY
printf 'app: workqueue\nspecs: map.json\ncommand: [true]\nworkers: 4\n' >"$TMP/e2e/wq.yaml"
start=$(date +%s.%N)
"$BINARY" up "$TMP/e2e/wq.yaml" --port-offset 20000 --data "$TMP/e2e/data" >"$TMP/e2e/out.log" 2>&1
end=$(date +%s.%N)
python3 - "$TMP/e2e/data" "$start" "$end" <<'PY'
import json, glob, sys
results = json.load(open(glob.glob(sys.argv[1] + "/runs/*/results/results.json")[0]))
elapsed = results["progress"]["elapsedMs"] / 1000
wall = float(sys.argv[3]) - float(sys.argv[2])
n = results["progress"]["total"]
print(f"{n} tasks passed {results['progress']['passed']}: {n / elapsed:.0f} tasks/s from the queue's start to the last result ({elapsed:.2f} s); "
      f"{n / wall:.0f} tasks/s for the whole 'corral up' ({wall:.2f} s, start-up and drain included)")
PY
fi

if part 3; then
echo "== 3. makespan: 100 tasks, 4 workers, longest-first vs file order vs the bound"
dotnet "$TMP/bench/Corral.WorkQueue.Bench.dll" makespan 5
fi
