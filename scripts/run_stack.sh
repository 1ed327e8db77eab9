#!/usr/bin/env bash
# README command 1: installs what is missing, builds, starts the whole stack
# on this machine and shows it working, then keeps it running until Ctrl-C.
#
#   scripts/run_stack.sh [--build-dir DIR] [--skip-deps] [--demo-only] [CMAKE_ARG...]
#
# What it starts, all under .stack/ in the checkout (thrown away and made
# anew on every run):
#   - a PostgreSQL 15 cluster on 127.0.0.1:$TOLLGATE_STACK_PG_PORT   [55432]
#   - auth_service on 127.0.0.1:$TOLLGATE_STACK_AUTH_PORT            [50051]
#     signing ES256 with a fresh key (.stack/signing-key.pem), with the
#     bootstrap admin admin@example.com (password in .stack/admin-password)
#   - sum_service on 127.0.0.1:$TOLLGATE_STACK_SUM_PORT              [50052]
#     fetching its keys from AuthService.GetJwks
#   - a local SMTP server on 127.0.0.1:$TOLLGATE_STACK_SMTP_PORT      [2525]
#     (tests/support/smtp_sink.py, Debian's aiosmtpd) that keeps every mail
#     AuthService sends in .stack/mail/
# Then, with the CLI (build/client/tollgate): register and log in a user,
# call Sum, show that GetUsage is PERMISSION_DENIED for that user, verify the
# user's email and reset its password with the codes that arrive by mail,
# and show the admin's usage table and user list. Logs: .stack/*.log.
#
# --demo-only stops the stack after the demo instead of waiting for Ctrl-C.
# Ctrl-C (or SIGTERM) stops both services and PostgreSQL, by their PIDs.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${TOLLGATE_BUILD_DIR:-build}"
demo_only=0
build_args=()
while (($#)); do
  case "$1" in
    --build-dir) build_dir="${2:?--build-dir needs a value}"; build_args+=("$1" "$2"); shift 2 ;;
    --build-dir=*) build_dir="${1#*=}"; build_args+=("$1"); shift ;;
    --demo-only) demo_only=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) build_args+=("$1"); shift ;;
  esac
done
[[ "$build_dir" = /* ]] || build_dir="$root/$build_dir"

pg_port="${TOLLGATE_STACK_PG_PORT:-55432}"
auth_port="${TOLLGATE_STACK_AUTH_PORT:-50051}"
sum_port="${TOLLGATE_STACK_SUM_PORT:-50052}"
smtp_port="${TOLLGATE_STACK_SMTP_PORT:-2525}"
stack="$root/.stack"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "run_stack: $*" >&2; exit 1; }

"$root/scripts/build.sh" "${build_args[@]}"
# The stack needs only the servers and the CLI; build.sh built everything.
auth_bin="$build_dir/auth_service/auth_service"
sum_bin="$build_dir/sum_service/sum_service"
cli_bin="$build_dir/client/tollgate"
for bin in "$auth_bin" "$sum_bin" "$cli_bin"; do [[ -x "$bin" ]] || die "missing $bin after the build"; done

pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[[ -x "$pg_bin/initdb" ]] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"

# A previous run that was killed hard may have left its processes: stop
# those (and only those: their PIDs are in .stack/*.pid).
stop_stack() {
  for name in sum auth smtp; do
    if [[ -f "$stack/$name.pid" ]]; then
      pid="$(cat "$stack/$name.pid")"
      if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      fi
      rm -f "$stack/$name.pid"
    fi
  done
  if [[ -f "$stack/pg/data/postmaster.pid" ]]; then
    as_pg "$pg_bin/pg_ctl" -D "$stack/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}
# PostgreSQL refuses to run as root: as root, run its programs as `postgres`.
as_pg() {
  if [[ "$(id -u)" -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop_stack
rm -rf "$stack"
for port in "$pg_port" "$auth_port" "$sum_port" "$smtp_port"; do
  port_in_use "$port" && die "127.0.0.1:$port is in use; set TOLLGATE_STACK_PG_PORT / _AUTH_PORT / _SUM_PORT / _SMTP_PORT"
done
mkdir -p "$stack/pg"
chmod 700 "$stack"
if [[ "$(id -u)" -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || die "user postgres is missing (is postgresql-15 installed?)"
  chmod 711 "$stack"  # postgres must reach .stack/pg, nothing more
  chown postgres: "$stack/pg"
fi

cleanup() {
  trap - INT TERM EXIT
  say "stopping the stack"
  stop_stack
  echo "run_stack: stopped (logs kept in .stack/)"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

say "PostgreSQL on 127.0.0.1:$pg_port (.stack/pg)"
as_pg "$pg_bin/initdb" -D "$stack/pg/data" -U postgres --auth=trust -E UTF8 >"$stack/pg/initdb.log" 2>&1 \
  || die "initdb failed: see .stack/pg/initdb.log"
as_pg "$pg_bin/pg_ctl" -D "$stack/pg/data" -l "$stack/pg/server.log" -w \
  -o "-p $pg_port -c listen_addresses=127.0.0.1 -k $stack/pg" start >/dev/null \
  || die "PostgreSQL did not start: see .stack/pg/server.log"
as_pg "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres tollgate

# The services log JSON lines on stdout; "listening" with protocol grpc says
# the gRPC port is open.
wait_for_line() {  # FILE PATTERN WHAT
  for _ in $(seq 300); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  tail -5 "$1" >&2
  die "$3 did not come up: see ${1#$root/}"
}

say "SMTP server on 127.0.0.1:$smtp_port (mail kept in .stack/mail)"
mkdir -p "$stack/mail"
/usr/bin/python3 "$root/tests/support/smtp_sink.py" --dir "$stack/mail" --port "$smtp_port" \
  --max-lifetime 604800 >"$stack/smtp.log" 2>&1 &
echo $! >"$stack/smtp.pid"
wait_for_line "$stack/smtp.log" "listening on port" "the SMTP server"

say "auth_service on 127.0.0.1:$auth_port"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$stack/signing-key.pem" 2>/dev/null
chmod 600 "$stack/signing-key.pem"
admin_password="$(openssl rand -base64 18)"
(umask 077 && printf '%s\n' "$admin_password" >"$stack/admin-password")
AUTH_LISTEN="127.0.0.1:$auth_port" \
AUTH_DATABASE_URL="postgresql://postgres@127.0.0.1:$pg_port/tollgate" \
AUTH_SIGNING_KEYS="$stack/signing-key.pem" \
AUTH_BOOTSTRAP_ADMIN_EMAIL="admin@example.com" \
AUTH_BOOTSTRAP_ADMIN_PASSWORD="$admin_password" \
AUTH_SMTP_URL="smtp://127.0.0.1:$smtp_port" \
AUTH_MAIL_FROM="no-reply@tollgate.local" \
  "$auth_bin" >"$stack/auth.log" 2>&1 &
echo $! >"$stack/auth.pid"
wait_for_line "$stack/auth.log" '"msg":"listening","protocol":"grpc"' auth_service

say "sum_service on 127.0.0.1:$sum_port (keys from grpc://127.0.0.1:$auth_port)"
SUM_LISTEN="127.0.0.1:$sum_port" SUM_KEYS_SOURCE="grpc://127.0.0.1:$auth_port" \
  "$sum_bin" >"$stack/sum.log" 2>&1 &
echo $! >"$stack/sum.pid"
wait_for_line "$stack/sum.log" '"msg":"listening","protocol":"grpc"' sum_service
wait_for_line "$stack/sum.log" '"msg":"keys loaded"' "sum_service's key fetch"

# The demo, through the CLI exactly as a user would type it.
export TOLLGATE_AUTH_ADDR="127.0.0.1:$auth_port" TOLLGATE_SUM_ADDR="127.0.0.1:$sum_port"
export TOLLGATE_TOKEN_FILE="$stack/demo-tokens.json"
demo() { echo "\$ tollgate $*"; "$cli_bin" "$@"; }
expect_failure() { echo "\$ tollgate $*"; if "$cli_bin" "$@"; then die "expected '$*' to fail"; fi; }

say "a user registers, logs in and calls Sum"
TOLLGATE_PASSWORD="demo password 2026" demo register demo@example.com --first-name Demo --last-name User
TOLLGATE_PASSWORD="demo password 2026" demo login demo@example.com
demo sum 2 40
demo sum-stream 1 2 3 4 5

say "the user may not read the usage table (role admin needed)"
expect_failure usage

# The code (a line of its own starting with PREFIX) in the newest mail to
# ADDRESS, waiting up to 10 s for one.
mailed_code() {  # ADDRESS PREFIX
  for _ in $(seq 100); do
    for mail in $(ls -r "$stack/mail"/*.eml 2>/dev/null); do
      grep -qx "$1" "${mail%.eml}.envelope" 2>/dev/null || continue
      code="$(tr -d '\r' <"$mail" | grep -m1 "^$2" || true)"
      [[ -n "$code" ]] && { echo "$code"; return 0; }
    done
    sleep 0.1
  done
  die "no mail with a $2 code reached $1: see .stack/auth.log"
}

say "the user verifies its email with the code that came by mail (.stack/mail)"
demo me
demo email verify-request
demo email verify "$(mailed_code demo@example.com tge_)"

say "a forgotten password: a reset code by mail, then the new password"
demo password reset-request demo@example.com
TOLLGATE_NEW_PASSWORD="a brand new demo password" \
  demo password reset "$(mailed_code demo@example.com tgp_)"
expect_failure refresh   # the reset ended every session of the account
TOLLGATE_PASSWORD="a brand new demo password" demo login demo@example.com

say "the bootstrap admin may"
TOLLGATE_TOKEN_FILE="$stack/admin-tokens.json" TOLLGATE_PASSWORD="$admin_password" \
  demo login admin@example.com
TOLLGATE_TOKEN_FILE="$stack/admin-tokens.json" demo usage
TOLLGATE_TOKEN_FILE="$stack/admin-tokens.json" demo users list --all

if ((demo_only)); then exit 0; fi

say "the stack is running"
cat <<INFO
  AuthService  127.0.0.1:$auth_port   log: .stack/auth.log
  SumService   127.0.0.1:$sum_port   log: .stack/sum.log
  SMTP server  127.0.0.1:$smtp_port    mail: .stack/mail/*.eml
  PostgreSQL   postgresql://postgres@127.0.0.1:$pg_port/tollgate
  admin        admin@example.com, password in .stack/admin-password

  Try the CLI in another shell:
    export TOLLGATE_AUTH_ADDR=127.0.0.1:$auth_port TOLLGATE_SUM_ADDR=127.0.0.1:$sum_port
    $cli_bin login demo@example.com      # password: a brand new demo password
    $cli_bin sum 20 22

  Ctrl-C stops the services and PostgreSQL.
INFO
# Wait for Ctrl-C; notice if a service dies meanwhile.
while kill -0 "$(cat "$stack/auth.pid")" 2>/dev/null && kill -0 "$(cat "$stack/sum.pid")" 2>/dev/null; do
  sleep 1
done
die "a service exited on its own: see .stack/auth.log and .stack/sum.log"
