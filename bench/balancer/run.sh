#!/usr/bin/env bash
# Side-by-side throughput of the balancer: wrk through one Corral balancer (health checks, passive health, retries,
# deadlines and statistics on), through YARP's IHttpForwarder alone (round-robin, nothing else: the baseline), through
# nginx and through HAProxy, all in front of the same two zero-delay Corral workers. Corral, the baseline and the
# workers are one natively published harness (as corral itself is). Each target runs ROUNDS times, interleaved
# (A B C D, A B C D, ...), so a burst of load from elsewhere on the machine hits every target alike; the table shows
# each target's median requests/s and the p99 of that same run, then the ratios. Throughput swings with whatever
# else shares the two cores, so each run also records the CPU time the target's own processes used (utime + stime
# from /proc, summed over a server and its children: nginx's workers) divided by the requests it completed: the
# CPU µs per proxied request, the steadier figure. The workers' CPU is the same for every target and not counted.
# Usage: bench/balancer/run.sh [duration per run, default 10s] [rounds, default 3]. Needs wrk, nginx, haproxy, the .NET SDK.
# BALANCER_HARNESS=path/to/BalancerHarness skips the native publish and uses that build.
# Loopback ports below 32768 (21xxx). Every process is started with setpriv --pdeathsig KILL and killed on exit.
set -euo pipefail

DURATION="${1:-10s}"
ROUNDS="${2:-3}"
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

if [ -n "${BALANCER_HARNESS:-}" ]; then
  HARNESS="$BALANCER_HARNESS"   # a harness published earlier (the native publish takes minutes on two cores)
else
  echo "publishing the harness natively (Release, linux-x64)..."
  dotnet publish "$ROOT/bench/balancer/BalancerHarness" -c Release -r linux-x64 -o "$TMP/harness" >"$TMP/build.log" 2>&1 \
    || { cat "$TMP/build.log"; exit 1; }
  HARNESS="$TMP/harness/BalancerHarness"
fi

declare -A PID_OF
start() { # name, command...
  local name="$1"; shift
  setpriv --pdeathsig KILL "$@" >"$TMP/$name.log" 2>&1 &
  PIDS+=($!)
  PID_OF[$name]=$!
}

cpu_ticks() { # pid -> utime + stime of it and its children, in clock ticks (the fields after the command's ')')
  local total=0 pid
  for pid in "$1" $(pgrep -P "$1" || true); do
    [ -r "/proc/$pid/stat" ] || continue
    total=$(( total + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }') ))
  done
  echo "$total"
}
TICKS=$(getconf CLK_TCK)

wait_for() { # url
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "not answering: $1" >&2; tail -n 5 "$TMP"/*.log "$TMP"/nginx/error.log 2>/dev/null >&2; exit 1
}

rm -rf /tmp/corral-bench-balancer
start worker-1 "$HARNESS" worker worker-1 "$W1" "$A1"
start worker-2 "$HARNESS" worker worker-2 "$W2" "$A2"
wait_for "http://127.0.0.1:$W1/api/v1/hello"
wait_for "http://127.0.0.1:$W2/api/v1/hello"
start corral-lb env ${CORRAL_LB_ENV:-CORRAL_BENCH=1} "$HARNESS" lb "$LB" "http://127.0.0.1:$W1,http://127.0.0.1:$W2"
start bare-forwarder "$HARNESS" bare "$BARE" "http://127.0.0.1:$W1,http://127.0.0.1:$W2"

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
  # Corral's workers answer only to their own Host (127.0.0.1:PORT), as every Corral listener does, so each request
  # must carry the chosen worker's address: one keep-alive pool per worker, picked half and half per request.
  upstream worker1 { server 127.0.0.1:$W1; keepalive 32; }
  upstream worker2 { server 127.0.0.1:$W2; keepalive 32; }
  split_clients "\$request_id" \$worker { 50% worker1; * worker2; }
  map \$worker \$worker_host { worker1 127.0.0.1:$W1; worker2 127.0.0.1:$W2; }
  server {
    listen 127.0.0.1:$NGINX;
    location / {
      proxy_pass http://\$worker;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$worker_host;
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
  # The workers answer only to their own Host: the server's name, its address, is sent as Host. Health checks are
  # TCP connects each second (an HTTP check's Host would be one for both workers).
  http-send-name-header Host
  server 127.0.0.1:$W1 127.0.0.1:$W1 check inter 1s
  server 127.0.0.1:$W2 127.0.0.1:$W2 check inter 1s
CONF
start haproxy haproxy -db -f "$TMP/haproxy.cfg"

NAMES=("corral-lb" "bare-forwarder" "nginx" "haproxy")
LABELS=("Corral balancer" "YARP forwarder alone" "nginx" "HAProxy")
PORTS=("$LB" "$BARE" "$NGINX" "$HAPROXY")
for port in "${PORTS[@]}"; do wait_for "http://127.0.0.1:$port/api/v1/hello"; done

# A short warm-up of each, so connection pools are not measured.
for port in "${PORTS[@]}"; do wrk -t2 -c64 -d2s "http://127.0.0.1:$port/api/v1/hello" >/dev/null; done

to_ms() { # wrk latency (850.00us, 3.21ms, 1.02s) -> milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}

echo "wrk -t2 -c64 -d$DURATION --latency, GET /api/v1/hello, two zero-delay workers, $ROUNDS interleaved rounds; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$ROUNDS"); do
  for i in "${!NAMES[@]}"; do
    before=$(cpu_ticks "${PID_OF[${NAMES[$i]}]}")
    out="$(wrk -t2 -c64 -d"$DURATION" --latency "http://127.0.0.1:${PORTS[$i]}/api/v1/hello")"
    after=$(cpu_ticks "${PID_OF[${NAMES[$i]}]}")
    rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
    requests="$(awk '/requests in/ {print $1}' <<<"$out")"
    p99="$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")"
    cpu="$(awk -v t=$(( after - before )) -v hz="$TICKS" -v n="$requests" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')"
    errors="$(awk '/Non-2xx|Socket errors/ {printf "%s; ", $0}' <<<"$out")"
    echo "${NAMES[$i]} $rps $p99 $cpu" >>"$TMP/results.txt"
    printf '  round %d  %-22s %10s req/s  p99 %8s ms  %7s CPU µs/req  %s\n' "$round" "${LABELS[$i]}" "$rps" "$p99" "$cpu" "$errors"
  done
done

median() { # name -> "rps p99" of the run with the median req/s, then the median CPU µs per request over all runs
  local rps_p99 cpu
  rps_p99="$(grep "^$1 " "$TMP/results.txt" | sort -k2 -g | awk '{ a[NR] = $2 " " $3 } END { print a[int((NR + 1) / 2)] }')"
  cpu="$(grep "^$1 " "$TMP/results.txt" | sort -k4 -g | awk '{ a[NR] = $4 } END { print a[int((NR + 1) / 2)] }')"
  echo "$rps_p99 $cpu"
}

echo
printf '| %-22s | %10s | %9s | %11s |\n' "target (median of $ROUNDS)" "req/s" "p99 ms" "CPU µs/req"
printf '|%s|%s|%s|%s|\n' "---" "---:" "---:" "---:"
declare -A RPS P99 CPU
for i in "${!NAMES[@]}"; do
  read -r rps p99 cpu <<<"$(median "${NAMES[$i]}")"
  RPS[${NAMES[$i]}]=$rps; P99[${NAMES[$i]}]=$p99; CPU[${NAMES[$i]}]=$cpu
  printf '| %-22s | %10.0f | %9s | %11s |\n' "${LABELS[$i]}" "$rps" "$p99" "$cpu"
done
echo
for i in 1 2 3; do
  other=${NAMES[$i]}
  awk -v a="${RPS[corral-lb]}" -v b="${RPS[$other]}" -v c="${P99[corral-lb]}" -v d="${P99[$other]}" \
    -v e="${CPU[corral-lb]}" -v f="${CPU[$other]}" -v n="${LABELS[$i]}" \
    'BEGIN { printf "Corral / %s: req/s %.2f×, p99 %.2f×, CPU per request %.2f×\n", n, a / b, c / d, e / f }'
done
echo
echo "corral lb view:"
curl -fsS "http://127.0.0.1:$LB/lb/stats"; echo
