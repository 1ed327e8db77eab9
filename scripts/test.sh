#!/usr/bin/env bash
# README command 2: installs what is missing, builds everything and runs every
# test. Exits non-zero if anything fails.
#
#   scripts/test.sh [--build-dir DIR] [--skip-deps] [CMAKE_ARG...]
#
# Takes the options and environment of scripts/build.sh, plus:
#   TOLLGATE_TEST_TIMEOUT  seconds before ctest kills one test  [300]
#   TOLLGATE_TEST_JOBS     tests run in parallel                [nproc]
# Example, the sanitizer build:
#   scripts/test.sh --build-dir build-asan -DTOLLGATE_SANITIZE=ON
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

ctest --test-dir "$build_dir" --output-on-failure --no-tests=error \
  --timeout "${TOLLGATE_TEST_TIMEOUT:-300}" --parallel "${TOLLGATE_TEST_JOBS:-$(nproc)}"
