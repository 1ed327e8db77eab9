#!/usr/bin/python3
"""RSS of a service holding idle HTTP/2 connections, with and without the
idle-connection limit. Prints a table; asserts nothing (a benchmark, not a
test). Builds nothing.

    bench/idle_connections.py BUILD_DIR [--connections=500] [--idle=5]
        [--auth-database-url=postgresql://...]

For each service (sum_service always; auth_service when a database URL is
given) and each setting of *_MAX_CONNECTION_IDLE (0 = no limit, the old
behaviour; then --idle seconds), it starts the binary on 127.0.0.1:0, reads
its RSS (VmRSS), opens --connections TCP connections that each send only the
HTTP/2 client preface and an empty SETTINGS frame (and acknowledge the
server's SETTINGS, as a client must), reads the RSS again, waits --idle plus
3 seconds, counts the connections the server has closed and reads the RSS,
then opens a second batch as large and reads the RSS once more (without the
limit both batches stay open; with it, memory of the closed batch is
reused), then stops the service with SIGTERM (by its PID). Everything runs
on 127.0.0.1; nothing is left running.
"""
import argparse
import os
import re
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SECRET = "idle-connections-bench-secret-0123456789abcdef"


def frame(frame_type, flags, stream_id, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([frame_type, flags]) + \
        struct.pack(">I", stream_id) + payload


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def start(binary, env):
    process = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        found = re.search(r"listening on port (\d+)", line)
        if found:
            return process, int(found.group(1))
    process.kill()
    raise RuntimeError(f"{binary} did not start")


def open_idle(port, count):
    connections = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(PREFACE + frame(0x4, 0, 0))
        sock.sendall(frame(0x4, 0x1, 0))  # ACK of the server's SETTINGS
        connections.append(sock)
    return connections


def count_closed(connections):
    closed = 0
    for sock in connections:
        # Drain what the server sent (SETTINGS, GOAWAY); EOF means closed.
        while True:
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                break
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                closed += 1
                break
    return closed


def measure(name, binary, env, connections, idle):
    process, port = start(binary, env)
    try:
        time.sleep(1)
        before = rss_kib(process.pid)
        socks = open_idle(port, connections)
        time.sleep(2)
        with_open = rss_kib(process.pid)
        wait = idle + 3 if idle > 0 else 8
        time.sleep(wait)
        closed = count_closed(socks)
        after = rss_kib(process.pid)
        second = open_idle(port, connections)
        time.sleep(2)
        with_second = rss_kib(process.pid)
        for sock in socks + second:
            sock.close()
        return (name, "off" if idle == 0 else f"{idle} s", before, with_open, wait,
                len(socks) - closed, after, with_second)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("build_dir")
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--idle", type=int, default=5)
    parser.add_argument("--auth-database-url", default="")
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2 * args.connections + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 2 * args.connections + 64), hard))

    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "JWT_SECRET_KEY": SECRET}
    services = [("sum_service", os.path.join(args.build_dir, "sum_service/sum_service"), "SUM",
                 {"SUM_LISTEN": "127.0.0.1:0"})]
    if args.auth_database_url:
        services.append(("auth_service", os.path.join(args.build_dir, "auth_service/auth_service"),
                         "AUTH", {"AUTH_LISTEN": "127.0.0.1:0",
                                  "AUTH_DATABASE_URL": args.auth_database_url,
                                  "AUTH_SESSION_PURGE_INTERVAL": "0"}))
    rows = []
    for name, binary, prefix, extra in services:
        for idle in (0, args.idle):
            env = dict(base, **extra)
            env[f"{prefix}_MAX_CONNECTION_IDLE"] = str(idle)
            rows.append(measure(name, binary, env, args.connections, idle))

    n = args.connections
    print(f"| service | max idle | RSS before | RSS with {n} open | wait | still open | "
          f"RSS after the wait | RSS with {n} more |")
    print("|---|---|--:|--:|--:|--:|--:|--:|")
    mib = lambda kib: f"{kib / 1024:.1f} MiB"
    for name, idle, before, with_open, wait, still_open, after, with_second in rows:
        print(f"| {name} | {idle} | {mib(before)} | {mib(with_open)} "
              f"(+{(with_open - before) / 1024:.1f}) | {wait} s | {still_open} | {mib(after)} | "
              f"{mib(with_second)} |")


if __name__ == "__main__":
    sys.exit(main())
