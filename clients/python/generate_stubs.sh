#!/usr/bin/env bash
# Generates the Python protobuf and gRPC modules of tollgate's .proto files
# into OUT_DIR (tollgate/auth/v1/auth_pb2.py, auth_pb2_grpc.py, ...), with
# Debian's protoc and grpc_python_plugin (packages protobuf-compiler and
# protobuf-compiler-grpc). tollgate_client imports them from sys.path, so
# put OUT_DIR on PYTHONPATH. The build runs this into
# build/clients/python/generated.
#
#   clients/python/generate_stubs.sh OUT_DIR
set -euo pipefail

out_dir="${1:?usage: generate_stubs.sh OUT_DIR}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
plugin="${GRPC_PYTHON_PLUGIN:-$(command -v grpc_python_plugin || true)}"
if [[ -z "$plugin" ]]; then
  echo "generate_stubs: grpc_python_plugin not found (Debian: apt-get install protobuf-compiler-grpc)" >&2
  exit 1
fi

protos=(tollgate/access.proto tollgate/auth/v1/auth.proto tollgate/sum/v1/sum.proto)
mkdir -p "$out_dir"
protoc -I "$root/proto" \
  --python_out="$out_dir" \
  --grpc_python_out="$out_dir" \
  --plugin=protoc-gen-grpc_python="$plugin" \
  "${protos[@]}"
