#!/usr/bin/env bash
# Publishes the native binary (through ./corral, as users get it), builds everything and runs every test
# project; the end-to-end tests run the native binary. Ends with one line: "N passed, N failed[, N skipped]".
# Installs from apt what the tests need when it is missing; servers the tests use are started by the
# tests themselves on loopback and stopped by them.
set -uo pipefail
cd "$(dirname "$0")"

need() { # need <command> <apt package>
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "test.sh: installing $2 (needed for $1)"
  if [ -z "${_apt_updated:-}" ]; then apt-get update -qq >/dev/null 2>&1 || true; _apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 || { echo "test.sh: could not install $2"; return 1; }
}
need setpriv util-linux
need redis-server redis-server
need chromium chromium
# The example Playwright suite (examples/playwright): its packages are installed by the topology's own
# prepare: [npm, ci] during its end-to-end test, and only when node_modules does not match the lock file.
need node nodejs
need npm npm
need etcd etcd-server
# The tools `corral render`'s files are checked with: kubectl decodes the Kubernetes manifests offline (no server),
# docker-compose reads every compose file and plays the rendered shootout.
need kubectl kubectl || echo "test.sh: the kubectl checks of rendered manifests will be SKIPPED"
need docker-compose docker-compose || echo "test.sh: the docker-compose checks of rendered files will be SKIPPED"

# Docker, for the tests of `corral image` and `--engine docker`: the daemon already running, else one of our own
# (its own data root and sockets, stopped when this script ends). When neither works, only those tests are
# skipped, and this says so.
docker_folder=""
stop_docker() {
  [ -n "$docker_folder" ] || return 0
  [ -f "$docker_folder/docker.pid" ] && kill "$(cat "$docker_folder/docker.pid")" 2>/dev/null
  for _ in $(seq 60); do [ -f "$docker_folder/docker.pid" ] || break; sleep 0.5; done
  rm -rf "$docker_folder" 2>/dev/null || true
}
start_docker() {
  need docker docker.io || return 1
  docker info >/dev/null 2>&1 && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v dockerd >/dev/null 2>&1; then
    echo "test.sh: no Docker daemon is reachable and this script cannot start one (needs root and dockerd)"
    return 1
  fi
  docker_folder=$(mktemp -d /tmp/corral-docker.XXXXXX)
  dockerd --data-root "$docker_folder/data" --host "unix://$docker_folder/docker.sock" --pidfile "$docker_folder/docker.pid" \
    --exec-root "$docker_folder/exec" >"$docker_folder/dockerd.log" 2>&1 &
  export DOCKER_HOST="unix://$docker_folder/docker.sock"
  for _ in $(seq 120); do
    docker info >/dev/null 2>&1 && { echo "test.sh: started a Docker daemon of its own ($DOCKER_HOST)"; return 0; }
    sleep 0.5
  done
  echo "test.sh: the Docker daemon did not start; its log:"; tail -5 "$docker_folder/dockerd.log"
  return 1
}
trap stop_docker EXIT
start_docker || echo "test.sh: the Docker tests (corral image, --engine docker) will be SKIPPED"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
configuration=${CONFIGURATION:-Release}

# The native binary, published only when its sources changed; any warning fails the run (they are
# errors in the build, and the log of the last publish is checked as well).
started=$SECONDS
if ! ./corral --version >/dev/null; then
  echo "0 passed, 1 failed"
  exit 1
fi
if grep -E ': warning [A-Z]+[0-9]+' .corral/build.log; then
  echo "test.sh: the native publish has warnings (.corral/build.log)"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "== native binary ready ($((SECONDS - started)) s)"
export CORRAL_BINARY="$PWD/.corral/bin/corral"

if ! dotnet build Corral.slnx -c "$configuration" -nologo -v quiet; then
  echo "0 passed, 1 failed"
  exit 1
fi

passed=0; failed=0; skipped=0; status=0
results=$(mktemp -d)
for project in test/*.Tests/*.csproj; do
  name=$(basename "$project" .csproj)
  echo "== $name"
  log="$results/$name.log"
  started=$SECONDS
  dotnet test "$project" -c "$configuration" --no-build -nologo 2>&1 | tee "$log" \
    | grep -E '^\s+(Failed|Skipped) |^(Passed|Failed)!|Total tests|error' || true
  echo "== $name took $((SECONDS - started)) s"
  # A failure's message and stack, so a red CI log says why without a rerun.
  awk '/^[[:space:]]+Failed [A-Za-z]/{show=40} show>0{print; show--}' "$log"
  summary=$(grep -E '^(Passed|Failed)!' "$log" | tail -1)
  if [ -z "$summary" ]; then
    echo "$name: the test run ended without a summary (crashed or timed out)"
    failed=$((failed + 1)); status=1; continue
  fi
  p=$(sed -E 's/.*Passed: *([0-9]+).*/\1/' <<<"$summary")
  f=$(sed -E 's/.*Failed: *([0-9]+).*/\1/' <<<"$summary")
  s=$(sed -E 's/.*Skipped: *([0-9]+).*/\1/' <<<"$summary")
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  [ "$f" -gt 0 ] && status=1
done
rm -rf "$results"

if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit $status
