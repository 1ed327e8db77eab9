#!/usr/bin/env bash
# Sum through a tollgate_client Session's credentials against Sum with a
# fixed `authorization` header set by hand: same load tool (sum_load), same
# server process, same run, rounds alternating which goes first. Prints a
# table; asserts nothing (a benchmark, not a test). Builds nothing.
#
#   bench/session_bench.sh BUILD_DIR [--rounds=15] [--duration=4] [--warmup=1]
#       [--channels=4] [--streams=16] [--alg=ES256] [--with-fixed] [--pin]
#
# BUILD_DIR holds bench/sum_bench_server and bench/sum_load (built with
# -DTOLLGATE_BENCH=ON, the default).
#
# What runs, all on 127.0.0.1:
#   - one sum_bench_server --mode=interceptor (the production SumServer
#     assembly: the interceptor verifies every call's token);
#   - per round, sum_load --auth=header and sum_load --auth=session, each
#     with CHANNELS channels and CHANNELS*STREAMS calls in flight, for
#     DURATION seconds after WARMUP. --auth=session resumes a Session from
#     an in-memory pair holding the server's one-hour token, so the per-call
#     path (the credentials plugin asking the Session for the token) is
#     what differs; no Refresh falls in a run.
#   - Many short rounds, each pair back to back in alternating order, so
#     that other work on the machine weighs on both sides alike; the ratio
#     is the median of the per-round ratios.
#   - CPU time per call, which moves less than rps when other work shares
#     the machine: sum_load's own, and the server's (from /proc/PID/stat
#     around each run, divided by the calls sum_load completed). On a
#     machine that the client and the server saturate, throughput goes as
#     1 / (client + server CPU per call); the "CPU-bound" column is that
#     ratio.
#   - --with-fixed adds a diagnostic third way, sum_load
#     --auth=fixed-credentials (call credentials whose plugin returns the
#     fixed header inline), to split the cost into gRPC's call-credentials
#     machinery and the Session's own work.
#   - --pin runs the server on CPU 1 and sum_load on CPU 0 (taskset).
# Every command is under `timeout`; only the server this script started is
# stopped (by PID, on exit).
set -euo pipefail

BENCH_NAME=session_bench
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=15
DURATION=4
WARMUP=1
CHANNELS=4
STREAMS=16
ALG=ES256
MODES=(header session)
own_flag() {
  case "$1" in
    --alg=*) ALG="${1#*=}" ;;
    --with-fixed) MODES=(header fixed-credentials session) ;;
    *) return 1 ;;
  esac
}
read_flags "$@"

make_work_dir
start_listening_server sum_bench_server "$WORK/server.log" \
  "${SERVER_ON[@]}" "$SERVER" --mode=interceptor --alg="$ALG" --port=0 --token-out="$WORK/token"
SERVER_PID="$STARTED_PID"
PORT="$STARTED_PORT"

TICK_US=$((1000000 / $(getconf CLK_TCK)))

# Both ways answer OK before anything is timed (the interceptor refuses a
# call without the token, so OK means the token arrived).
for auth in "${MODES[@]}"; do
  line="$(timeout 30 "$LOAD" --target="127.0.0.1:$PORT" --token-file="$WORK/token" \
    --auth="$auth" --calls=50 --concurrency=4 --channels=1 --label=check)"
  echo "  check $auth: $(field "$line" statuses)"
  if [[ "$(field "$line" errors)" != 0 ]]; then
    echo "session_bench: --auth=$auth does not get OK" >&2
    exit 1
  fi
done

echo "session_bench: $ROUNDS rounds x ${#MODES[@]} runs x $((DURATION + WARMUP)) s, $INFLIGHT calls in flight," \
  "$ALG token; load at start: $(uptime)"
RESULTS="$WORK/results.tsv"  # auth round rps p50_us p99_us errors client_cpu_us server_cpu_us
: >"$RESULTS"
for ((round = 1; round <= ROUNDS; ++round)); do
  round_order "$round" "${MODES[@]}"
  for auth in "${ROUND_ORDER[@]}"; do
    ticks_before="$(cpu_ticks "$SERVER_PID")"
    line="$(timeout "$RUN_TIMEOUT" "${LOAD_ON[@]}" "$LOAD" --target="127.0.0.1:$PORT" \
      --token-file="$WORK/token" --auth="$auth" --channels="$CHANNELS" \
      --concurrency="$INFLIGHT" --duration="$DURATION" --warmup="$WARMUP" --label="$auth")"
    ticks="$(($(cpu_ticks "$SERVER_PID") - ticks_before))"
    # Every call sum_load completed, warm-up included (statuses=OK:n,...).
    completed="$(field "$line" statuses | tr ',' '\n' | awk -F: '{ n += $2 } END { print n + 0 }')"
    server_us="$(awk -v t="$ticks" -v us="$TICK_US" -v n="$completed" \
      'BEGIN { printf "%.1f", (n > 0 ? t * us / n : 0) }')"
    echo "  round $round $auth: $(cut -d' ' -f3- <<<"$line") server_cpu_us_per_call=$server_us"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$auth" "$round" "$(field "$line" rps)" \
      "$(field "$line" p50_us)" "$(field "$line" p99_us)" "$(field "$line" errors)" \
      "$(field "$line" cpu_us_per_call)" "$server_us" >>"$RESULTS"
  done
done
echo "session_bench: load at end: $(uptime)"
echo

awk -F'\t' -v rounds="$ROUNDS" "$BENCH_AWK_TABLE_FUNCTIONS"'
{ if (!($1 in rps)) order[++count] = $1
  rps[$1] = rps[$1] " " $3; p50[$1] = p50[$1] " " $4; p99[$1] = p99[$1] " " $5
  client[$1] = client[$1] " " $7; server[$1] = server[$1] " " $8; errors[$1] += $6
  rps_of[$1, $2] = $3
  # Header CPU over this CPU: the throughput ratio when CPU is the limit.
  total_of[$1, $2] = $7 + $8 > 0 ? 1 / ($7 + $8) : 0 }
END {
  name["header"] = "fixed authorization header (AddMetadata)"
  name["fixed-credentials"] = "fixed-header call credentials (diagnostic)"
  name["session"] = "Session credentials (set_credentials)"
  printf "%-43s %6s %6s %6s %6s %13s  %-22s %-22s %s\n", "token on each call", "rps", "p50 ms", \
    "p99 ms", "errors", "CPU/call c+s", "rps: x header", "CPU-bound: x header", "rps >= 0.95x"
  for (i = 1; i <= count; ++i) {
    mode = order[i]
    rps_ratio = "baseline"; cpu_ratio = "baseline"; met = ""
    if (mode != "header") {
      cpu_ratio = paired(total_of, mode, "header", "%.3f (%.2f-%.2f)")
      rps_ratio = paired(rps_of, mode, "header", "%.3f (%.2f-%.2f)")
      if (mode == "session") met = ratio_value >= 0.95 ? "yes" : "NO"
    }
    printf "%-43s %6.0f %6.2f %6.2f %6d %5.1f+%4.1f us  %-22s %-22s %s\n", name[mode], \
      median(rps[mode]), median(p50[mode]) / 1000, median(p99[mode]) / 1000, errors[mode], \
      median(client[mode]), median(server[mode]), rps_ratio, cpu_ratio, met
  }
  printf "\nrps, p50, p99, CPU per call of the client (c, sum_load) and the server (s): medians of\n"
  printf "%d rounds. Ratios: medians of the per-round ratios to the header run of the same round,\n", rounds
  printf "lowest and highest in brackets; CPU-bound: (c+s of header) / (c+s of this way).\n"
}' "$RESULTS"
