#!/usr/bin/env bash
# The platform's figures, JIT and native side by side in one run (the machine is noisy: compare within a run).
# usage: bench/platform/run.sh [startup-runs] [cluster-seconds]
#   start-up of examples/shootout.yaml to 6 nodes ready; PSS of a cowboy and a balancer worker;
#   100 cowboys at 1 s ticks (registration time, server shot p99 over a window) with each build, then 300 natively;
#   durable shots/s at the game server, JIT against native.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}; seconds=${2:-30}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Corral.slnx -c Release -nologo -v quiet >/dev/null
./corral --version >/dev/null   # publishes the native binary when the sources changed
native=.corral/bin/corral
jit=src/Corral/bin/Release/net10.0/corral
bench() { dotnet bench/Corral.Bench/bin/Release/net10.0/Corral.Bench.dll "$@"; }
both=(--binary "jit=$jit" --binary "native=$native")

echo "## start-up: corral up examples/shootout.yaml to 6 nodes ready"
bench startup --runs "$runs" "${both[@]}"
echo; echo "## memory while the examples run"
bench memory "${both[@]}"
echo; echo "## 100 cowboys at 1 s ticks, then 300 (native)"
bench cluster --cowboys 100 --seconds "$seconds" "${both[@]}"
bench cluster --cowboys 300 --seconds "$seconds" --binary "native=$native" | tail -1
echo; echo "## durable shots/s at the game server"
for build in jit native; do bench/shootout-server/run.sh full 10 "$build" | grep -E "Requests/sec|99%|50%|server CPU|mean batch|Non-2xx"; done
