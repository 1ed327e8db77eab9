#!/usr/bin/env bash
# Installs every Debian 12 package that tollgate needs to build, test and run,
# and only those that are missing: a machine that has them all is left alone
# (no `apt-get update`, no network). Run as root, or as a user with sudo.
#
#   scripts/install_deps.sh [--build-only]
#
#   --build-only  only what compiling the binaries needs (the container image's
#                 build stage): no database, fuzzing, Python or load tools
set -euo pipefail

BUILD_PACKAGES=(
  # toolchain and build
  build-essential cmake ninja-build pkg-config git openssl ccache
  # gRPC, protobuf and the libraries the code links
  libgrpc++-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  libpqxx-dev libsodium-dev nlohmann-json3-dev libabsl-dev libssl-dev libcurl4-openssl-dev
  libicu-dev
  # the HTTP side port (/healthz, /readyz, /metrics, JWKS) and its metrics
  libcpp-httplib-dev prometheus-cpp-dev
  # tests (CMake configures them with everything else)
  libgtest-dev googletest libgmock-dev
)
PACKAGES=(
  "${BUILD_PACKAGES[@]}"
  # benchmarks
  libbenchmark-dev
  nghttp2-client curl python3-fastapi python3-uvicorn
  # the deployment files' offline checks (tests/deploy)
  python3-yaml docker-compose
  # the SMTP server the mail tests talk to (tests/support/smtp_sink.py)
  python3-aiosmtpd
  # the database: a throwaway cluster per integration test, and the local stack
  postgresql-15 postgresql-client-15
  # fuzzing and sanitizer builds (clang's libFuzzer and runtime libraries)
  clang-14 libclang-rt-14-dev
  # the Python client (clients/python) and its tests; its gRPC modules come
  # from protoc with grpc_python_plugin (protobuf-compiler-grpc, above)
  python3 python3-grpcio python3-protobuf python3-jwt python3-cryptography
)

case "${1:-}" in
  --build-only) PACKAGES=("${BUILD_PACKAGES[@]}") ;;
  "") ;;
  -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "install_deps: unknown option $1" >&2; exit 2 ;;
esac

if ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
  echo "install_deps: needs apt-get and dpkg-query (Debian 12)" >&2
  exit 1
fi
if [[ -r /etc/os-release ]] && ! grep -qx 'VERSION_ID="12"' /etc/os-release; then
  echo "install_deps: warning: written for Debian 12; package names may differ here" >&2
fi

missing=()
for package in "${PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)"
  [[ "$status" == installed ]] || missing+=("$package")
done

# Node.js and npm for the Node example client (clients/node, its test runs
# `npm ci` and `node --test`): any node >= 18 on PATH will do (for example
# NodeSource's, which bundles npm); Debian's packages when there is none.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)

if ((${#missing[@]} == 0)); then
  echo "install_deps: all ${#PACKAGES[@]} packages are installed"
  exit 0
fi

as_root=()
if [[ "$(id -u)" -ne 0 ]]; then
  if ! command -v sudo >/dev/null; then
    echo "install_deps: missing ${missing[*]}; run as root to install them" >&2
    exit 1
  fi
  as_root=(sudo)
fi

echo "install_deps: installing ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"
