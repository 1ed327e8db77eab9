#!/usr/bin/env bash
# README command 1: installs what is missing, builds, and shows the services.
#
#   scripts/run_stack.sh [--build-dir DIR] [--skip-deps] [CMAKE_ARG...]
#
# Skeleton stage: the services do not serve yet, so this only prints their
# configuration (--help). Later it starts a local PostgreSQL and both
# services and makes a few calls against them.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${TOLLGATE_BUILD_DIR:-build}"
args=("$@")
while (($#)); do
  case "$1" in
    --build-dir) build_dir="${2:?--build-dir needs a value}"; shift 2 ;;
    --build-dir=*) build_dir="${1#*=}"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) shift ;;
  esac
done
[[ "$build_dir" = /* ]] || build_dir="$root/$build_dir"

"$root/scripts/build.sh" "${args[@]}"

for service in auth_service sum_service; do
  echo
  echo "== $service --help"
  "$build_dir/$service/$service" --help
done
echo
echo "run_stack: the services are a skeleton (every RPC answers UNIMPLEMENTED);"
echo "run_stack: starting PostgreSQL and both services comes with the next issues."
