#!/usr/bin/env bash
# Peer mode through etcd: 20 cowboys at tick 0 under `corral up` (a throwaway etcd from the etcd binary on PATH) beside
# a bare dotnet-etcd loop at the same concurrency against an etcd started the same way (a shot's transaction alone, and
# read + transaction), interleaved, each `repeat` times, then the medians: committed shots/s, conflict retries per
# committed shot, p50/p99 shot latency (decision to commit, retries included), CPU µs per shot of the shooters'
# processes and of etcd (/proc/<pid>/stat over the window), and the leader SIGKILLed `failovers` times per Corral run:
# seconds until the next cowboy leads. Each build runs twice: as is, and with DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0
# in the environment of `corral up` (its nodes inherit it; the thread pool then sleeps at once instead of spinning).
# usage: bench/shootout-peer/run.sh [seconds] [native|jit] [repeat] [failovers]   (default 15 native 3 1)
#        native: ./corral's binary, published when stale; CORRAL_BINARY=path adds another build (e.g. an older
#        publish), interleaved in the same run.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
seconds=${1:-15}; build=${2:-native}; repeat=${3:-3}; failovers=${4:-1}
command -v etcd >/dev/null || { echo "needs etcd (apt-get install etcd-server)"; exit 1; }
binaries=()
case "$build" in
  jit) ;;
  native) ./corral --version >/dev/null; binaries+=(--binary "native=$PWD/.corral/bin/corral") ;;
  *) echo "build must be native or jit, not '$build'"; exit 2 ;;
esac
[ -n "${CORRAL_BINARY:-}" ] && binaries=(--binary "other=$CORRAL_BINARY" "${binaries[@]}")
dotnet build bench/Corral.Bench -c Release -nologo -v quiet >/dev/null
timeout 3600 dotnet bench/Corral.Bench/bin/Release/net10.0/Corral.Bench.dll peer --cowboys 20 --seconds "$seconds" --tick 0 \
  --repeat "$repeat" --failovers "$failovers" --bare --no-spin-too "${binaries[@]}"
