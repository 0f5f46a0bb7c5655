#!/usr/bin/env bash
# Side-by-side throughput of the balancer: wrk against two zero-delay Corral workers directly, through one Corral
# balancer (active and passive health, retries and statistics on), through nginx and through HAProxy, all in one run.
# Usage: bench/balancer/run.sh [duration, default 10s]. Needs wrk, nginx, haproxy and the .NET SDK.
# A bare Kestrel + SocketsHttpHandler proxy (no health, retries or statistics) runs too, as the stack's baseline.
# Loopback ports below 32768 (21xxx). Every process is started with setpriv --pdeathsig KILL and killed on exit.
set -euo pipefail

DURATION="${1:-10s}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TMP="$(mktemp -d /tmp/corral-bench-balancer.XXXXXX)"
W1=21001; W2=21002; A1=21101; A2=21102; LB=21050; BARE=21055; NGINX=21060; HAPROXY=21070
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

for tool in wrk nginx haproxy dotnet setpriv curl; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done

echo "building the harness (Release)..."
dotnet build "$ROOT/bench/balancer/BalancerHarness" -c Release -o "$TMP/harness" >"$TMP/build.log" 2>&1 \
  || { cat "$TMP/build.log"; exit 1; }
HARNESS="$TMP/harness/BalancerHarness.dll"

start() { # name, command...
  local name="$1"; shift
  setpriv --pdeathsig KILL "$@" >"$TMP/$name.log" 2>&1 &
  PIDS+=($!)
}

wait_for() { # url
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "not answering: $1" >&2; exit 1
}

rm -rf /tmp/corral-bench-balancer
start worker-1 dotnet "$HARNESS" worker worker-1 "$W1" "$A1"
start worker-2 dotnet "$HARNESS" worker worker-2 "$W2" "$A2"
wait_for "http://127.0.0.1:$W1/api/v1/hello"
wait_for "http://127.0.0.1:$W2/api/v1/hello"
start corral-lb env ${CORRAL_LB_ENV:-CORRAL_BENCH=1} dotnet "$HARNESS" lb "$LB" "http://127.0.0.1:$W1,http://127.0.0.1:$W2"
wait_for "http://127.0.0.1:$LB/api/v1/hello"
start bare-proxy dotnet "$HARNESS" bare "$BARE" "http://127.0.0.1:$W1,http://127.0.0.1:$W2"
wait_for "http://127.0.0.1:$BARE/api/v1/hello"

mkdir -p "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  upstream workers {
    server 127.0.0.1:$W1;
    server 127.0.0.1:$W2;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$NGINX;
    location / {
      proxy_pass http://workers;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
start nginx nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf"

cat >"$TMP/haproxy.cfg" <<CONF
global
  maxconn 8192
  nbthread 2
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend fe
  bind 127.0.0.1:$HAPROXY
  default_backend workers
backend workers
  balance roundrobin
  http-reuse always
  option httpchk GET /healthz
  server w1 127.0.0.1:$W1 check inter 1s
  server w2 127.0.0.1:$W2 check inter 1s
CONF
start haproxy haproxy -db -f "$TMP/haproxy.cfg"
wait_for "http://127.0.0.1:$NGINX/api/v1/hello"
wait_for "http://127.0.0.1:$HAPROXY/api/v1/hello"

run() { # label, url
  local out
  # A short warm-up, so the JIT and connection pools are not measured.
  wrk -t2 -c64 -d2s "$2" >/dev/null
  out="$(wrk -t2 -c64 -d"$DURATION" --latency "$2")"
  echo "$out" >"$TMP/wrk-$1.txt"
  local rps p50 p99 errors
  rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
  p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  errors="$(awk '/Non-2xx|Socket errors/ {printf "%s ", $0}' <<<"$out")"
  printf '%-22s %12s %10s %10s  %s\n' "$1" "$rps" "$p50" "$p99" "$errors"
}

echo
echo "wrk -t2 -c64 -d$DURATION, GET /api/v1/hello, zero-delay workers; $(nproc) cores shared by everything"
printf '%-22s %12s %10s %10s\n' "target" "req/s" "p50" "p99"
run "worker-1 direct" "http://127.0.0.1:$W1/api/v1/hello"
run "workers direct (w2)" "http://127.0.0.1:$W2/api/v1/hello"
run "corral lb" "http://127.0.0.1:$LB/api/v1/hello"
run "bare .NET proxy" "http://127.0.0.1:$BARE/api/v1/hello"
run "nginx" "http://127.0.0.1:$NGINX/api/v1/hello"
run "haproxy" "http://127.0.0.1:$HAPROXY/api/v1/hello"
echo
echo "corral lb view:"
curl -fsS "http://127.0.0.1:$LB/lb/stats"; echo
