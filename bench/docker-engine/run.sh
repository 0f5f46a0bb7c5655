#!/usr/bin/env bash
# corral up examples/shootout.yaml until every node is ready, with --engine process and with --engine docker, in
# one run: the time to all nodes ready, and the PSS of every node (for docker, the container's process and, apart,
# the 'docker run' client the supervisor watches it through). Needs the native binary (./corral --version) and a
# Docker daemon; builds its own image and removes it, its run folders and everything the runs created.
#   bench/docker-engine/run.sh [repeats]
set -euo pipefail
cd "$(dirname "$0")/../.."
repeats=${1:-3}
corral=.corral/bin/corral
[ -x "$corral" ] || ./corral --version >/dev/null
tag="corral-bench-engine:${BENCH_TAG:-$$}"
work=$(mktemp -d)
cleanup() { docker image rm --force "$tag" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
"$corral" image --binary "$corral" --tag "$tag" >/dev/null

# A round that outlasts the measurement: six nodes (a server and five cowboys) that stay up.
sed -e 's/^tick: .*/tick: 1s/' -e 's/health: [0-9]*/health: 100000/' examples/shootout.yaml >"$work/shootout.yaml"
nodes=6

pss_kib() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }

one_run() { # engine -> "seconds node-pss-kib client-pss-kib"
  local engine=$1 log="$work/$1.log" start ready pid
  start=$(date +%s.%N)
  local image=()
  [ "$engine" = docker ] && image=(--image "$tag")
  "$corral" up "$work/shootout.yaml" --engine "$engine" "${image[@]}" --ports dynamic --no-dashboard --data "$work/data-$engine" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 1200); do
    ready=$(grep -cE '^corral *\| [a-z0-9-]+ ready$' "$log" || true)
    [ "$ready" -ge "$nodes" ] && break
    sleep 0.1
  done
  local seconds node_pss=0 client_pss=0 p
  seconds=$(echo "$(date +%s.%N) - $start" | bc)
  for p in $(grep -oE 'started \(pid [0-9]+\)' "$log" | grep -oE '[0-9]+'); do
    if [ "$engine" = docker ]; then client_pss=$((client_pss + $(pss_kib "$p"))); else node_pss=$((node_pss + $(pss_kib "$p"))); fi
  done
  if [ "$engine" = docker ]; then
    local run
    run=$(grep -oE 'run [0-9]{8}-[0-9]{6}-[0-9a-f]{4}' "$log" | head -1 | cut -d' ' -f2)
    for c in $(docker ps --quiet --filter "label=corral.run=$run"); do
      node_pss=$((node_pss + $(pss_kib "$(docker inspect --format '{{.State.Pid}}' "$c")")))
    done
  fi
  # SIGTERM, not SIGINT: a job started with & in a script has SIGINT ignored, and .NET keeps it ignored.
  kill -TERM "$pid"; wait "$pid" || true
  echo "$seconds $((node_pss / nodes)) $((client_pss / nodes))"
}

printf '| engine | run | all %d nodes ready (s) | PSS per node (MiB) | docker run client per node (MiB) |\n|---|---|---|---|---|\n' "$nodes"
for i in $(seq 1 "$repeats"); do
  for engine in process docker; do
    read -r s node client < <(one_run "$engine")
    printf '| %s | %d | %.2f | %.1f | %s |\n' "$engine" "$i" "$s" "$(echo "$node / 1024" | bc -l)" \
      "$([ "$engine" = docker ] && printf '%.1f' "$(echo "$client / 1024" | bc -l)" || echo -)"
  done
done
