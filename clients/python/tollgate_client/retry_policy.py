"""Retries with exponential backoff for calls that end UNAVAILABLE.

UNAVAILABLE is the one code gRPC defines as "try again": no connection, the
server stopping (it answers UNAVAILABLE once its port is closed), or a
database outage behind AuthService. Nothing else is retried: a call that
ended DEADLINE_EXCEEDED or with a server error may have run.
"""

import logging
import random
import time
from dataclasses import dataclass, field
from typing import Callable

import grpc

logger = logging.getLogger("tollgate_client")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently an UNAVAILABLE call is tried again.

    The n-th retry (n = 0, 1, ...) waits
    min(max_backoff_seconds, initial_backoff_seconds * multiplier ** n),
    scaled by a random factor in [1 - jitter, 1 + jitter] so that clients
    cut off together do not come back together. retries=0 turns retrying
    off. `sleep` is what waits (tests pass one that records).
    """

    retries: int = 3
    initial_backoff_seconds: float = 0.1
    max_backoff_seconds: float = 2.0
    multiplier: float = 2.0
    jitter: float = 0.2
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def __post_init__(self):
        if self.retries < 0:
            raise ValueError("retries must be >= 0")
        if self.initial_backoff_seconds <= 0 or self.max_backoff_seconds < self.initial_backoff_seconds:
            raise ValueError("need 0 < initial_backoff_seconds <= max_backoff_seconds")
        if self.multiplier < 1 or not 0 <= self.jitter < 1:
            raise ValueError("need multiplier >= 1 and 0 <= jitter < 1")

    def backoff_seconds(self, retry_number):
        base = min(self.max_backoff_seconds,
                   self.initial_backoff_seconds * self.multiplier ** retry_number)
        return base * random.uniform(1 - self.jitter, 1 + self.jitter)

    def run(self, attempt, description):
        """attempt() until it does not raise an UNAVAILABLE grpc.RpcError, at
        most retries + 1 times; the last error is raised as is."""
        retry_number = 0
        while True:
            try:
                return attempt()
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE or retry_number == self.retries:
                    raise
                details = error.details()
            delay = self.backoff_seconds(retry_number)
            retry_number += 1
            logger.warning("%s: UNAVAILABLE (%s), retry %d of %d in %.3f s", description,
                           details, retry_number, self.retries, delay)
            self.sleep(delay)
