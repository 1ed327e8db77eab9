# shellcheck shell=bash
# Shell functions shared by the bench drivers (sum_bench.sh, session_bench.sh).
# Source it after `set -euo pipefail` with BENCH_NAME set to the prefix of
# the driver's messages ("sum_bench"):
#
#   BENCH_NAME=sum_bench
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Only processes the driver started (start_listening_server, stop_on_exit)
# are ever stopped, by PID, on exit.

# Prints the calling script's header comment (from line 2 to `set -euo`) and
# exits 2.
bench_usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  exit 2
}

# require_whole_numbers VALUE...: exits 2 unless every VALUE is a whole number.
require_whole_numbers() {
  local n
  for n in "$@"; do
    [[ "$n" =~ ^[0-9]+$ ]] || { echo "$BENCH_NAME: numeric flags take whole numbers" >&2; exit 2; }
  done
}

# require_built FILE...: exits 2 unless every FILE is an executable.
require_built() {
  local binary
  for binary in "$@"; do
    [[ -x "$binary" ]] || { echo "$BENCH_NAME: $binary missing: build it first" >&2; exit 2; }
  done
}

# read_flags ARG...: what every driver takes, with the driver's defaults
# set before the call: BUILD_DIR (the one positional argument), --rounds=,
# --duration=, --warmup=, --channels=, --streams= (whole numbers into
# ROUNDS, DURATION, WARMUP, CHANNELS, STREAMS), --pin (SERVER_ON: taskset
# -c 1, LOAD_ON: taskset -c 0) and -h/--help. Any other flag goes to the
# driver's own_flag ARG, which returns 1 for a flag it does not know. Then
# sets SERVER and LOAD (sum_bench_server and sum_load under BUILD_DIR,
# which must be built), INFLIGHT (CHANNELS * STREAMS) and RUN_TIMEOUT.
# shellcheck disable=SC2034  # the variables it sets are the drivers'
read_flags() {
  local arg
  BUILD_DIR=""
  SERVER_ON=()
  LOAD_ON=()
  for arg in "$@"; do
    case "$arg" in
      --rounds=*) ROUNDS="${arg#*=}" ;;
      --duration=*) DURATION="${arg#*=}" ;;
      --warmup=*) WARMUP="${arg#*=}" ;;
      --channels=*) CHANNELS="${arg#*=}" ;;
      --streams=*) STREAMS="${arg#*=}" ;;
      --pin) SERVER_ON=(taskset -c 1); LOAD_ON=(taskset -c 0) ;;
      -h|--help) bench_usage ;;
      --*) own_flag "$arg" || { echo "$BENCH_NAME: unknown flag $arg" >&2; bench_usage; } ;;
      *) [[ -z "$BUILD_DIR" ]] || bench_usage; BUILD_DIR="$arg" ;;
    esac
  done
  [[ -n "$BUILD_DIR" ]] || bench_usage
  require_whole_numbers "$ROUNDS" "$DURATION" "$WARMUP" "$CHANNELS" "$STREAMS"
  SERVER="$BUILD_DIR/bench/sum_bench_server"
  LOAD="$BUILD_DIR/bench/sum_load"
  require_built "$SERVER" "$LOAD"
  INFLIGHT=$((CHANNELS * STREAMS))
  RUN_TIMEOUT=$((DURATION + WARMUP + 30))
}

# make_work_dir: WORK=/tmp/BENCH_NAME.XXXXXX; on exit, every process that
# start_listening_server started or stop_on_exit named is stopped (SIGTERM,
# then waited for) and WORK is removed.
BENCH_PIDS=()
stop_on_exit() { BENCH_PIDS+=("$1"); }
make_work_dir() {
  WORK="$(mktemp -d "/tmp/$BENCH_NAME.XXXXXX")"
  trap stop_started_and_clean_up EXIT
  trap 'exit 130' INT TERM
}
stop_started_and_clean_up() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${BENCH_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}

# start_listening_server WHAT LOG COMMAND...: runs COMMAND in the
# background, its output in LOG, and waits up to 15 s for the line
# "listening on port N" that sum_bench_server prints. Sets STARTED_PID and
# STARTED_PORT; exits 1 with the log when the server does not start.
start_listening_server() {
  local what="$1" log="$2" i
  shift 2
  : >"$log"  # exists before the poll below reads it
  "$@" >"$log" 2>&1 &
  STARTED_PID=$!
  stop_on_exit "$STARTED_PID"
  STARTED_PORT=""
  for ((i = 0; i < 150; ++i)); do
    STARTED_PORT="$(sed -n 's/^listening on port \([0-9]*\)$/\1/p' "$log")"
    [[ -n "$STARTED_PORT" ]] && return 0
    kill -0 "$STARTED_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "$BENCH_NAME: $what did not start:" >&2
  cat "$log" >&2
  exit 1
}

# field LINE NAME: the value of NAME=value in a sum_load line.
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

# cpu_ticks PID: the process's user plus system CPU time so far, in clock
# ticks (/proc/PID/stat fields 14 and 15).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# round_order ROUND MODE...: ROUND_ORDER=(MODE...) in odd rounds, reversed
# in even ones, so that drift in the machine's load weighs on every mode
# alike.
round_order() {
  local round="$1" i
  shift
  ROUND_ORDER=("$@")
  if ((round % 2 == 0)); then
    ROUND_ORDER=()
    for ((i = $#; i >= 1; --i)); do ROUND_ORDER+=("${!i}"); done
  fi
}

# awk functions for the drivers' tables; put this text in front of the awk
# program, which must be run with -v rounds=N.
#   median(list): the median of the numbers in the space-separated list (0
#     for none); sets lowest and highest.
#   paired(value_of, a, b, format): for each round r = 1..rounds in which
#     value_of[a, r] and value_of[b, r] exist and the latter is > 0, the
#     ratio value_of[a, r] / value_of[b, r]; returns sprintf(format, median,
#     lowest, highest) of those ratios, or "-" when there are none, and sets
#     ratio_value to the median (0 for none).
# shellcheck disable=SC2034  # used by the drivers that source this file
BENCH_AWK_TABLE_FUNCTIONS='
function median(list,    n, v, i, j, t) {
  n = split(list, v, " ")
  if (n == 0) { lowest = highest = 0; return 0 }
  for (i = 2; i <= n; ++i) { t = v[i]; for (j = i - 1; j >= 1 && v[j] + 0 > t + 0; --j) v[j + 1] = v[j]; v[j + 1] = t }
  lowest = v[1]; highest = v[n]
  return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function paired(value_of, a, b, format,    r, list) {
  list = ""
  for (r = 1; r <= rounds; ++r) {
    if ((a SUBSEP r) in value_of && (b SUBSEP r) in value_of && value_of[b SUBSEP r] > 0) {
      list = list " " value_of[a SUBSEP r] / value_of[b SUBSEP r]
    }
  }
  ratio_value = list == "" ? 0 : median(list)
  return list == "" ? "-" : sprintf(format, ratio_value, lowest, highest)
}
'
