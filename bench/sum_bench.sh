#!/usr/bin/env bash
# SumService throughput with and without the AuthInterceptor, and against the
# FastAPI + PyJWT stack it replaces (issue 4). Prints a table; asserts
# nothing (a benchmark, not a test). Builds nothing.
#
#   bench/sum_bench.sh BUILD_DIR [--rounds=3] [--duration=10] [--warmup=2]
#       [--channels=4] [--streams=16] [--algs=ES256,HS256] [--no-fastapi]
#       [--with-empty] [--pin] [--fresh-servers]
#
# BUILD_DIR holds bench/sum_bench_server and bench/sum_load (a Release build
# with -DTOLLGATE_BENCH=ON). Needs h2load (nghttp2-client), curl, and for the
# baseline /usr/bin/python3 with python3-fastapi, python3-uvicorn and
# python3-jwt (scripts/install_deps.sh installs them all).
#
# What runs, all on 127.0.0.1:
#   - sum_bench_server --mode=interceptor (the production SumServer assembly)
#     and --mode=none (same binary and service, no interceptor), one pair per
#     algorithm of the token (ES256: what AuthService signs by default;
#     HS256: JWT_SECRET_KEY).
#   - Per round, alternating which mode goes first: sum_load (C++ callback
#     client, CHANNELS channels, CHANNELS*STREAMS calls in flight), then
#     h2load over h2c (-c CHANNELS -m STREAMS, a prebuilt gRPC body), against
#     each mode; then FastAPI under uvicorn (one worker) with h2load --h1
#     (CHANNELS*STREAMS connections, one request in flight on each: uvicorn
#     speaks no HTTP/2), so both see the same number of requests in flight.
#   - h2load counts HTTP statuses only, so each tollgate h2load run is
#     checked against the server's count of admitted calls (SIGUSR1), and
#     curl and sum_load --calls check grpc-status before and after.
#   - --with-empty adds a diagnostic third mode, sum_bench_server
#     --mode=empty (no auth, an interceptor that only calls Proceed()), to
#     split the overhead between gRPC's interceptor machinery and tollgate.
#   - --fresh-servers starts every tollgate server anew before each round
#     (after the first), so that what one process happens to get (its
#     memory layout, its threads' CPUs: worth up to 10% between two runs of
#     the same binary here) is spread over the rounds instead of biasing
#     one mode for the whole run.
#   - --pin runs every server (and uvicorn) on CPU 1 and every load tool on
#     CPU 0 (taskset), so that the load generator does not take the server's
#     core; without it the two share both cores, as on a small real host.
# Every command is under `timeout`; only processes this script started are
# stopped (by PID, on exit).
set -euo pipefail

BENCH_NAME=sum_bench
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=3
DURATION=10
WARMUP=2
CHANNELS=4
STREAMS=16
ALGS="ES256,HS256"
FASTAPI=1
MODES=(none interceptor)
FRESH_SERVERS=0
own_flag() {
  case "$1" in
    --algs=*) ALGS="${1#*=}" ;;
    --no-fastapi) FASTAPI=0 ;;
    --with-empty) MODES=(none interceptor empty) ;;
    --fresh-servers) FRESH_SERVERS=1 ;;
    *) return 1 ;;
  esac
}
read_flags "$@"
IFS=, read -r -a ALG_LIST <<<"$ALGS"

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-/usr/bin/python3}"

for tool in h2load curl timeout taskset; do
  command -v "$tool" >/dev/null || { echo "sum_bench: needs $tool (scripts/install_deps.sh)" >&2; exit 2; }
done
if ((FASTAPI)) && ! "$PYTHON" -c 'import fastapi, uvicorn, jwt' 2>/dev/null; then
  echo "sum_bench: $PYTHON lacks fastapi/uvicorn/jwt (scripts/install_deps.sh), or pass --no-fastapi" >&2
  exit 2
fi

make_work_dir

RESULTS="$WORK/results.tsv"  # variant alg tool round rps p50_us p99_us errors
: >"$RESULTS"
# The HS256 secret shared by the HS256 servers and FastAPI.
SECRET="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"

# gRPC frame of SumRequest{a: 1, b: 2}: no compression, length 4, 08 01 10 02.
printf '\x00\x00\x00\x00\x04\x08\x01\x10\x02' >"$WORK/sum.grpc"
printf '{"a": 1, "b": 2}' >"$WORK/sum.json"

declare -A PORT PID LOG TOKEN

# start_server MODE ALG: starts sum_bench_server, waits for its port.
start_server() {
  local mode="$1" alg="$2" key="$1-$2"
  LOG[$key]="$WORK/$key.log"
  TOKEN[$key]="$WORK/$key.token"
  start_listening_server "sum_bench_server $mode $alg" "${LOG[$key]}" \
    env JWT_SECRET_KEY="$SECRET" "${SERVER_ON[@]}" "$SERVER" --mode="$mode" --alg="$alg" \
    --port=0 --token-out="${TOKEN[$key]}"
  PID[$key]="$STARTED_PID"
  PORT[$key]="$STARTED_PORT"
}

# admitted KEY: the server's count of calls that passed the handler's guard.
admitted() {
  local key="$1" before i
  before="$(grep -c '^admitted_calls' "${LOG[$key]}" || true)"
  kill -USR1 "${PID[$key]}"
  for ((i = 0; i < 100; ++i)); do
    if (($(grep -c '^admitted_calls' "${LOG[$key]}" || true) > before)); then
      grep '^admitted_calls' "${LOG[$key]}" | tail -1 | cut -d' ' -f2
      return 0
    fi
    sleep 0.05
  done
  echo "sum_bench: no admitted_calls from $key" >&2
  exit 1
}

# check_grpc KEY WHEN: a few real gRPC calls (sum_load) and one over curl;
# prints the statuses they got. Tokens never reach the output.
check_grpc() {
  local key="$1" when="$2" line trailer
  line="$(timeout 30 "$LOAD" --target="127.0.0.1:${PORT[$key]}" --token-file="${TOKEN[$key]}" \
    --calls=20 --concurrency=4 --channels=1 --label=check)"
  trailer="$(timeout 10 curl -sS --http2-prior-knowledge -o "$WORK/curl.body" -D - \
    -H 'content-type: application/grpc' -H 'te: trailers' \
    -H "authorization: Bearer $(cat "${TOKEN[$key]}")" --data-binary @"$WORK/sum.grpc" \
    "http://127.0.0.1:${PORT[$key]}/tollgate.sum.v1.SumService/Sum" |
    tr -d '\r' | sed -n 's/^grpc-status: //p')"
  local body
  body="$(od -An -tx1 "$WORK/curl.body" | tr -d ' \n')"
  echo "  check $key $when: sum_load 20 calls: $(field "$line" statuses); curl: grpc-status ${trailer:-none}, body $body"
  if [[ "$(field "$line" errors)" != 0 || "$trailer" != 0 || "$body" != 00000000020803 ]]; then
    echo "sum_bench: $key does not answer Sum with OK" >&2
    exit 1
  fi
}

# Shows that the interceptor really is on: no token must be refused.
check_refused() {
  local key="$1" line
  line="$(timeout 30 "$LOAD" --target="127.0.0.1:${PORT[$key]}" --calls=3 --concurrency=1 \
    --channels=1 --label=no-token)"
  echo "  check $key without a token: $(field "$line" statuses)"
}

# percentiles LOGFILE: "p50 p99" in microseconds from an h2load --log-file.
percentiles() {
  awk -F'\t' '$2 >= 200 && $2 < 300 { print $3 }' "$1" | sort -n |
    awk '{ v[NR] = $1 } END {
      if (NR == 0) { print "0 0"; exit }
      i50 = int(NR * 0.50) + 1; if (i50 > NR) i50 = NR
      i99 = int(NR * 0.99) + 1; if (i99 > NR) i99 = NR
      print v[i50], v[i99] }'
}

# h2load_run OUTPUT_PREFIX ARGS...: runs h2load; sets H2_RPS H2_2XX H2_BAD H2_P50 H2_P99.
h2load_run() {
  local prefix="$1"
  shift
  timeout "$RUN_TIMEOUT" "${LOAD_ON[@]}" h2load -D "$DURATION" --warm-up-time="$WARMUP" -t 1 \
    --log-file="$prefix.log" "$@" >"$prefix.out" 2>&1 || {
    echo "sum_bench: h2load failed:" >&2
    cat "$prefix.out" >&2
    exit 1
  }
  H2_RPS="$(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' "$prefix.out")"
  local errored timeouts s3 s4 s5
  read -r errored timeouts < <(sed -n \
    's/^requests: .* \([0-9]*\) errored, \([0-9]*\) timeout.*/\1 \2/p' "$prefix.out")
  read -r H2_2XX s3 s4 s5 < <(sed -n \
    's/^status codes: \([0-9]*\) 2xx, \([0-9]*\) 3xx, \([0-9]*\) 4xx, \([0-9]*\) 5xx.*/\1 \2 \3 \4/p' \
    "$prefix.out")
  H2_BAD=$((s3 + s4 + s5 + errored + timeouts))
  read -r H2_P50 H2_P99 < <(percentiles "$prefix.log")
}

run_sum_load() {
  local mode="$1" alg="$2" round="$3" key="$1-$2" line
  line="$(timeout "$RUN_TIMEOUT" "${LOAD_ON[@]}" "$LOAD" --target="127.0.0.1:${PORT[$key]}" \
    --token-file="${TOKEN[$key]}" --channels="$CHANNELS" --concurrency="$INFLIGHT" \
    --duration="$DURATION" --warmup="$WARMUP" --label="$key")"
  echo "  round $round $key sum_load: $(cut -d' ' -f3- <<<"$line")"
  printf '%s\t%s\tsum_load\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$alg" "$round" \
    "$(field "$line" rps)" "$(field "$line" p50_us)" "$(field "$line" p99_us)" \
    "$(field "$line" errors)" >>"$RESULTS"
}

run_h2load_grpc() {
  local mode="$1" alg="$2" round="$3" key="$1-$2" before after not_ok cpu_before cpu_after
  before="$(admitted "$key")"
  cpu_before="$(cpu_ticks "${PID[$key]}")"
  h2load_run "$WORK/h2-$key-$round" -c "$CHANNELS" -m "$STREAMS" \
    -H 'content-type: application/grpc' -H 'te: trailers' \
    -H "authorization: Bearer $(cat "${TOKEN[$key]}")" -d "$WORK/sum.grpc" \
    "http://127.0.0.1:${PORT[$key]}/tollgate.sum.v1.SumService/Sum"
  cpu_after="$(cpu_ticks "${PID[$key]}")"
  after="$(admitted "$key")"
  # Calls per second of the server's own CPU time (warm-up included on both
  # sides): what each call costs the server, whatever else the machine runs.
  local per_cpu_second
  per_cpu_second="$(awk -v calls="$((after - before))" -v ticks="$((cpu_after - cpu_before))" \
    -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (ticks > 0 ? calls * hz / ticks : 0) }')"
  # Every HTTP 200 must be a call the guard admitted (warm-up calls and calls
  # in flight at the end make `after - before` a little larger, never less).
  not_ok=$((H2_2XX - (after - before)))
  ((not_ok > 0)) || not_ok=0
  echo "  round $round $key h2load: rps=$H2_RPS p50_us=$H2_P50 p99_us=$H2_P99 http_2xx=$H2_2XX" \
    "http_other=$H2_BAD admitted=$((after - before)) grpc_not_ok=$not_ok"
  printf '%s\t%s\th2load\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$alg" "$round" "$H2_RPS" "$H2_P50" \
    "$H2_P99" "$((H2_BAD + not_ok))" >>"$RESULTS"
  echo "  round $round $key server CPU: calls_per_cpu_second=$per_cpu_second"
  printf '%s\t%s\th2load-cpu\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$alg" "$round" "$per_cpu_second" \
    "$H2_P50" "$H2_P99" 0 >>"$RESULTS"
}

FASTAPI_PORT=""
start_fastapi() {
  FASTAPI_PORT="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  JWT_SECRET_KEY="$SECRET" "${SERVER_ON[@]}" "$PYTHON" -m uvicorn --app-dir "$BENCH_DIR/fastapi_sum" app:app \
    --host 127.0.0.1 --port "$FASTAPI_PORT" --workers 1 --log-level warning --no-access-log \
    >"$WORK/fastapi.log" 2>&1 &
  stop_on_exit "$!"
  local pid=$! i
  for ((i = 0; i < 150; ++i)); do
    if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$FASTAPI_PORT/docs"; then return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "sum_bench: uvicorn did not start:" >&2
  cat "$WORK/fastapi.log" >&2
  exit 1
}

check_fastapi() {
  local when="$1" ok refused
  ok="$(timeout 10 curl -sS -H 'content-type: application/json' \
    -H "authorization: Bearer $(cat "${TOKEN[interceptor-HS256]}")" --data-binary @"$WORK/sum.json" \
    -w ' %{http_code}' "http://127.0.0.1:$FASTAPI_PORT/sum")"
  refused="$(timeout 10 curl -sS -o /dev/null -H 'content-type: application/json' \
    --data-binary @"$WORK/sum.json" -w '%{http_code}' "http://127.0.0.1:$FASTAPI_PORT/sum")"
  echo "  check fastapi $when: with token: $ok; without: HTTP $refused"
  if [[ "$ok" != '{"result":3} 200' || "$refused" != 401 ]]; then
    echo "sum_bench: the FastAPI app does not answer as expected" >&2
    exit 1
  fi
}

run_h2load_fastapi() {
  local round="$1"
  h2load_run "$WORK/h2-fastapi-$round" --h1 -c "$INFLIGHT" -m 1 \
    -H 'content-type: application/json' \
    -H "authorization: Bearer $(cat "${TOKEN[interceptor-HS256]}")" -d "$WORK/sum.json" \
    "http://127.0.0.1:$FASTAPI_PORT/sum"
  echo "  round $round fastapi h2load --h1: rps=$H2_RPS p50_us=$H2_P50 p99_us=$H2_P99" \
    "http_2xx=$H2_2XX http_other=$H2_BAD"
  printf 'fastapi\tHS256\th2load-h1\t%s\t%s\t%s\t%s\t%s\n' "$round" "$H2_RPS" "$H2_P50" \
    "$H2_P99" "$H2_BAD" >>"$RESULTS"
}

per_round=$((${#ALG_LIST[@]} * ${#MODES[@]} * 2 + FASTAPI))
echo "sum_bench: $ROUNDS rounds x $per_round runs x $((DURATION + WARMUP)) s," \
  "about $((ROUNDS * per_round * (DURATION + WARMUP + 1) / 60 + 1)) min; $INFLIGHT calls in flight"
echo "sum_bench: load at start: $(uptime)"
if ((FASTAPI)) && [[ ! " ${ALG_LIST[*]} " =~ " HS256 " ]]; then
  ALG_LIST+=(HS256)  # the FastAPI baseline needs the HS256 token and its comparison row
fi
for alg in "${ALG_LIST[@]}"; do
  for mode in "${MODES[@]}"; do
    start_server "$mode" "$alg"
    check_grpc "$mode-$alg" before
  done
  check_refused "interceptor-$alg"
done
if ((FASTAPI)); then
  start_fastapi
  check_fastapi before
fi

# restart_server MODE ALG: stops the server of MODE and ALG (by its PID) and
# starts a new one in its place (--fresh-servers).
restart_server() {
  local key="$1-$2"
  kill -TERM "${PID[$key]}"
  wait "${PID[$key]}" 2>/dev/null || true
  start_server "$1" "$2"
  check_grpc "$key" "restarted"
}

for ((round = 1; round <= ROUNDS; ++round)); do
  round_order "$round" "${MODES[@]}"
  if ((FRESH_SERVERS && round > 1)); then
    for alg in "${ALG_LIST[@]}"; do
      for mode in "${MODES[@]}"; do restart_server "$mode" "$alg"; done
    done
  fi
  for alg in "${ALG_LIST[@]}"; do
    for mode in "${ROUND_ORDER[@]}"; do
      run_sum_load "$mode" "$alg" "$round"
      run_h2load_grpc "$mode" "$alg" "$round"
    done
  done
  if ((FASTAPI)); then run_h2load_fastapi "$round"; fi
done

for alg in "${ALG_LIST[@]}"; do
  for mode in "${MODES[@]}"; do check_grpc "$mode-$alg" after; done
done
if ((FASTAPI)); then check_fastapi after; fi
echo "sum_bench: load at end: $(uptime)"
if ((${#SERVER_ON[@]})); then
  echo "sum_bench: servers pinned to CPU 1, load tools to CPU 0 (--pin)"
else
  echo "sum_bench: servers and load tools share all $(nproc) CPUs"
fi
echo

# The table: medians over the rounds of rps, p50 and p99; errors summed. A
# ratio is the median of the per-round ratios (each round runs the pair back
# to back, in alternating order), lowest and highest in brackets.
awk -F'\t' -v rounds="$ROUNDS" -v inflight="$INFLIGHT" -v channels="$CHANNELS" -v streams="$STREAMS" \
  "$BENCH_AWK_TABLE_FUNCTIONS"'
{
  key = $1 SUBSEP $2 SUBSEP $3
  if (!(key in rps)) order[++count] = key
  rps[key] = rps[key] " " $5; p50[key] = p50[key] " " $6; p99[key] = p99[key] " " $7
  rps_of[key SUBSEP $4] = $5
  errors[key] += $8
}
END {
  tool["sum_load"] = "sum_load (gRPC C++, " channels " ch)"
  tool["h2load"] = "h2load h2c -c" channels " -m" streams
  tool["h2load-h1"] = "h2load --h1 -c" inflight
  tool["h2load-cpu"] = "h2load: calls/server CPU-s"
  printf "%-31s %-25s %7s %6s %6s %6s %-31s %-7s %s\n", "variant", "tool", "rps", "p50 ms", \
    "p99 ms", "errors", "ratio (per-round range)", "target", "met"
  for (i = 1; i <= count; ++i) {
    split(order[i], k, SUBSEP)
    mode = k[1]; alg = k[2]; t = k[3]
    ratio = "baseline"; target = ""; met = ""
    if (mode == "none") {
      name = "no interceptor (" alg " token)"
    } else if (mode == "fastapi") {
      name = "FastAPI+PyJWT HS256, 1 worker"
    } else {
      ratio = paired(rps_of, order[i], "none" SUBSEP alg SUBSEP t, "%.3fx of none (%.2f-%.2f)")
      if (mode == "interceptor") {
        name = "interceptor, " alg " token"; target = ">=0.90x"; met = ratio_value >= 0.90 ? "yes" : "NO"
      } else {
        name = "empty interceptor, " alg " token"; target = "-"
      }
    }
    printf "%-31s %-25s %7.0f %6.2f %6.2f %6d %-31s %-7s %s\n", name, tool[t], \
      median(rps[order[i]]), median(p50[order[i]]) / 1000, median(p99[order[i]]) / 1000, \
      errors[order[i]], ratio, target, met
  }
  fa = "fastapi" SUBSEP "HS256" SUBSEP "h2load-h1"
  for (i = 1; i <= count; ++i) {
    if (!(fa in rps)) break
    split(order[i], k, SUBSEP)
    if (k[1] != "interceptor" || k[3] != "h2load") continue
    ratio = paired(rps_of, order[i], fa, "%.1fx of FastAPI (%.1f-%.1f)")
    printf "%-31s %-25s %7.0f %6s %6s %6s %-31s %-7s %s\n", "interceptor, " k[2] " token", \
      tool["h2load"], median(rps[order[i]]), "", "", "", ratio, ">=15x", (ratio_value >= 15 ? "yes" : "NO")
  }
  printf "\nrps, p50, p99: medians of %d rounds. errors: non-OK gRPC statuses (sum_load), or non-2xx\n", rounds
  printf "responses plus HTTP 200s the server did not admit (h2load), summed over the rounds.\n"
  printf "Ratios: medians of the per-round ratios. \"calls/server CPU-s\" rows: calls the server\n"
  printf "served per second of its own CPU time (user + system, /proc) during the h2load runs: the\n"
  printf "cost of a call to the server, which other load on the machine does not change much.\n"
}' "$RESULTS"
