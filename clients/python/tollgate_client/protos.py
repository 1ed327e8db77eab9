"""The generated protobuf and gRPC modules of tollgate's .proto files.

They are not in the source tree: clients/python/generate_stubs.sh makes them
(the build puts them in build/clients/python/generated), and that folder
must be on sys.path (PYTHONPATH). Importing them here turns a missing folder
into an error that says what to do.
"""

try:
    from tollgate.auth.v1 import auth_pb2, auth_pb2_grpc
    from tollgate.sum.v1 import sum_pb2, sum_pb2_grpc
except ImportError as error:
    raise ImportError(
        "tollgate_client needs the generated gRPC modules (tollgate.auth.v1.auth_pb2, ...): "
        "run clients/python/generate_stubs.sh OUT_DIR (or build the project: "
        "build/clients/python/generated) and put that folder on PYTHONPATH") from error

__all__ = ["auth_pb2", "auth_pb2_grpc", "sum_pb2", "sum_pb2_grpc"]
