"""What the Python client tests know about the stack python_client_test
started: addresses and files from TOLLGATE_TEST_* variables (a missing one is
an error, never a skip), accounts, and the services' own call counters."""

import os
import re
import socket
import time
import urllib.request
import uuid

PASSWORD = "correct horse battery staple"
AUTH_SERVICE = "tollgate.auth.v1.AuthService"
SUM_SERVICE = "tollgate.sum.v1.SumService"


def setting(name):
    value = os.environ.get("TOLLGATE_TEST_" + name)
    if not value:
        raise RuntimeError(f"TOLLGATE_TEST_{name} is not set: run these tests through "
                           "python_client_test (ctest -R python_client)")
    return value


def auth_target():
    return setting("AUTH_TARGET")


def sum_target():
    return setting("SUM_TARGET")


def access_ttl_seconds():
    return int(setting("ACCESS_TTL"))


def new_email():
    return f"py-{uuid.uuid4().hex[:12]}@example.com"


def register(client, email=None):
    """Registers (and so logs in) a fresh account; its email."""
    email = email or new_email()
    client.register(email, PASSWORD, "Ada", "Lovelace")
    return email


_SAMPLE = re.compile(r'^(grpc_server_started_total|grpc_server_handled_total)\{([^}]*)\} (\S+)$')
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def _scrape(metrics_url):
    """(calls started, {(service, method, code): calls handled}) from /metrics."""
    with urllib.request.urlopen(metrics_url, timeout=10) as response:
        text = response.read().decode()
    started, handled = 0, {}
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match is None:
            continue
        labels, value = dict(_LABEL.findall(match.group(2))), int(float(match.group(3)))
        if match.group(1) == "grpc_server_started_total":
            started += value
        else:
            key = (labels["grpc_service"], labels["grpc_method"], labels["grpc_code"])
            handled[key] = handled.get(key, 0) + value
    return started, handled


def handled_calls(metrics_url):
    """grpc_server_handled_total by (service, method, code) once every call
    the service started has been counted as handled: a call is counted when
    it ends on the server, just after its reply left, so a scrape right
    after the reply could miss it."""
    deadline = time.monotonic() + 10
    while True:
        started, handled = _scrape(metrics_url)
        if started == sum(handled.values()) or time.monotonic() > deadline:
            return handled
        time.sleep(0.01)


class CallCounter:
    """Calls of one method that ended with `code` (go-grpc-prometheus's
    names: "OK", "Unauthenticated", ...) since construction."""

    def __init__(self, metrics_url, service, method, code="OK"):
        self._url = metrics_url
        self._key = (service, method, code)
        self._start = handled_calls(metrics_url).get(self._key, 0)

    def delta(self):
        return handled_calls(self._url).get(self._key, 0) - self._start


def auth_calls(method, code="OK"):
    return CallCounter(setting("AUTH_METRICS_URL"), AUTH_SERVICE, method, code)


def sum_calls(method, code="OK"):
    return CallCounter(setting("SUM_METRICS_URL"), SUM_SERVICE, method, code)


def unused_port():
    """A 127.0.0.1 port nothing listens on (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
