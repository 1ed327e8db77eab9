#!/usr/bin/env bash
# Instructions per Sum call of sum_bench_server, with and without the call
# pipeline, counted by callgrind: what the pipeline costs the server.
# With many calls in flight the counts depend on how gRPC batches calls
# under valgrind and vary between runs, the bare server's most; one call in
# flight (--connections=1 --streams=1) takes batching out. Other load on
# the machine still adds lock spinning and wake-ups, so count on a quiet
# machine (see bench/README.md).
# Prints a table; asserts nothing. Builds nothing.
#
#   bench/pipeline_instructions.sh BUILD_DIR [--small=10000] [--large=30000]
#       [--connections=4] [--streams=16]
#
# BUILD_DIR holds bench/sum_bench_server (a Release build). Needs valgrind
# and h2load. For each mode, the server runs under callgrind twice, serving
# SMALL then LARGE Sum calls from h2load (h2c, CONNECTIONS connections,
# STREAMS streams each, HS256 token); instructions per call = (Ir(LARGE) - Ir(SMALL)) /
# (LARGE - SMALL), so start-up and shutdown cancel out. Modes:
#   none         a bare server: no interceptor, the same connection limits
#   pipeline     the production SumServer: access log (to /dev/null), RPC
#                metrics, the cap on calls in flight, auth
#   no-log       as pipeline, the access log off
# Only 127.0.0.1 is used; every process started is stopped by its PID.
set -euo pipefail
BUILD_DIR="${1:?usage: bench/pipeline_instructions.sh BUILD_DIR [--small=N] [--large=N]}"
shift
SMALL=10000
LARGE=30000
CONNECTIONS=4
STREAMS=16
for arg in "$@"; do
  case "$arg" in
    --small=*) SMALL="${arg#*=}" ;;
    --large=*) LARGE="${arg#*=}" ;;
    --connections=*) CONNECTIONS="${arg#*=}" ;;
    --streams=*) STREAMS="${arg#*=}" ;;
    *) echo "unknown argument $arg" >&2; exit 2 ;;
  esac
done
SERVER="$BUILD_DIR/bench/sum_bench_server"
for tool in valgrind callgrind_annotate h2load; do
  command -v "$tool" >/dev/null || { echo "pipeline_instructions: $tool is missing" >&2; exit 1; }
done
WORK="$(mktemp -d /tmp/pipeline_instructions.XXXXXX)"
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
printf '\x00\x00\x00\x00\x04\x08\x01\x10\x02' >"$WORK/sum.grpc"  # SumRequest{a: 1, b: 2}

# instructions CALLS SERVER_ARGS...: callgrind's Ir total for a server run
# that serves CALLS calls.
instructions() {
  local calls="$1" i port
  shift
  JWT_SECRET_KEY=pipeline-instructions-secret-0123456789abcdef \
    timeout 900 valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" \
    "$SERVER" "$@" --alg=HS256 --port=0 --token-out="$WORK/token" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  # valgrind starts slowly, the more so on a loaded machine: up to 5 min.
  for ((i = 0; i < 1000; ++i)); do
    grep -q '^listening on port' "$WORK/server.log" && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.3
  done
  port="$(sed -n 's/^listening on port \([0-9]*\)$/\1/p' "$WORK/server.log")"
  [[ -n "$port" ]] || { echo "pipeline_instructions: server did not start" >&2; cat "$WORK/server.log" >&2; exit 1; }
  timeout 900 h2load -n "$calls" -c "$CONNECTIONS" -m "$STREAMS" -t 1 -H 'content-type: application/grpc' \
    -H 'te: trailers' -H "authorization: Bearer $(cat "$WORK/token")" -d "$WORK/sum.grpc" \
    "http://127.0.0.1:$port/tollgate.sum.v1.SumService/Sum" >"$WORK/h2load.out" 2>&1
  grep -q "status codes: $calls 2xx" "$WORK/h2load.out" ||
    { echo "pipeline_instructions: not every call was OK" >&2; cat "$WORK/h2load.out" >&2; exit 1; }
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || true
  SERVER_PID=""
  callgrind_annotate "$WORK/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
}

declare -A PER_CALL
for mode in none pipeline no-log; do
  case "$mode" in
    none) args=(--mode=none) ;;
    pipeline) args=(--mode=interceptor) ;;
    no-log) args=(--mode=interceptor --access-log=off) ;;
  esac
  small="$(instructions "$SMALL" "${args[@]}")"
  large="$(instructions "$LARGE" "${args[@]}")"
  PER_CALL[$mode]=$(((large - small) / (LARGE - SMALL)))
done
printf '%-10s %22s %18s\n' "mode" "instructions per call" "none / mode"
for mode in none pipeline no-log; do
  printf '%-10s %22d %18.3f\n' "$mode" "${PER_CALL[$mode]}" \
    "$(awk -v a="${PER_CALL[none]}" -v b="${PER_CALL[$mode]}" 'BEGIN { print a / b }')"
done
