#!/usr/bin/env bash
# The counter's benchmark, one interleaved run (CounterBench): each round measures redis-benchmark SADD (16 clients,
# without and with pipelining), raw SQLite (one partition file, 1,000-item commits), acknowledged distinct items/s
# through the coordinator (durability sync, 1,000-item batches, 16 clients, 4 workers, the default partition count) and
# GET count p50/p99 under a steady 100,000 items/s; each with the CPU µs per item its server processes used (utime +
# stime from /proc over the window). Prints the medians as a table, then checks every tenant's count is exact.
# Usage: bench/counter/run.sh [seconds per window, default 10] [rounds, default 3] ["NAME=VALUE;..."]
#   (runs the native binary ./corral publishes; the third argument runs a second cluster with those variables in its
#   nodes' environment beside the first, windows interleaved: a runtime setting against the default)
# Needs redis-server, redis-benchmark, setpriv. Binds 127.0.0.1 only, ports below 32768: redis 21000-22999, Corral its
# default ports shifted by 19000-19950 (coordinator 24000-24950, control API 26999-27949).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
rounds=${2:-3}
for tool in redis-server redis-benchmark setpriv dotnet; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
./corral --version >/dev/null
binary="$PWD/.corral/bin/corral"
dotnet build bench/counter/CounterBench -c Release -nologo -v quiet >/dev/null
echo "redis-server $(redis-server --version | sed -E 's/.*v=([^ ]+).*/\1/'), $("$binary" --version)"
timeout $(( rounds * seconds * 6 + 180 )) dotnet bench/counter/CounterBench/bin/Release/net10.0/CounterBench.dll "$binary" "$seconds" "$rounds" ${3:+"$3"}
