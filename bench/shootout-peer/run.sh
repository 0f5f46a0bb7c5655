#!/usr/bin/env bash
# Peer mode through etcd: 20 cowboys at tick 0 under `corral up` (a throwaway etcd from the etcd binary on PATH):
# committed shots/s, conflict retries per committed shot, p50/p99 shot latency (decision to commit, retries
# included), then the leader SIGKILLed three times: seconds until the next cowboy leads.
# usage: bench/shootout-peer/run.sh [seconds] [native|jit]   (native: ./corral's binary, published when stale)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-15}; build=${2:-native}
command -v etcd >/dev/null || { echo "needs etcd (apt-get install etcd-server)"; exit 1; }
binaries=()
case "$build" in
  jit) ;;
  native) ./corral --version >/dev/null; binaries+=(--binary "native=$PWD/.corral/bin/corral") ;;
  *) echo "build must be native or jit, not '$build'"; exit 2 ;;
esac
dotnet run -c Release --project bench/Corral.Bench -- peer --cowboys 20 --seconds "$seconds" --tick 0 "${binaries[@]}"
