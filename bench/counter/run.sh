#!/usr/bin/env bash
# The counter's benchmark, in one run: redis-benchmark SADD (the reference ceiling, with and without pipelining),
# the raw SQLite insert rate, acknowledged distinct items/s through the coordinator (sync durability, 1,000-item
# batches, 16 clients, 4 workers) and GET count p50/p99 under a steady 100,000 items/s.
# Usage: bench/counter/run.sh [seconds]   (runs the native binary that ./corral publishes)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-15}
./corral --version >/dev/null
binary="$PWD/.corral/bin/corral"

port=$((20000 + RANDOM % 5000))
dir=$(mktemp -d)
trap 'kill "$redis" 2>/dev/null || true; rm -rf "$dir"' EXIT
# Dies with this script (parent-death signal), whatever happens to it.
setpriv --pdeathsig KILL redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$dir" >/dev/null &
redis=$!
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
echo "redis-server $(redis-server --version | sed -E 's/.*v=([^ ]+).*/\1/'):"
echo "  SADD, 16 clients, no pipelining: $(redis-benchmark -p "$port" -c 16 -n 1000000 -t sadd -q | tr '\r' '\n' | grep 'requests per second' | tail -1)"
echo "  SADD, 16 clients, pipeline 1000: $(redis-benchmark -p "$port" -c 16 -n 4000000 -P 1000 -t sadd -q | tr '\r' '\n' | grep 'requests per second' | tail -1)"
kill "$redis"

dotnet build bench/counter/CounterBench -c Release -nologo -v quiet >/dev/null
dotnet bench/counter/CounterBench/bin/Release/net10.0/CounterBench.dll "$binary" "$seconds"
