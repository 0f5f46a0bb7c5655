#!/usr/bin/env bash
# Start-up of big shootouts: N cowboys at 1 s ticks under `corral up` (native binary, dynamic ports, dashboard on, as a
# new user runs it); prints the registration curve (cowboys registered at each second) with the CPU-seconds the
# supervisor, the game server and the cowboys had used so far, and the time until all registered.
# usage: bench/shootout-cluster/run.sh [cowboys...]   (default: 100 250 500 1000)
#        CORRAL_BINARY=path compares another corral executable (e.g. an older publish) in the same run, interleaved.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
counts=("$@"); [ ${#counts[@]} -gt 0 ] || counts=(100 250 500 1000)
./corral --version >/dev/null   # publishes the native binary when the sources changed
dotnet build bench/Corral.Bench -c Release -nologo -v quiet >/dev/null
binaries=(--binary "native=$PWD/.corral/bin/corral")
[ -n "${CORRAL_BINARY:-}" ] && binaries=(--binary "other=$CORRAL_BINARY" "${binaries[@]}")
for n in "${counts[@]}"; do
  timeout 600 dotnet bench/Corral.Bench/bin/Release/net10.0/Corral.Bench.dll registration --cowboys "$n" --timeout 240 "${binaries[@]}"
done
