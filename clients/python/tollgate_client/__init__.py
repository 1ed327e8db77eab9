"""tollgate_client: a Python client for tollgate that keeps a session alive.

    from tollgate_client import Client
    from tollgate.sum.v1 import sum_pb2, sum_pb2_grpc

    with Client("127.0.0.1:50051") as client:
        client.login("demo@example.com", "correct horse battery staple")
        sums = client.stub(sum_pb2_grpc.SumServiceStub, "127.0.0.1:50052")
        print(client.call(sums.Sum, sum_pb2.SumRequest(a=40, b=2)).result)

See clients/python/README.md.
"""

from .client import DEFAULT_RENEW_THRESHOLD_SECONDS, Client
from .errors import (AbortedError, AlreadyExistsError, CancelledError, DataLossError,
                     DeadlineExceededError, FailedPreconditionError, InternalError,
                     InvalidArgumentError, NotFoundError, NotLoggedInError, OutOfRangeError,
                     PermissionDeniedError, ResourceExhaustedError, SessionEndedError,
                     TollgateError, UnauthenticatedError, UnavailableError, UnimplementedError,
                     UnknownError)
from .retry_policy import RetryPolicy
from .tls_options import TlsOptions
from .token_pair import TokenPair, decode_unverified_claims

__all__ = [
    "Client", "DEFAULT_RENEW_THRESHOLD_SECONDS", "RetryPolicy", "TlsOptions", "TokenPair",
    "decode_unverified_claims", "TollgateError", "AbortedError", "AlreadyExistsError",
    "CancelledError", "DataLossError", "DeadlineExceededError", "FailedPreconditionError",
    "InternalError", "InvalidArgumentError", "NotFoundError", "NotLoggedInError",
    "OutOfRangeError", "PermissionDeniedError", "ResourceExhaustedError", "SessionEndedError",
    "UnauthenticatedError", "UnavailableError", "UnimplementedError", "UnknownError",
]
