#!/usr/bin/env bash
# Starts docker-compose.scale.yml for real with podman (PostgreSQL, two
# AuthService and two SumService replicas, HAProxy in front), runs the
# checks of tests/deploy/scale_checks.py through the balancer, and removes
# it (containers, network, volumes). Run by ctest as compose_scale_test;
# needs root.
#
#   scripts/compose_scale_test.sh [--build-dir DIR]
#
#   --build-dir DIR  the build whose generated Python stubs the checks use
#                    (DIR/clients/python/generated)  [build]
#
# The machine's set-up is the one of scripts/compose_test.sh (shared in
# scripts/lib/compose.sh). Environment:
#   TOLLGATE_COMPOSE_TIMEOUT  seconds to wait for each part of the stack  [180]
#   TOLLGATE_CCACHE_DIR       ccache reused by the image build  [ccache's own]
#   TOLLGATE_COMPOSE_LOG_DIR  every service's whole log kept there  [not kept]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${TOLLGATE_BUILD_DIR:-build}"
while (($#)); do
  case "$1" in
    --build-dir) build_dir="${2:?--build-dir needs a value}"; shift 2 ;;
    --build-dir=*) build_dir="${1#*=}"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "compose_scale_test: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ "$build_dir" = /* ]] || build_dir="$root/$build_dir"

log_name=compose_scale_test
# shellcheck source=scripts/lib/compose.sh
source "$root/scripts/lib/compose.sh"

stubs="$build_dir/clients/python/generated"
[[ -f "$stubs/tollgate/auth/v1/auth_pb2_grpc.py" ]] \
  || fail "no generated Python stubs in $stubs: build the 'tollgate_python_stubs' target first"
/usr/bin/python3 -c 'import grpc' 2>/dev/null || fail "/usr/bin/python3 lacks grpc (Debian's python3-grpcio)"

compose_setup

timeout_s="${TOLLGATE_COMPOSE_TIMEOUT:-180}"
compose_start_project "tollgate-scale-$$"
compose_files=("$root/docker-compose.scale.yml")
compose_services=(postgres keys auth-1 auth-2 balancer sum-1 sum-2)
compose_image_names
export TOLLGATE_DB_PASSWORD="db-$(openssl rand -hex 12)"
export TOLLGATE_ADMIN_EMAIL=admin@example.com
export TOLLGATE_ADMIN_PASSWORD="admin-$(openssl rand -hex 12)"
export TOLLGATE_SIGNING_KEYS=/keys/signing-key.pem

read -r TOLLGATE_AUTH_PORT TOLLGATE_SUM_PORT TOLLGATE_BALANCER_STATS_PORT \
  TOLLGATE_AUTH1_HTTP_PORT TOLLGATE_AUTH2_HTTP_PORT TOLLGATE_SUM1_HTTP_PORT TOLLGATE_SUM2_HTTP_PORT \
  < <(free_ports 7)
export TOLLGATE_AUTH_PORT TOLLGATE_SUM_PORT TOLLGATE_BALANCER_STATS_PORT \
  TOLLGATE_AUTH1_HTTP_PORT TOLLGATE_AUTH2_HTTP_PORT TOLLGATE_SUM1_HTTP_PORT TOLLGATE_SUM2_HTTP_PORT

# Every server of both backends UP in the balancer's /stats.
balancer_all_up() {
  local csv
  csv="$(curl -fsS --max-time 2 "http://127.0.0.1:$TOLLGATE_BALANCER_STATS_PORT/stats;csv")" || return 1
  [[ "$(awk -F, '($1 == "auth" || $1 == "sum") && $2 != "BACKEND" && $18 ~ /^UP/' <<<"$csv" | wc -l)" -eq 4 ]]
}

# In dependency order, waiting for each step (podman-compose 1.0.3 does not).
start_stack() {
  compose_start_database_and_keys
  quiet_compose up -d --no-build auth-1 auth-2 || fail "podman-compose up auth-1 auth-2"
  wait_for "$timeout_s" "auth-1 ready" ready "$TOLLGATE_AUTH1_HTTP_PORT"
  wait_for "$timeout_s" "auth-2 ready" ready "$TOLLGATE_AUTH2_HTTP_PORT"
  quiet_compose up -d --no-build balancer || fail "podman-compose up balancer"
  quiet_compose up -d --no-build sum-1 sum-2 || fail "podman-compose up sum-1 sum-2"
  wait_for "$timeout_s" "sum-1 ready (keys fetched through the balancer)" ready "$TOLLGATE_SUM1_HTTP_PORT"
  wait_for "$timeout_s" "sum-2 ready (keys fetched through the balancer)" ready "$TOLLGATE_SUM2_HTTP_PORT"
  wait_for 30 "every replica UP in the balancer (/stats)" balancer_all_up
}

# The image's own health check (tollgate health on the gRPC port) in each
# replica: podman runs it once on request (no timer here).
check_container_health() {
  local service
  for service in auth-1 auth-2 sum-1 sum-2; do
    podman healthcheck run "$(container_of "$service")" >/dev/null 2>&1 \
      || fail "$service: the container health check (tollgate-healthcheck) is not healthy"
  done
}

started=$SECONDS
compose_build_images runtime postgres balancer
say "images built in $((SECONDS - started))s"

started=$SECONDS
start_stack
say "stack healthy in $((SECONDS - started))s (balancer: auth 127.0.0.1:$TOLLGATE_AUTH_PORT," \
  "sum 127.0.0.1:$TOLLGATE_SUM_PORT, stats 127.0.0.1:$TOLLGATE_BALANCER_STATS_PORT)"
check_container_health
say "container health checks (tollgate health over gRPC): healthy"

started=$SECONDS
SCALE_PROJECT="$project" SCALE_COMPOSE_FILE="$root/docker-compose.scale.yml" \
  PYTHONPATH="$stubs${PYTHONPATH:+:$PYTHONPATH}" \
  /usr/bin/python3 "$root/tests/deploy/scale_checks.py" || fail "checks through the balancer (above)"
say "checks through the balancer took $((SECONDS - started))s"
say "PASSED"
