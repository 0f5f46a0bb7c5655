#!/usr/bin/env bash
# The same real Playwright suite (24 spec files with skewed durations: 4 long, 20 short, the long ones last in file
# order) run four ways on this machine, each with two browsers at a time:
#   1. npx playwright test --workers=2                 Playwright's own parallelism (one runner, two reused workers)
#   2. --shard=1/2 and --shard=2/2 at once, 1 worker    two CI jobs' worth on one machine
#   3. corral up, 2 workers, first run                  no history: file order
#   4. corral up, 2 workers, second run                 longest first from the first run's durations
# Each prints its wall time; Corral's also the sum of its task durations and how many Playwright invocations ran (a
# batch of tasks of one project runs in one). The suite is examples/playwright's site and
# config with generated specs; chrome is Debian's chromium.
# Usage: bench/workqueue/playwright.sh [long-seconds, default 12] [short-seconds, default 1] [binary, default ./corral's]
set -euo pipefail

LONG="${1:-12}"
SHORT="${2:-1}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BINARY="${3:-$ROOT/.corral/bin/corral}"
TMP="$(mktemp -d /tmp/corral-bench-playwright.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT

for tool in node npx chromium setpriv; do
  command -v "$tool" >/dev/null || { echo "missing: $tool (apt-get install nodejs npm chromium util-linux)" >&2; exit 1; }
done
[ -x "$BINARY" ] || { echo "no corral binary at $BINARY: run ./corral --version first" >&2; exit 1; }
EXAMPLE="$ROOT/examples/playwright"
[ -d "$EXAMPLE/node_modules/@playwright/test" ] || (cd "$EXAMPLE" && npm ci --no-audit --no-fund >/dev/null)

SUITE="$TMP/suite"
mkdir -p "$SUITE/tests"
cp -r "$EXAMPLE/site" "$EXAMPLE/playwright.config.ts" "$EXAMPLE/package.json" "$SUITE/"
cp "$EXAMPLE/tests/site.ts" "$SUITE/tests/"
ln -s "$EXAMPLE/node_modules" "$SUITE/node_modules"
specs=()
for i in $(seq -w 1 24); do
  seconds=$SHORT
  [ "$i" -gt 20 ] && seconds=$LONG
  cat > "$SUITE/tests/bench_$i.spec.ts" <<SPEC
import { test, expect } from './site';

test('bench $i searches and waits ${seconds}s', async ({ page }) => {
  await page.goto('/music?label=Factory');
  await expect(page.locator('#result-count')).toHaveText('2 records found');
  await page.waitForTimeout(${seconds}000);
});
SPEC
  specs+=("{\"spec\": \"tests/bench_$i.spec.ts\", \"viewports\": [\"desktop\"], \"browsers\": [\"chrome\"]}")
done
(IFS=,; echo "{\"groups\": [{\"name\": \"bench\", \"tasks\": [${specs[*]}]}]}") > "$SUITE/spec_context_map.json"
cat > "$TMP/bench.yaml" <<YAML
app: workqueue
specs: suite/spec_context_map.json
workers: 2
timeout: 5m
retries: 0
lease: 30s
YAML

now() { date +%s.%N; }
elapsed() { echo "$1 $2" | awk '{ printf "%.1f", $2 - $1 }'; }

echo "suite: 24 spec files, 20 × ${SHORT}s and 4 × ${LONG}s of waiting, desktop-chrome; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

start=$(now)
(cd "$SUITE" && npx playwright test --project=desktop-chrome --workers=2 --reporter=dot --output="$TMP/out-1" >"$TMP/pw.log" 2>&1) \
  || { echo "playwright --workers=2 failed:"; tail -20 "$TMP/pw.log"; exit 1; }
echo "1. npx playwright test --workers=2:            $(elapsed "$start" "$(now)") s"

start=$(now)
(cd "$SUITE" && npx playwright test --project=desktop-chrome --workers=1 --shard=1/2 --reporter=dot --output="$TMP/out-s1" >"$TMP/s1.log" 2>&1) & s1=$!
(cd "$SUITE" && npx playwright test --project=desktop-chrome --workers=1 --shard=2/2 --reporter=dot --output="$TMP/out-s2" >"$TMP/s2.log" 2>&1) & s2=$!
wait $s1 && wait $s2 || { echo "a shard failed"; tail -20 "$TMP/s1.log" "$TMP/s2.log"; exit 1; }
echo "2. --shard=1/2 and --shard=2/2 at once:         $(elapsed "$start" "$(now)") s"

corral_run() { # corral_run <label>
  local started log folder
  started=$(now)
  log="$TMP/corral-$1.log"
  (cd "$TMP" && "$BINARY" up bench.yaml --ports dynamic --no-dashboard --data "$TMP/data" >"$log" 2>&1) \
    || { echo "corral ($1) failed:"; tail -30 "$log"; exit 1; }
  local wall
  wall=$(elapsed "$started" "$(now)")
  folder=$(sed -n 's/.*; folder \(.*\)$/\1/p' "$log" | tail -1)
  local work batches
  batches=$(find "$folder/tasks" -maxdepth 1 -name '*.log' ! -name '*.batch.log' | wc -l)
  batches=$((batches - $(grep -l '^\[corral\] ran in one Playwright invocation' "$folder"/tasks/*.log 2>/dev/null | wc -l) + $(find "$folder/tasks" -maxdepth 1 -name '*.batch.log' | wc -l)))
  work=$(node -e 'const r=require(process.argv[1]); console.log((r.tasks.reduce((s,t)=>s+(t.task.durationMs||0),0)/1000).toFixed(1))' "$folder/results/results.json")
  echo "$wall $work $batches"
}

read -r wall work batches <<<"$(corral_run first)"
echo "3. corral, 2 workers, first run (file order):   $wall s (tasks' own time summed: $work s; $batches Playwright invocations)"
read -r wall work batches <<<"$(corral_run second)"
echo "4. corral, 2 workers, second run (longest first): $wall s (tasks' own time summed: $work s; $batches Playwright invocations)"
