#!/usr/bin/env bash
# Installs missing packages, configures and builds everything (servers, tests,
# benchmarks) into one build directory.
#
#   scripts/build.sh [--build-dir DIR] [--skip-deps] [CMAKE_ARG...]
#
# Environment (flags win):
#   TOLLGATE_BUILD_DIR   build directory, relative to the repository  [build]
#   TOLLGATE_BUILD_TYPE  CMAKE_BUILD_TYPE                              [RelWithDebInfo]
#   TOLLGATE_CMAKE_ARGS  extra cmake arguments, split on spaces        []
#   TOLLGATE_JOBS        parallel build jobs                           [nproc]
#   TOLLGATE_SKIP_DEPS   1: do not run install_deps.sh                 [0]
#   TOLLGATE_TARGETS     targets to build, split on spaces             [all]
# Example, the sanitizer build:
#   scripts/build.sh --build-dir build-asan -DTOLLGATE_SANITIZE=ON
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${TOLLGATE_BUILD_DIR:-build}"
skip_deps="${TOLLGATE_SKIP_DEPS:-0}"
read -r -a cmake_args <<<"${TOLLGATE_CMAKE_ARGS:-}"
while (($#)); do
  case "$1" in
    --build-dir) build_dir="${2:?--build-dir needs a value}"; shift 2 ;;
    --build-dir=*) build_dir="${1#*=}"; shift ;;
    --skip-deps) skip_deps=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) cmake_args+=("$1"); shift ;;
  esac
done
[[ "$build_dir" = /* ]] || build_dir="$root/$build_dir"

if [[ "$skip_deps" != 1 ]]; then
  "$root/scripts/install_deps.sh"
fi

# Keep the generator of an existing build directory: cmake refuses to switch.
generator=()
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  if command -v ninja >/dev/null; then generator=(-G Ninja); else generator=(-G "Unix Makefiles"); fi
fi

cmake -S "$root" -B "$build_dir" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE="${TOLLGATE_BUILD_TYPE:-RelWithDebInfo}" "${cmake_args[@]}"
read -r -a targets <<<"${TOLLGATE_TARGETS:-}"
target_args=()
((${#targets[@]} == 0)) || target_args=(--target "${targets[@]}")
cmake --build "$build_dir" --parallel "${TOLLGATE_JOBS:-$(nproc)}" "${target_args[@]}"
