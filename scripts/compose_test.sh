#!/usr/bin/env bash
# Starts the docker-compose stack for real with podman, checks it from the
# host through the published ports, and removes it (containers, network,
# volumes). Run by ctest as compose_stack_test; needs root.
#
#   scripts/compose_test.sh [--setup-only] [--build-dir DIR]
#
#   --setup-only     only make this machine able to run containers (below)
#   --build-dir DIR  where the host's tollgate CLI is built  [build]
#
# The set-up is idempotent and does only what is missing:
#   - Debian's podman, podman-compose, runc, debootstrap, docker-compose;
#   - /etc/containers/containers.conf: no default ulimits (a sandbox may
#     refuse them) and runc (crun refuses hybrid cgroups);
#   - the base image debian:12, made with debootstrap from the apt mirror
#     when no registry can be reached.
# Environment:
#   TOLLGATE_COMPOSE_TIMEOUT    seconds to wait for the stack     [180]
#   TOLLGATE_CCACHE_DIR         ccache reused by the image build  [ccache's own]
#   TOLLGATE_COMPOSE_LOG_DIR    every service's whole log kept there  [not kept]
#   TOLLGATE_DEBIAN_MIRROR      debootstrap's mirror  [http://deb.debian.org/debian]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${TOLLGATE_BUILD_DIR:-build}"
setup_only=0
while (($#)); do
  case "$1" in
    --setup-only) setup_only=1; shift ;;
    --build-dir) build_dir="${2:?--build-dir needs a value}"; shift 2 ;;
    --build-dir=*) build_dir="${1#*=}"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "compose_test: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ "$build_dir" = /* ]] || build_dir="$root/$build_dir"

log_name=compose_test
# shellcheck source=scripts/lib/compose.sh
source "$root/scripts/lib/compose.sh"

compose_setup
((setup_only)) && exit 0

# --- the stack ----------------------------------------------------------------

cli="$build_dir/client/tollgate"
[[ -x "$cli" ]] || fail "no CLI at $cli: build the 'tollgate' target first"
timeout_s="${TOLLGATE_COMPOSE_TIMEOUT:-180}"
compose_start_project "tollgate-test-$$"
compose_files=("$root/docker-compose.yml")
compose_services=(postgres keys auth sum)
compose_image_names
export TOLLGATE_DB_PASSWORD="db-$(openssl rand -hex 12)"
export TOLLGATE_ADMIN_EMAIL=admin@example.com
export TOLLGATE_ADMIN_PASSWORD="admin-$(openssl rand -hex 12)"

# Four free host ports: AuthService gRPC and HTTP, SumService gRPC and HTTP.
read -r auth_port auth_http_port sum_port sum_http_port < <(free_ports 4)
export TOLLGATE_AUTH_PORT="$auth_port" TOLLGATE_AUTH_HTTP_PORT="$auth_http_port"
export TOLLGATE_SUM_PORT="$sum_port" TOLLGATE_SUM_HTTP_PORT="$sum_http_port"

# Starts the stack in dependency order and waits for each step itself:
# podman-compose 1.0.3 neither waits for depends_on conditions nor runs
# health checks here (no systemd timers).
start_stack() {
  compose_start_database_and_keys
  quiet_compose up -d --no-build auth || fail "podman-compose up auth"
  wait_for "$timeout_s" "auth ready (/readyz on 127.0.0.1:$auth_http_port)" ready "$auth_http_port"
  quiet_compose up -d --no-build sum || fail "podman-compose up sum"
  wait_for "$timeout_s" "sum ready (/readyz on 127.0.0.1:$sum_http_port)" ready "$sum_http_port"
}

# Runs the CLI against the published ports; its stdout and stderr go to
# $work/out, its exit status is returned.
tg() {
  "$cli" --auth "127.0.0.1:$auth_port" --sum "127.0.0.1:$sum_port" \
    --token-file "$work/tokens.json" "$@" >"$work/out" 2>&1
}
expect_ok() {
  local what="$1"; shift
  tg "$@" || fail "$what: exit $? ($(head -c 400 "$work/out"))"
}
expect_output() {
  local what="$1" pattern="$2"
  grep -qE -- "$pattern" "$work/out" || fail "$what: output lacks /$pattern/: $(head -c 400 "$work/out")"
}

started=$SECONDS
compose_build_images runtime postgres
say "images built in $((SECONDS - started))s"

started=$SECONDS
start_stack
say "stack healthy in $((SECONDS - started))s (auth 127.0.0.1:$auth_port, sum 127.0.0.1:$sum_port)"

# The image's health check (tollgate health over gRPC), run once on request:
# podman runs none on a timer here.
for service in auth sum; do
  podman healthcheck run "$(container_of "$service")" >/dev/null 2>&1 \
    || fail "$service: the container health check (tollgate-healthcheck) is not healthy"
done
# And it is a real probe: pointed at a port where nothing listens, it fails.
if podman exec -e TOLLGATE_HEALTHCHECK_ADDR=127.0.0.1:1 "$(container_of auth)" tollgate-healthcheck >"$work/out" 2>&1; then
  fail "the container health check passes against a port where nothing listens"
fi
expect_output "the container health check on a closed port" '127\.0\.0\.1:1: UNAVAILABLE'
say "container health checks (tollgate health over gRPC): healthy, and failing on a closed port"

# The user's path, from the host through the published ports.
export TOLLGATE_PASSWORD="correct horse battery staple 7"
expect_ok "register" register demo@example.com --first-name Demo --last-name User
expect_output "register" '"email":"demo@example.com"'
expect_ok "login" login demo@example.com
expect_ok "sum" sum 40 2
expect_output "sum" '^\{"result":"42"\}$'
if tg usage; then fail "usage as a user: expected PERMISSION_DENIED, got exit 0"; fi
expect_output "usage as a user" "PERMISSION_DENIED: method tollgate.sum.v1.SumService/GetUsage requires role 'admin'"
cp "$work/tokens.json" "$work/tokens-before-refresh.json"
expect_ok "refresh" refresh
cmp -s "$work/tokens.json" "$work/tokens-before-refresh.json" && fail "refresh: the token file did not change"
expect_ok "sum after refresh" sum -5 3
expect_output "sum after refresh" '^\{"result":"-2"\}$'
TOLLGATE_PASSWORD="$TOLLGATE_ADMIN_PASSWORD" expect_ok "admin login" login "$TOLLGATE_ADMIN_EMAIL"
expect_ok "usage as the bootstrap admin" usage
expect_output "usage as the bootstrap admin" '"calls"'
# The JWKS over HTTP: the stack's one ES256 key, the same as GetJwks.
curl -fsS --max-time 5 "http://127.0.0.1:$auth_http_port/.well-known/jwks.json" >"$work/jwks-http.json" \
  || fail "GET /.well-known/jwks.json on 127.0.0.1:$auth_http_port"
expect_ok "jwks over gRPC" jwks
/usr/bin/python3 - "$work/jwks-http.json" "$work/out" <<'PY' || fail "JWKS over HTTP: not one ES256 P-256 key equal to GetJwks's"
import json, sys
http = json.load(open(sys.argv[1]))
grpc = json.loads(json.load(open(sys.argv[2]))["jwks_json"])
keys = http["keys"]
assert len(keys) == 1 and keys[0]["kty"] == "EC" and keys[0]["crv"] == "P-256" and keys[0]["alg"] == "ES256", keys
assert [k["kid"] for k in keys] == [k["kid"] for k in grpc["keys"]], (keys, grpc)
PY
say "register, login, Sum, denial, Refresh, admin usage and the JWKS over HTTP: ok"

# --- bad input: one line saying why, in the logs ---------------------------------

# Waits for auth to have exited and prints its last log line.
auth_failure_line() {
  wait_for 60 "auth to exit" bash -c "[[ \"\$(podman inspect -f '{{.State.Status}}' ${project}_auth_1)\" == exited ]]"
  podman logs "${project}_auth_1" 2>&1 | tail -n 1
}
# podman-compose 1.0.3's up starts an existing container as it was, so the
# old ones go first for the new settings to apply.
remove_container() { podman rm -f -t 5 "${project}_$1_1" >/dev/null; }
remove_container sum
remove_container auth

TOLLGATE_SIGNING_KEYS=/keys/absent.pem quiet_compose up -d --no-build auth
line="$(auth_failure_line)"
[[ "$line" == *'"cannot start"'* && "$line" == */keys/absent.pem* ]] \
  || fail "auth without its key: last log line is not the reason: $line"
say "without a key, auth says: $line"
remove_container auth

TOLLGATE_DB_PASSWORD=wrong-password quiet_compose up -d --no-build auth
line="$(auth_failure_line)"
[[ "$line" == *'"cannot start"'* && "$line" == *password* ]] \
  || fail "auth with a wrong database password: last log line is not the reason: $line"
say "with a wrong database password, auth says: $line"

say "PASSED"
