#!/usr/bin/python3
"""The checks of compose_scale_test, against the running scale-out stack.

  scale_checks.py   (run by scripts/compose_scale_test.sh, which starts the
                     stack, exports the variables below and removes it)

Every call goes through the balancer's published gRPC ports; what each
replica did is read from its own /metrics (grpc_server_handled_total and
tollgate_* counters), the balancer's view from its /stats;csv. Checks, each
with exact numbers:

1. spread: Sum, Login and Refresh calls on ONE channel (one HTTP/2
   connection) land on both replicas of their service, and the replicas'
   counts add up to the calls made;
2. race: 50 Refreshes of one token at once mint exactly one successor;
3. rotation: AuthService rolled, one replica at a time, onto a new ES256 key
   listed first (old one second); a login signs with the new key and both
   SumService replicas fetch it (one GetJwks each) and accept it;
4. lost reply: a Refresh whose spend committed while its replica was frozen
   (podman pause), the replica then killed: the client's call fails, its
   retry through the balancer within the grace window gets that very
   successor from the other replica, and the session lives on;
5. kill under load: 8 threads of Sum and 8 sessions refreshing in a loop;
   one replica of each service killed: failed calls <= the calls in flight
   (8 of each), every failed Refresh retried within the grace window
   succeeds, the load goes on OK on the survivors, every session's final
   token still refreshes (no reuse detected).

Environment: TOLLGATE_AUTH_PORT, TOLLGATE_SUM_PORT (the balancer),
TOLLGATE_BALANCER_STATS_PORT, TOLLGATE_{AUTH1,AUTH2,SUM1,SUM2}_HTTP_PORT,
TOLLGATE_DB_PASSWORD, TOLLGATE_IMAGE, SCALE_PROJECT, SCALE_COMPOSE_FILE;
the generated stubs (tollgate.auth.v1.auth_pb2, ...) on PYTHONPATH.
"""
import base64
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request

import grpc

from tollgate.auth.v1 import auth_pb2, auth_pb2_grpc
from tollgate.sum.v1 import sum_pb2, sum_pb2_grpc

ENV = os.environ
PROJECT = ENV["SCALE_PROJECT"]
AUTH_ADDR = "127.0.0.1:" + ENV["TOLLGATE_AUTH_PORT"]
SUM_ADDR = "127.0.0.1:" + ENV["TOLLGATE_SUM_PORT"]
STATS_URL = f"http://127.0.0.1:{ENV['TOLLGATE_BALANCER_STATS_PORT']}/stats;csv"
HTTP_PORTS = {
    "auth-1": ENV["TOLLGATE_AUTH1_HTTP_PORT"], "auth-2": ENV["TOLLGATE_AUTH2_HTTP_PORT"],
    "sum-1": ENV["TOLLGATE_SUM1_HTTP_PORT"], "sum-2": ENV["TOLLGATE_SUM2_HTTP_PORT"],
}
AUTH_REPLICAS = ("auth-1", "auth-2")
SUM_REPLICAS = ("sum-1", "sum-2")
PASSWORD = "correct horse battery staple 7"
GRACE_SECONDS = 10  # AUTH_REFRESH_GRACE's default: the stack does not set it

failures = []


def say(message):
    print(f"compose_scale_test: {message}", flush=True)


def check(condition, message):
    if not condition:
        failures.append(message)
        print(f"compose_scale_test: FAILED: {message}", file=sys.stderr, flush=True)
    return condition


def require(condition, message):
    """A check the next steps cannot do without."""
    if not check(condition, message):
        raise SystemExit(1)


def container(service):
    return f"{PROJECT}_{service}_1"


def podman(*args, timeout=60):
    done = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)}: exit {done.returncode}: {done.stderr.strip()}")
    return done.stdout.strip()


# --- what the replicas and the balancer say --------------------------------

METRIC_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([0-9.eE+-]+|NaN)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(replica):
    """{(name, frozenset(labels)): value} of the replica's /metrics."""
    url = f"http://127.0.0.1:{HTTP_PORTS[replica]}/metrics"
    with urllib.request.urlopen(url, timeout=5) as reply:
        text = reply.read().decode()
    samples = {}
    for line in text.splitlines():
        match = METRIC_LINE.match(line)
        if match:
            labels = frozenset(LABEL.findall(match.group(2) or ""))
            samples[(match.group(1), labels)] = float(match.group(3))
    return samples


def value(samples, name, **labels):
    """The sum of the series of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, l), v in samples.items() if n == name and wanted <= l)


def handled(samples, method, code="OK"):
    return int(value(samples, "grpc_server_handled_total", grpc_method=method, grpc_code=code))


def scrape_all(replicas):
    return {r: scrape(r) for r in replicas}


def balancer_status():
    """{(backend, server): status} from HAProxy's /stats;csv."""
    with urllib.request.urlopen(STATS_URL, timeout=5) as reply:
        text = reply.read().decode().lstrip("# ")
    return {(row["pxname"], row["svname"]): row["status"] for row in csv.DictReader(io.StringIO(text))}


def wait_balancer(backend, server, wanted, timeout=30):
    """Waits until the balancer reports `server` of `backend` with a status
    starting with `wanted` (a prefix or a tuple of them: UP, DOWN, MAINT);
    returns seconds waited."""
    started = time.monotonic()
    status = None
    while time.monotonic() - started < timeout:
        try:
            status = balancer_status().get((backend, server))
        except OSError as error:
            status = f"stats unreachable: {error}"
        if status and status.startswith(wanted):
            return time.monotonic() - started
        time.sleep(0.2)
    require(False, f"the balancer never reported {backend}/{server} {wanted} within {timeout}s (last: {status})")


def wait_ready(replica, timeout=90):
    url = f"http://127.0.0.1:{HTTP_PORTS[replica]}/readyz"
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    require(False, f"{replica}: /readyz not 200 within {timeout}s")


# --- calls through the balancer --------------------------------------------------


class Client:
    """Stubs on one channel each to the balancer's two gRPC ports."""

    def __init__(self):
        self.auth_channel = grpc.insecure_channel(AUTH_ADDR)
        self.sum_channel = grpc.insecure_channel(SUM_ADDR)
        self.auth = auth_pb2_grpc.AuthServiceStub(self.auth_channel)
        self.sum = sum_pb2_grpc.SumServiceStub(self.sum_channel)

    def close(self):
        self.auth_channel.close()
        self.sum_channel.close()

    def login(self, email, timeout=10):
        return self.auth.Login(auth_pb2.LoginRequest(email=email, password=PASSWORD), timeout=timeout)

    def refresh(self, token, timeout=10):
        return self.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=token), timeout=timeout)

    def add(self, access_token, a, b, timeout=10):
        return self.sum.Sum(sum_pb2.SumRequest(a=a, b=b), timeout=timeout,
                            metadata=[("authorization", "Bearer " + access_token)])


def code_of(call):
    """grpc.StatusCode of a finished call: OK, or the RpcError's code."""
    try:
        call()
        return grpc.StatusCode.OK
    except grpc.RpcError as error:
        return error.code()


def token_hash_hex(token):
    return hashlib.sha256(token.encode()).hexdigest()


def jwt_header(token):
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def psql(sql):
    """One statement in the stack's database, as the tollgate role."""
    return podman("exec", "-e", f"PGPASSWORD={ENV['TOLLGATE_DB_PASSWORD']}", container("postgres"),
                  "psql", "-h", "127.0.0.1", "-U", "tollgate", "-d", "tollgate", "-qAtX",
                  "-v", "ON_ERROR_STOP=1", "-c", sql)


def deltas(before, after, replicas, method, code="OK"):
    return {r: handled(after[r], method, code) - handled(before[r], method, code) for r in replicas}


def scrape_settled(before, replicas, counted):
    """Scrapes `replicas` until `counted(after)` holds, for up to 3 s: a
    replica counts a call once it has finished it, which may be a moment
    after its client has the reply. Returns the last scrape."""
    deadline = time.monotonic() + 3
    after = scrape_all(replicas)
    while not counted(after) and time.monotonic() < deadline:
        time.sleep(0.1)
        after = scrape_all(replicas)
    return after


# --- 1. spread ------------------------------------------------------------------------


def check_spread(client, email):
    n_sum, n_login, n_refresh = 40, 10, 10
    before = scrape_all(AUTH_REPLICAS + SUM_REPLICAS)
    session = None
    for _ in range(n_login):
        session = client.login(email)
    token = session.refresh_token
    for _ in range(n_refresh):
        token = client.refresh(token).refresh_token
    for i in range(n_sum):
        check(client.add(session.access_token, i, 1000).result == i + 1000, f"Sum({i}, 1000)")
    plan = (("Sum", SUM_REPLICAS, n_sum), ("Login", AUTH_REPLICAS, n_login), ("Refresh", AUTH_REPLICAS, n_refresh))
    after = scrape_settled(before, AUTH_REPLICAS + SUM_REPLICAS, lambda a: all(
        sum(deltas(before, a, replicas, method).values()) >= calls for method, replicas, calls in plan))
    for method, replicas, calls in (("Sum", SUM_REPLICAS, n_sum), ("Login", AUTH_REPLICAS, n_login),
                                    ("Refresh", AUTH_REPLICAS, n_refresh)):
        counts = deltas(before, after, replicas, method)
        say(f"spread: {calls} {method} calls on one channel: {counts}")
        check(sum(counts.values()) == calls, f"spread: {method}: replicas count {counts}, {calls} made")
        check(all(c > 0 for c in counts.values()), f"spread: {method}: a replica got none: {counts}")
    return session


# --- 2. race --------------------------------------------------------------------------


def check_race(email):
    racers = 50
    client = Client()
    token = client.login(email).refresh_token
    before = scrape_all(AUTH_REPLICAS)
    # A few connections to the balancer, so that the calls also race there.
    clients = [Client() for _ in range(5)]
    barrier = threading.Barrier(racers)
    results = [None] * racers

    def racer(i):
        barrier.wait()
        try:
            results[i] = (grpc.StatusCode.OK, clients[i % len(clients)].refresh(token).refresh_token)
        except grpc.RpcError as error:
            results[i] = (error.code(), error.details())

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    after = scrape_settled(before, AUTH_REPLICAS, lambda a: sum(deltas(before, a, AUTH_REPLICAS, "Refresh").values())
                           + sum(deltas(before, a, AUTH_REPLICAS, "Refresh", "Unauthenticated").values()) >= racers)
    ok_tokens = {r[1] for r in results if r and r[0] == grpc.StatusCode.OK}
    codes = {}
    for r in results:
        name = r[0].name if r else "NO ANSWER"
        codes[name] = codes.get(name, 0) + 1
    served = deltas(before, after, AUTH_REPLICAS, "Refresh")
    denied = deltas(before, after, AUTH_REPLICAS, "Refresh", "Unauthenticated")
    say(f"race: {racers} Refreshes of one token: {codes}, {len(ok_tokens)} distinct successor(s); "
        f"OK per replica {served}, UNAUTHENTICATED per replica {denied}")
    check(set(codes) <= {"OK", "UNAUTHENTICATED"}, f"race: answers other than OK or UNAUTHENTICATED: {codes}")
    check(codes.get("OK", 0) >= 1, f"race: no Refresh succeeded: {codes}")
    check(len(ok_tokens) == 1, f"race: {len(ok_tokens)} different successors minted")
    check(sum(served.values()) + sum(denied.values()) == racers,
          f"race: the replicas answered {served} OK and {denied} UNAUTHENTICATED, {racers} sent")
    check(all(served[r] + denied[r] > 0 for r in AUTH_REPLICAS), f"race: one replica got none: {served}")
    if ok_tokens:
        successor = next(iter(ok_tokens))
        check(code_of(lambda: client.refresh(successor)) == grpc.StatusCode.OK,
              "race: the one successor does not refresh (session revoked?)")
    reuse = {r: value(after[r], "tollgate_refresh_reuse_detected_total")
             - value(before[r], "tollgate_refresh_reuse_detected_total") for r in AUTH_REPLICAS}
    check(all(v == 0 for v in reuse.values()), f"race: reuse detected: {reuse}")
    for c in clients + [client]:
        c.close()


# --- 3. rotation ------------------------------------------------------------------------


def jwks_kids(replica):
    url = f"http://127.0.0.1:{HTTP_PORTS[replica]}/.well-known/jwks.json"
    with urllib.request.urlopen(url, timeout=5) as reply:
        return [k["kid"] for k in json.load(reply)["keys"]]


def restart_auth(replica, signing_keys):
    """Stops the replica gracefully (SIGTERM, drain) and starts it again
    with AUTH_SIGNING_KEYS = signing_keys; waits until it is ready and the
    balancer has it UP again."""
    podman("rm", "-f", "-t", "15", container(replica), timeout=60)
    env = dict(ENV, TOLLGATE_SIGNING_KEYS=signing_keys)
    done = subprocess.run(["podman-compose", "-p", PROJECT, "-f", ENV["SCALE_COMPOSE_FILE"], "up", "-d",
                           "--no-build", replica], env=env, capture_output=True, text=True, timeout=120)
    require(podman("container", "exists", container(replica)) == "",
            f"podman-compose up {replica}: {done.stderr[-400:]}")
    wait_ready(replica)
    return wait_balancer("auth", replica, "UP")


def check_rotation(client, email, old_access_token):
    old_kids = jwks_kids("auth-1")
    require(len(old_kids) == 1, f"rotation: before, the JWKS has {old_kids}")
    podman("run", "--rm", "-v", f"{PROJECT}_keys:/keys", ENV["TOLLGATE_IMAGE"], "sh", "-c",
           "umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
           "-out /keys/signing-key-2.pem")
    keys = "/keys/signing-key-2.pem,/keys/signing-key.pem"
    for replica in AUTH_REPLICAS:
        started = time.monotonic()
        back_in = restart_auth(replica, keys)
        say(f"rotation: {replica} restarted with the new key first, ready and UP in the balancer "
            f"after {time.monotonic() - started:.1f}s")
    kids = {r: jwks_kids(r) for r in AUTH_REPLICAS}
    new_kids = [k for k in kids["auth-1"] if k not in old_kids]
    check(len(new_kids) == 1 and sorted(kids["auth-1"]) == sorted(kids["auth-2"]) == sorted(old_kids + new_kids),
          f"rotation: the replicas publish {kids}, not the old key {old_kids} and one new key")
    ENV["TOLLGATE_SIGNING_KEYS"] = keys  # a replica started again later gets the same keys

    before = scrape_all(SUM_REPLICAS)
    session = client.login(email)
    kid = jwt_header(session.access_token).get("kid")
    check(kid in new_kids, f"rotation: the login's token is signed with kid {kid}, not the new key {new_kids}")
    codes = [code_of(lambda: client.add(session.access_token, 1, 2)) for _ in range(10)]
    check(codes == [grpc.StatusCode.OK] * 10, f"rotation: Sums with the new key: {codes}")
    # Tokens of the old key verify until they expire.
    check(code_of(lambda: client.add(old_access_token, 2, 2)) == grpc.StatusCode.OK,
          "rotation: a token of the old key is refused")
    after = scrape_settled(before, SUM_REPLICAS, lambda a: sum(deltas(before, a, SUM_REPLICAS, "Sum").values()) >= 11)
    sums = deltas(before, after, SUM_REPLICAS, "Sum")
    fetches = {r: value(after[r], "tollgate_jwks_fetch_total", result="ok")
               - value(before[r], "tollgate_jwks_fetch_total", result="ok") for r in SUM_REPLICAS}
    say(f"rotation: 11 Sums through the balancer: {sums}; GetJwks fetches: {fetches}")
    check(sum(sums.values()) == 11 and all(v > 0 for v in sums.values()), f"rotation: Sums per replica {sums}")
    # Each replica fetched once, at the first token naming the new kid (the
    # background fetch comes every 5 minutes, after this test is over).
    check(fetches == {r: 1 for r in SUM_REPLICAS}, f"rotation: GetJwks fetches per SumService replica {fetches}")


# --- 4. lost reply ------------------------------------------------------------------------


def replica_with_address(address):
    for replica in AUTH_REPLICAS:
        ip = podman("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", container(replica))
        if ip == address:
            return replica
    return None


def check_lost_reply(client, email):
    token = client.login(email).refresh_token
    token_hash = token_hash_hex(token)
    row = f"refresh_tokens WHERE token_hash = decode('{token_hash}', 'hex')"
    # The test holds the token's row: the Refresh that comes next waits for it
    # inside PostgreSQL, on whichever replica the balancer picked.
    holder = subprocess.Popen(
        ["podman", "exec", "-i", "-e", f"PGPASSWORD={ENV['TOLLGATE_DB_PASSWORD']}",
         "-e", "PGAPPNAME=scale-test-holder", container("postgres"),
         "psql", "-h", "127.0.0.1", "-U", "tollgate", "-d", "tollgate", "-qAtX"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        holder.stdin.write(f"BEGIN;\nSELECT 1 FROM {row} FOR UPDATE;\n")
        holder.stdin.flush()
        deadline = time.monotonic() + 20
        while psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'scale-test-holder' "
                   "AND state = 'idle in transaction'") != "1":
            require(time.monotonic() < deadline, "lost reply: the test could not lock the token's row")
            time.sleep(0.1)

        outcome = {}
        first = threading.Thread(target=lambda: outcome.update(code=code_of(lambda: client.refresh(token, timeout=4))))
        first.start()
        waiting = ""
        deadline = time.monotonic() + 10
        while not waiting:
            require(time.monotonic() < deadline, "lost reply: the Refresh never waited for the row lock")
            waiting = psql("SELECT host(client_addr) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND application_name <> 'scale-test-holder' LIMIT 1")
            time.sleep(0.05)
        victim = replica_with_address(waiting)
        require(victim is not None, f"lost reply: the waiting backend's client {waiting} is no AuthService replica")
        survivor = [r for r in AUTH_REPLICAS if r != victim][0]
        before = scrape(survivor)
        # Frozen, the replica cannot read PostgreSQL's answer, let alone send
        # the reply; PostgreSQL commits the spend all the same.
        podman("pause", container(victim))
        holder.stdin.write("COMMIT;\n")
        holder.stdin.close()
        holder.wait(20)
    finally:
        if holder.poll() is None:
            holder.kill()
    deadline = time.monotonic() + 10
    while psql(f"SELECT used_at IS NOT NULL FROM {row}") != "t":
        require(time.monotonic() < deadline, "lost reply: the spend never committed")
        time.sleep(0.05)
    committed = time.monotonic()
    minted = psql(f"SELECT encode(token_hash, 'hex') FROM refresh_tokens WHERE family_id = "
                  f"(SELECT family_id FROM {row}) AND token_hash <> decode('{token_hash}', 'hex')").split()
    require(len(minted) == 1, f"lost reply: the spend minted {len(minted)} successors")
    podman("kill", container(victim))
    say(f"lost reply: the Refresh reached {victim}, which was frozen, saw its spend commit, then was killed")
    first.join(15)
    check(outcome.get("code") not in (None, grpc.StatusCode.OK),
          f"lost reply: the first call got {outcome.get('code')}, not a failure")
    # Out of the balancer: DOWN (failed checks) or MAINT (its name no longer
    # resolves).
    down_after = wait_balancer("auth", victim, ("DOWN", "MAINT"), timeout=15)
    retry_at = time.monotonic() - committed
    try:
        retried = client.refresh(token, timeout=4)
        retry_code = grpc.StatusCode.OK
    except grpc.RpcError as error:
        retried, retry_code = None, error.code()
    after = scrape_settled({survivor: before}, (survivor,), lambda a: handled(a[survivor], "Refresh")
                           > handled(before, "Refresh"))[survivor]
    say(f"lost reply: first call {outcome.get('code')}; the balancer took {victim} out "
        f"{down_after:.1f}s after the kill; retry {retry_at:.1f}s after the commit: {retry_code.name} "
        f"from {survivor}")
    check(retry_at < GRACE_SECONDS, f"lost reply: the retry came {retry_at:.1f}s after the commit, past the grace")
    check(retry_code == grpc.StatusCode.OK, f"lost reply: the retry got {retry_code}")
    if retried is not None:
        check(token_hash_hex(retried.refresh_token) == minted[0],
              "lost reply: the retry got another successor than the one the killed replica minted")
        check(code_of(lambda: client.refresh(retried.refresh_token)) == grpc.StatusCode.OK,
              "lost reply: the successor does not refresh: the session was lost")
    final = scrape(survivor)
    check(handled(after, "Refresh") - handled(before, "Refresh") == 1,
          f"lost reply: {survivor} answered {handled(after, 'Refresh') - handled(before, 'Refresh')} Refreshes OK, not the 1 retry")
    check(value(final, "tollgate_refresh_reuse_detected_total") == value(before, "tollgate_refresh_reuse_detected_total"),
          "lost reply: the retry counted as reuse")
    return victim


# --- 5. kill under load ----------------------------------------------------------------------


class Load:
    """Threads calling in a loop until stop(); every call recorded as
    (started, finished, code) in monotonic seconds."""

    def __init__(self):
        self.stopping = threading.Event()
        self.threads = []
        self.lock = threading.Lock()
        self.sums = []      # (started, finished, code)
        self.refreshes = []  # (started, finished, code)
        self.sessions = []  # per session: {"token", "failed": [...], "retried_ok": bool}

    def add_sum_thread(self, access_token):
        client = Client()

        def run():
            i = 0
            while not self.stopping.is_set():
                started = time.monotonic()
                code = code_of(lambda: client.add(access_token, i, 1, timeout=3))
                with self.lock:
                    self.sums.append((started, time.monotonic(), code))
                i += 1
                time.sleep(0.01)
            client.close()

        self.threads.append(threading.Thread(target=run))

    def add_refresh_session(self, refresh_token):
        client = Client()
        session = {"token": refresh_token, "failed": [], "retry_gave_up": False}
        self.sessions.append(session)

        def run():
            while not self.stopping.is_set():
                started = time.monotonic()
                try:
                    session["token"] = client.refresh(session["token"], timeout=3).refresh_token
                    code = grpc.StatusCode.OK
                except grpc.RpcError as error:
                    code = error.code()
                with self.lock:
                    self.refreshes.append((started, time.monotonic(), code))
                if code != grpc.StatusCode.OK:
                    # The client's retry: the same token, within the grace window.
                    session["failed"].append(code.name)
                    while True:
                        time.sleep(0.2)
                        if time.monotonic() - started > GRACE_SECONDS - 1:
                            session["retry_gave_up"] = True
                            client.close()
                            return
                        try:
                            session["token"] = client.refresh(session["token"], timeout=3).refresh_token
                            break
                        except grpc.RpcError as error:
                            session["failed"].append("retry " + error.code().name)
                time.sleep(0.05)
            client.close()

        self.threads.append(threading.Thread(target=run))

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(30)


def check_kill_under_load(client, email, access_token):
    threads = 8
    sessions = [client.login(email).refresh_token for _ in range(threads)]
    survivors = {"auth": "auth-2", "sum": "sum-2"}
    before = scrape_all(("auth-2", "sum-2"))
    load = Load()
    for _ in range(threads):
        load.add_sum_thread(access_token)
    for token in sessions:
        load.add_refresh_session(token)
    load.start()
    time.sleep(3)
    killed_at = time.monotonic()
    killers = [threading.Thread(target=podman, args=("kill", container(c))) for c in ("auth-1", "sum-1")]
    for k in killers:
        k.start()
    for k in killers:
        k.join()
    time.sleep(6)
    load.stop()

    def ok_after_kill(records):
        return sum(1 for r in records if r[0] > killed_at + 0.5 and r[2] == grpc.StatusCode.OK)

    after = scrape_settled(before, ("auth-2", "sum-2"), lambda a: (
        handled(a["sum-2"], "Sum") - handled(before["sum-2"], "Sum") >= ok_after_kill(load.sums)
        and handled(a["auth-2"], "Refresh") - handled(before["auth-2"], "Refresh") >= ok_after_kill(load.refreshes)))

    def tally(records):
        total = len(records)
        failed = [r for r in records if r[2] != grpc.StatusCode.OK]
        late = [r for r in records if r[0] > killed_at + 3]
        late_failed = [r for r in late if r[2] != grpc.StatusCode.OK]
        after_kill_ok = ok_after_kill(records)
        codes = {}
        for r in failed:
            codes[r[2].name] = codes.get(r[2].name, 0) + 1
        return total, failed, late, late_failed, after_kill_ok, codes

    for kind, records, method in (("Sum", load.sums, "Sum"), ("Refresh", load.refreshes, "Refresh")):
        total, failed, late, late_failed, after_kill_ok, codes = tally(records)
        survivor = survivors["sum" if kind == "Sum" else "auth"]
        served = handled(after[survivor], method) - handled(before[survivor], method)
        say(f"kill under load: {kind}: {total} calls, {total - len(failed)} OK, {len(failed)} failed {codes} "
            f"(at most {threads} in flight); {len(late)} started 3 s or more after the kill, "
            f"{len(late_failed)} of them failed; {survivor} answered {served} OK")
        check(len(failed) <= threads, f"kill under load: {kind}: {len(failed)} failed, more than the {threads} in flight")
        check(not late_failed, f"kill under load: {kind}: {len(late_failed)} calls failed 3 s after the kill")
        check(len(late) >= 20, f"kill under load: {kind}: only {len(late)} calls after the kill")
        check(served >= after_kill_ok, f"kill under load: {kind}: {survivor} answered {served}, "
                                       f"fewer than the {after_kill_ok} OK calls after the kill")
    gave_up = [s for s in load.sessions if s["retry_gave_up"]]
    failed_sessions = [s for s in load.sessions if s["failed"]]
    say(f"kill under load: {len(failed_sessions)} of {threads} sessions had a Refresh fail "
        f"({[s['failed'] for s in failed_sessions]}); each retried the same token")
    check(not gave_up, f"kill under load: {len(gave_up)} sessions found no successor within the grace window")
    final = [code_of(lambda: client.refresh(s["token"])) for s in load.sessions]
    check(final == [grpc.StatusCode.OK] * threads, f"kill under load: final refresh of each session: {final}")
    reuse = value(scrape("auth-2"), "tollgate_refresh_reuse_detected_total") - value(
        before["auth-2"], "tollgate_refresh_reuse_detected_total")
    check(reuse == 0, f"kill under load: {reuse} reuse detections")


def main():
    client = Client()
    email = f"scale.{os.getpid()}@example.com"
    client.auth.Register(auth_pb2.RegisterRequest(email=email, password=PASSWORD, first_name="Scale",
                                                  last_name="Test"), timeout=30)
    steps = []

    def step(name, function, *args):
        started = time.monotonic()
        result = function(*args)
        steps.append(f"{name} {time.monotonic() - started:.1f}s")
        return result

    session = step("spread", check_spread, client, email)
    step("race", check_race, email)
    step("rotation", check_rotation, client, email, session.access_token)
    victim = step("lost-reply", check_lost_reply, client, email)
    # The killed replica back, for the last check.
    podman("rm", "-f", container(victim))
    step("restart", restart_auth, victim, ENV["TOLLGATE_SIGNING_KEYS"])
    step("kill-under-load", check_kill_under_load, client, email, client.login(email).access_token)
    client.close()
    say("steps: " + ", ".join(steps))
    if failures:
        say(f"{len(failures)} check(s) failed:")
        for f in failures:
            print(f"  - {f}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as error:
        print(f"compose_scale_test: FAILED: {error}", file=sys.stderr)
        sys.exit(1)
