#!/usr/bin/env bash
# Durable shots/s at the shootout server: tick 0, 64 concurrent shooters (wrk -c64), after a warm-up.
# usage: bench/shootout-server/run.sh [fsync|sync] [seconds] [jit|native]   (the old words full|normal still work)
#   jit: the harness run by the .NET runtime; native: the same harness published with Native AOT, as corral's nodes are.
set -euo pipefail
cd "$(dirname "$0")"
durability=${1:-fsync}; seconds=${2:-10}; build=${3:-jit}; port=18080
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
case "$build" in
  jit) dotnet build -c Release -nologo -v quiet >/dev/null
       harness=(dotnet bin/Release/net10.0/ShootoutServerBench.dll) ;;
  native) dotnet publish -c Release -r linux-x64 -p:PublishAot=true -nologo -v quiet -o bin/native >/dev/null
       harness=(bin/native/ShootoutServerBench) ;;
  *) echo "build must be jit or native, not '$build'"; exit 2 ;;
esac
data=$(mktemp -d)
"${harness[@]}" server "$data" "$port" "$durability" > "$data/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
"${harness[@]}" register "$port" "$data"
CREDENTIALS="$data/credentials.txt" wrk -t2 -c64 -d5s -s shoot.lua "http://127.0.0.1:$port" >/dev/null   # warm-up (tiered JIT)
cpu() { awk '{print $14 + $15}' /proc/$pid/stat; }
before=$(cpu)
CREDENTIALS="$data/credentials.txt" wrk -t2 -c64 -d"${seconds}s" --latency -s shoot.lua "http://127.0.0.1:$port" | tee "$data/wrk.txt"
after=$(cpu)
requests=$(grep -oP '\d+(?= requests in)' "$data/wrk.txt")
echo "$build, durability $durability: server CPU $(( (after - before) * 10000 / requests )) µs per shot (jiffies of 10 ms)"
kill -TERM $pid; wait $pid || true
grep -E "mean batch" "$data/server.log" || true
