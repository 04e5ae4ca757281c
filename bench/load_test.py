#!/usr/bin/env python3
"""A bounded load test of sd-worker's HTTP API: a mix of clients for N seconds, then checks.

It starts the real server itself (tests/clients/sdw_server.py: 127.0.0.1, an ephemeral
port, a small queue so that 429s happen) and talks to nothing else: every connection
goes to HOST, which must be a loopback address and the server's own. For --seconds (and
at most --max-requests requests) --clients threads each pick, at random, one of:

  submit      POST /v1/jobs, a valid small txt2img (sd-shapes, 64x64, 1-4 steps): 202 or 429
  subscribe   GET /v1/jobs/{id}/stream of an accepted job, read to the end: exactly one
              terminal event, then [DONE], then the server closes
  slow        a raw socket on a stream that reads a few bytes per second (small receive
              buffer), or never reads, or sends its request a byte at a time; closed after
              2-6 s or at the end of the load (at most --slow-readers at once, each on its
              own thread)
  cancel      DELETE /v1/jobs/{id} of an accepted job, mostly a recent one: 200 or 409
  bad         one of 41 malformed requests (bad JSON, wrong Content-Type, deep nesting,
              unknown fields, bad sizes, bad HTTP framing...): must get a 4xx, never 5xx
  status      GET /v1/jobs/{id} or GET /v1/jobs?limit=N: 200

while a separate process probes GET /health every --health-interval-ms for --seconds (its
own process, so that the load generator's GIL does not add to the latency it measures; not
counted in --max-requests), and a thread samples the server's VmRSS from
/proc/<pid>/status every 100 ms (VmHWM, the kernel's own peak, is shown beside it).

Afterwards it waits (at most --drain-timeout s) until every accepted job is terminal and
checks that each is in exactly one of completed / failed / cancelled (GET /v1/jobs/{id},
the same state in GET /v1/jobs and in any stream that saw its end), and that /metrics
counts the same. It prints one Markdown table and exits 1 if an invariant failed: a 5xx
or other unexpected status, a transport error, a job not terminal or in two states, a bad
request not answered 4xx, a 429 without Retry-After, a failed /health probe.

Run from the project root after a build:

  .venv/bin/python3 bench/load_test.py [--seconds 30] [--clients 8] [--queue-capacity 8]

(SDW_WORKER and SDW_MODEL default to build/sd-worker and models/sd-shapes.)
"""

import argparse
import http.client
import ipaddress
import json
import multiprocessing
import os
import random
import re
import socket
import sys
import threading
import time
import urllib.parse
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "clients"))
os.environ.setdefault("SDW_WORKER", os.path.join(HERE, "..", "build", "sd-worker"))
os.environ.setdefault("SDW_MODEL", os.path.join(HERE, "..", "models", "sd-shapes"))

from sdw_server import SdwServer  # noqa: E402

HOST = "127.0.0.1"  # every connection goes here; main checks it is the server's, and loopback
TERMINAL = ("completed", "failed", "cancelled")
JSON = {"Content-Type": "application/json"}
PROMPTS = ["a red circle", "a blue square on a white background", "two green triangles", ""]
ALLOWED = {  # statuses each kind of request may get; anything else is an invariant failure
    "submit": {202, 429},
    "subscribe": {200, 429},  # 429 too_many_streams (64 per job, 1024 in all)
    "cancel": {200, 409},
    "status": {200},
    "list": {200},
}
WEIGHTS = {"submit": 30, "subscribe": 12, "slow": 5, "cancel": 6, "bad": 25, "status": 8, "list": 5}


# --- talking to the server (loopback only) -----------------------------------------------

def require_loopback(host):
    """Raises unless every address host resolves to is a loopback address."""
    addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    if not addresses or not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
        raise SystemExit("refusing to load %r: not a loopback address (%s)" % (host, ", ".join(sorted(addresses))))


def request(port, method, path, body=None, headers=None, timeout=30):
    """One request on a fresh connection: (status, headers dict, body bytes, seconds)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        answer = connection.getresponse()
        data = answer.read()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, data, time.perf_counter() - started
    finally:
        connection.close()


def raw_exchange(port, data, timeout=10):
    """Sends raw bytes and returns the status code of the answer (0 if none came)."""
    with raw_socket(port, timeout) as sock:
        sock.sendall(data)
        head = b""
        while b"\r\n" not in head and len(head) < 4096:
            chunk = sock.recv(1024)
            if not chunk:
                break
            head += chunk
    match = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    return int(match.group(1)) if match else 0


def raw_socket(port, timeout, rcvbuf=None):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(timeout)
    sock.connect((HOST, port))
    return sock


# --- the shared record of the run ---------------------------------------------------------

class Run:
    """What every client thread records, under one lock."""

    def __init__(self, max_requests, deadline):
        self.lock = threading.Lock()
        self.max_requests = max_requests
        self.deadline = deadline
        self.requests = 0
        self.jobs = []                 # accepted job ids, in order
        self.statuses = {}             # kind -> Counter of statuses
        self.submit_latency = []       # seconds of each valid POST /v1/jobs (202 and 429)
        self.retry_after = []          # Retry-After of each 429 queue_full, in seconds
        self.stream_terminal = {}      # job id -> set of terminal events seen by subscribers
        self.cancelled_ok = set()      # jobs whose DELETE answered 200
        self.errors = Counter()        # "kind: exception" -> count (transport errors)
        self.failures = []             # invariant failures, one line each
        self.bad_mismatch = Counter()  # bad request answered a 4xx other than the expected one
        self.slow_opened = 0

    def take(self, n=1):
        """Claims n requests of the budget; False once the time or the budget is spent."""
        with self.lock:
            if time.monotonic() >= self.deadline or self.requests + n > self.max_requests:
                return False
            self.requests += n
            return True

    def status(self, kind, code):
        with self.lock:
            self.statuses.setdefault(kind, Counter())[code] += 1

    def error(self, kind, exc):
        with self.lock:
            self.errors["%s: %s" % (kind, type(exc).__name__ + (" " + str(exc) if str(exc) else ""))] += 1

    def fail(self, line):
        with self.lock:
            if len(self.failures) < 200:
                self.failures.append(line)

    def pick_job(self, rng, recent_bias=0.7):
        """A random accepted job, mostly one of the last ten (still queued or running)."""
        with self.lock:
            if not self.jobs:
                return None
            if rng.random() < recent_bias:
                return rng.choice(self.jobs[-10:])
            return rng.choice(self.jobs)


# --- the kinds of request -----------------------------------------------------------------

def valid_job(rng, schedulers):
    body = {"prompt": rng.choice(PROMPTS), "width": 64, "height": 64, "steps": rng.randint(1, 4),
            "scheduler": rng.choice(schedulers), "seed": rng.randrange(1 << 32),
            "guidance_scale": rng.choice([1.0, 7.5])}
    if rng.random() < 0.1:
        body["num_images"] = 2
    if rng.random() < 0.2:
        body["preview"] = True
    return body


def do_submit(run, port, rng, schedulers):
    status, headers, data, seconds = request(port, "POST", "/v1/jobs", json.dumps(valid_job(rng, schedulers)), JSON)
    run.status("submit", status)
    with run.lock:
        run.submit_latency.append(seconds)
    if status == 202:
        with run.lock:
            run.jobs.append(json.loads(data)["job_id"])
    elif status == 429:
        if not headers.get("retry-after", "").isdigit():
            run.fail("429 from POST /v1/jobs without a Retry-After in seconds: %r" % headers.get("retry-after"))
        else:
            with run.lock:
                run.retry_after.append(int(headers["retry-after"]))


def do_subscribe(run, port, rng):
    job = run.pick_job(rng)
    if job is None:
        return
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        connection.request("GET", "/v1/jobs/%s/stream" % job)
        answer = connection.getresponse()
        run.status("subscribe", answer.status)
        if answer.status != 200:
            answer.read()
            return
        terminals, done, after_done = read_events(answer)
    finally:
        connection.close()
    with run.lock:
        run.stream_terminal.setdefault(job, set()).update(terminals)
    if len(terminals) != 1 or not done or after_done:
        run.fail("stream of %s: terminal events %s, [DONE] %s, data after [DONE] %s"
                 % (job, terminals, done, after_done))


def read_events(answer):
    """Reads an SSE stream to its end: (terminal event names in order, saw [DONE], data after it)."""
    terminals, done, after_done = [], False, False
    for raw in iter(answer.readline, b""):
        line = raw.rstrip(b"\r\n")
        if done and line and not line.startswith(b":"):
            after_done = True
        if line.startswith(b"event: "):
            name = line[7:].decode()
            if name in TERMINAL:
                terminals.append(name)
        elif line == b"data: [DONE]":
            done = True
    return terminals, done, after_done


def slow_reader(run, port, rng, slots):
    """A stream client that barely reads (or never reads, or never finishes its request)."""
    try:
        job = run.pick_job(rng, recent_bias=0.5)
        if job is None:
            return
        mode = rng.choice(["trickle", "stall", "slowloris"])
        hold = min(rng.uniform(2, 6), max(0.0, run.deadline - time.monotonic()))
        head = ("GET /v1/jobs/%s/stream HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (job, HOST, port)).encode()
        with raw_socket(port, timeout=1, rcvbuf=1024) as sock:
            until = time.monotonic() + hold
            if mode == "slowloris":
                for byte in head[:-2]:  # never sends the final CRLF
                    if time.monotonic() >= until:
                        break
                    sock.sendall(bytes([byte]))
                    time.sleep(0.5)
                return
            sock.sendall(head)
            while time.monotonic() < until:
                if mode == "trickle":
                    try:
                        if not sock.recv(4):
                            return  # the server finished (or cut) the stream
                    except socket.timeout:
                        pass
                time.sleep(0.5)
    except OSError:
        pass  # a reset is one of the answers a slow reader may get
    finally:
        slots.release()


def do_slow(run, port, rng, slots, threads):
    if not slots.acquire(blocking=False):
        return do_status(run, port, rng)
    with run.lock:
        run.slow_opened += 1
    thread = threading.Thread(target=slow_reader, args=(run, port, rng, slots), daemon=True)
    thread.start()
    threads.append(thread)


def do_cancel(run, port, rng):
    job = run.pick_job(rng)
    if job is None:
        return
    status, _, data, _ = request(port, "DELETE", "/v1/jobs/" + job)
    run.status("cancel", status)
    if status == 200:
        with run.lock:
            run.cancelled_ok.add(job)


def do_status(run, port, rng):
    job = run.pick_job(rng, recent_bias=0.3)
    if job is not None and rng.random() < 0.6:
        status, _, data, _ = request(port, "GET", "/v1/jobs/" + job)
        run.status("status", status)
        if status == 200 and json.loads(data)["state"] not in TERMINAL + ("queued", "running"):
            run.fail("GET /v1/jobs/%s: unknown state %s" % (job, json.loads(data)["state"]))
    else:
        status, _, _, _ = request(port, "GET", "/v1/jobs?limit=%d" % rng.randint(1, 100))
        run.status("list", status)


def bad_requests(port):
    """(name, expected status, function returning the status the server gave)."""
    def post(body, headers=JSON):
        return lambda: request(port, "POST", "/v1/jobs", body, headers)[0]

    def call(method, path, headers=None):
        return lambda: request(port, method, path, None, headers)[0]

    def raw(data):
        return lambda: raw_exchange(port, data)

    job = {"prompt": "x", "width": 64, "height": 64, "steps": 1}

    def with_(**fields):
        return json.dumps(dict(job, **fields))

    host = "Host: %s:%d\r\n" % (HOST, port)
    return [
        ("truncated JSON", 400, post('{"prompt": "x"')),
        ("trailing comma", 400, post('{"prompt": "x",}')),
        ("empty body", 400, post("")),
        ("JSON null", 400, post("null")),
        ("JSON array", 400, post("[]")),
        ("not UTF-8", 400, post(b'{"prompt": "\xff\xfe"}')),
        ("no prompt", 400, post("{}")),
        ("text/plain", 415, post(with_(), {"Content-Type": "text/plain"})),
        ("form post", 415, post("prompt=x", {"Content-Type": "application/x-www-form-urlencoded"})),
        ("no Content-Type", 415, post(with_(), {})),
        ("100k of [", 400, post("[" * 100000)),
        ("nesting 40 in a field", 400, post('{"prompt": "x", "a": ' + '{"a": ' * 40 + "1" + "}" * 41)),
        ("unknown field", 400, post(with_(foo=1))),
        ("width 65", 400, post(with_(width=65))),
        ("width 32", 400, post(with_(width=32))),
        ("width 4096", 400, post(with_(width=4096))),
        ("width -64", 400, post(with_(width=-64))),
        ("width \"64\"", 400, post(with_(width="64"))),
        ("width 1e309", 400, post(with_().replace('"width": 64', '"width": 1e309'))),
        ("steps 0", 400, post(with_(steps=0))),
        ("steps 151", 400, post(with_(steps=151))),
        ("num_images 9", 400, post(with_(num_images=9))),
        ("guidance 31", 400, post(with_(guidance_scale=31))),
        ("unknown scheduler", 400, post(with_(scheduler="nope"))),
        ("seed 2^64", 400, post(with_(seed=1 << 64))),
        ("prompt of 17 KiB", 400, post(with_(prompt="x" * 17000))),
        ("img2img without image", 400, post(with_(operation="img2img"))),
        ("foreign Origin", 403, post(with_(), dict(JSON, Origin="http://evil.example"))),
        ("foreign Host", 403, post(with_(), dict(JSON, Host="evil.example"))),
        ("PUT /v1/jobs", 405, call("PUT", "/v1/jobs")),
        ("unknown path", 404, call("GET", "/v1/nope")),
        ("unknown job", 404, call("GET", "/v1/jobs/0123456789abcdef")),
        ("cancel unknown job", 404, call("DELETE", "/v1/jobs/0123456789abcdef")),
        ("stream of unknown job", 404, call("GET", "/v1/jobs/0123456789abcdef/stream")),
        ("list limit 0", 400, call("GET", "/v1/jobs?limit=0")),
        ("list after unknown", 400, call("GET", "/v1/jobs?after=zzz")),
        ("garbage request line", 400, raw(b"GARBAGE\r\n\r\n")),
        ("Content-Length 100 MB", 413,
         raw(b"POST /v1/jobs HTTP/1.1\r\n" + host.encode() + b"Content-Type: application/json\r\n"
             b"Content-Length: 100000000\r\n\r\n")),
        ("negative Content-Length", 400,
         raw(b"POST /v1/jobs HTTP/1.1\r\n" + host.encode() + b"Content-Length: -5\r\n\r\n")),
        ("bad chunk size", 400,
         raw(b"POST /v1/jobs HTTP/1.1\r\n" + host.encode() + b"Content-Type: application/json\r\n"
             b"Transfer-Encoding: chunked\r\n\r\nzz\r\n")),
        ("70 KB header", 431, raw(b"GET /health HTTP/1.1\r\n" + host.encode() + b"X-A: " + b"a" * 70000 + b"\r\n\r\n")),
    ]


def do_bad(run, rng, cases):
    name, expected, send = rng.choice(cases)
    status = send()
    run.status("bad", status)
    if not 400 <= status <= 499:
        run.fail("bad request %r answered %s (expected %d)" % (name, status or "nothing", expected))
    elif status != expected:
        with run.lock:
            run.bad_mismatch["%s: %d, expected %d" % (name, status, expected)] += 1


# --- the threads and the probe process ----------------------------------------------------

def client(run, port, seed, schedulers, think_s, slots, slow_threads):
    rng = random.Random(seed)
    cases = bad_requests(port)
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    while run.take():
        kind = rng.choices(kinds, weights)[0]
        try:
            if kind == "submit":
                do_submit(run, port, rng, schedulers)
            elif kind == "subscribe":
                do_subscribe(run, port, rng)
            elif kind == "slow":
                do_slow(run, port, rng, slots, slow_threads)
            elif kind == "cancel":
                do_cancel(run, port, rng)
            elif kind == "bad":
                do_bad(run, rng, cases)
            else:
                do_status(run, port, rng)
        except (OSError, http.client.HTTPException, ValueError, KeyError) as exc:
            run.error(kind, exc)
        if think_s:
            time.sleep(rng.uniform(0, 2 * think_s))


def probe_health(port, seconds, interval_s, pipe):
    """In its own process: GET /health every interval for seconds; sends [(status, s)]."""
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            status = request(port, "GET", "/health", timeout=10)[0]
        except (OSError, http.client.HTTPException):
            status = 0
        samples.append((status, time.perf_counter() - started))
        time.sleep(max(0.0, interval_s - (time.perf_counter() - started)))
    pipe.send(samples)
    pipe.close()


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


class RssSampler(threading.Thread):
    def __init__(self, pid, interval_s=0.1):
        super().__init__(daemon=True)
        self.pid, self.interval_s, self.peak = pid, interval_s, 0.0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, rss_mib(self.pid)[0])
            except (OSError, KeyError):
                return
            self.stop.wait(self.interval_s)


# --- afterwards: every job terminal, once -------------------------------------------------

def wait_terminal(port, jobs, timeout_s):
    """Polls GET /v1/jobs/{id} until every job is terminal or the time is up: {id: state}."""
    states = {}
    deadline = time.monotonic() + timeout_s
    pending = list(jobs)
    while pending:
        for job in pending:
            status, _, data, _ = request(port, "GET", "/v1/jobs/" + job)
            states[job] = json.loads(data)["state"] if status == 200 else "HTTP %d" % status
        pending = [job for job in pending if states[job] not in TERMINAL]
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    return states


def listed_states(port):
    """Every job in GET /v1/jobs, following `next`: {id: [states]} (a list, to catch doubles)."""
    listed, path = {}, "/v1/jobs?limit=100"
    while path:
        status, _, data, _ = request(port, "GET", path)
        if status != 200:
            raise RuntimeError("GET %s answered %d" % (path, status))
        page = json.loads(data)
        for job in page["jobs"]:
            listed.setdefault(job["job_id"], []).append(job["state"])
        path = page["next"] and urllib.parse.urlsplit(page["next"])._replace(scheme="", netloc="").geturl()
    return listed


def metrics_totals(port):
    _, _, data, _ = request(port, "GET", "/metrics")
    return {m.group(1): int(float(m.group(2)))
            for m in re.finditer(r'^sdw_jobs_total\{status="(\w+)"\} (\S+)$', data.decode(), re.M)}


def check_jobs(run, port, states):
    """Appends a failure for each job not in exactly one terminal state, seen the same everywhere."""
    for job, state in states.items():
        if state not in TERMINAL:
            run.fail("job %s not terminal after the drain: %s" % (job, state))
        seen = run.stream_terminal.get(job, set())
        if seen and seen != {state}:
            run.fail("job %s: streams ended with %s, GET says %s" % (job, sorted(seen), state))
    listed = listed_states(port)
    for job, state in states.items():
        if listed.get(job) != [state]:
            run.fail("job %s: GET /v1/jobs lists %s, GET /v1/jobs/{id} says %s" % (job, listed.get(job), state))
    for job in set(listed) - set(states):
        run.fail("job %s is listed but no submit got a 202 for it" % job)
    again = wait_terminal(port, states, 0)
    for job, state in states.items():
        if again[job] != state:
            run.fail("job %s changed state after it ended: %s then %s" % (job, state, again[job]))


def check_metrics(run, port, counts):
    totals = metrics_totals(port)
    expected = dict(counts, rejected=run.statuses.get("submit", Counter())[429])
    for name, value in expected.items():
        if totals.get(name) != value:
            run.fail("/metrics sdw_jobs_total{status=%r} is %s, the clients counted %d"
                     % (name, totals.get(name), value))


def check_statuses(run):
    unexpected = Counter()
    for kind, statuses in run.statuses.items():
        for status, n in statuses.items():
            if kind in ALLOWED and status not in ALLOWED[kind]:
                unexpected["%s %s" % (kind, status)] += n
                run.fail("%d x %s answered %s" % (n, kind, status))
    for error, n in run.errors.items():
        run.fail("%d x transport error, %s" % (n, error))
    return unexpected


# --- the table ----------------------------------------------------------------------------

def percentiles(samples):
    """(p50, p99, max) in ms, nearest rank; dashes when there are none."""
    if not samples:
        return "-", "-", "-"
    ordered = sorted(samples)
    rank = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return "%.1f" % (rank(0.5) * 1e3), "%.1f" % (rank(0.99) * 1e3), "%.1f" % (ordered[-1] * 1e3)


def summary(c):
    return ", ".join("%s x%d" % (k, n) for k, n in sorted(c.items())) or "none"


def print_table(run, counts, health, rss, unexpected, states):
    late_cancels = sum(1 for job in run.cancelled_ok if states.get(job) == "completed")
    statuses = lambda kind: run.statuses.get(kind, Counter())  # noqa: E731
    health_ms = percentiles([s for _, s in health])
    submit_ms = percentiles(run.submit_latency)
    rows = [
        ("requests by the clients (+ /health probes)", "%d (+ %d)" % (run.requests, len(health))),
        ("jobs accepted (202)", len(run.jobs)),
        ("completed / cancelled / failed", "%(completed)d / %(cancelled)d / %(failed)d" % counts),
        ("submits rejected (429 queue_full)", statuses("submit")[429]),
        ("Retry-After of the 429s, min / max s", "%s / %s" % (min(run.retry_after, default="-"),
                                                              max(run.retry_after, default="-"))),
        ("cancels: 200 / 409 already_finished", "%d / %d" % (statuses("cancel")[200], statuses("cancel")[409])),
        ("cancelled too late (DELETE 200, then completed)", late_cancels),
        ("streams read to the end (429 too_many_streams)",
         "%d (%d)" % (statuses("subscribe")[200], statuses("subscribe")[429])),
        ("slow readers opened", run.slow_opened),
        ("bad requests answered 4xx / sent",
         "%d / %d" % (sum(n for s, n in statuses("bad").items() if 400 <= s <= 499), sum(statuses("bad").values()))),
        ("bad requests with another 4xx than expected", summary(run.bad_mismatch)),
        ("unexpected statuses (5xx etc.)", summary(unexpected)),
        ("transport errors", sum(run.errors.values())),
        ("GET /health p50 / p99 / max ms", " / ".join(health_ms)),
        ("GET /health probes over 50 ms", sum(1 for _, seconds in health if seconds > 0.05)),
        ("POST /v1/jobs p50 / p99 / max ms", " / ".join(submit_ms)),
        ("RSS before / peak / after MiB", "%.1f / %.1f / %.1f (VmHWM %.1f)" % rss),
        ("invariant failures", len(run.failures)),
    ]
    print("| measure | value |")
    print("|---|---|")
    for name, value in rows:
        print("| %s | %s |" % (name, value))


# --- main ---------------------------------------------------------------------------------

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30, help="how long the load runs (default 30)")
    parser.add_argument("--clients", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--max-requests", type=int, default=100000, help="requests by the clients at most")
    parser.add_argument("--slow-readers", type=int, default=16, help="slow stream readers open at once at most")
    parser.add_argument("--queue-capacity", type=int, default=8, help="the server's queue.capacity (default 8)")
    parser.add_argument("--health-interval-ms", type=float, default=20, help="between /health probes")
    parser.add_argument("--think-ms", type=float, default=2, help="mean pause of a client between requests")
    parser.add_argument("--drain-timeout", type=float, default=120, help="seconds to wait for the jobs to end")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def load(server, args, schedulers):
    """Runs the clients, the probe process and the slow readers; returns (run, health samples)."""
    run = Run(args.max_requests, time.monotonic() + args.seconds)
    receiver, sender = multiprocessing.Pipe(duplex=False)
    prober = multiprocessing.Process(target=probe_health,
                                     args=(server.port, args.seconds, args.health_interval_ms / 1e3, sender))
    prober.start()
    slots, slow_threads = threading.BoundedSemaphore(args.slow_readers), []
    clients = [threading.Thread(target=client, args=(run, server.port, args.seed * 1000 + i, schedulers,
                                                    args.think_ms / 1e3, slots, slow_threads))
               for i in range(args.clients)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(args.seconds + 120)
    health = receiver.recv() if receiver.poll(args.seconds + 30) else []
    prober.join(10)
    for thread in slow_threads:
        thread.join(10)
    if not health:
        run.fail("the /health probe process sent no samples")
    for status, seconds in health:
        if status != 200:
            run.fail("GET /health answered %s after %.1f ms" % (status or "nothing", seconds * 1e3))
    return run, health


def main():
    args = parse_args()
    require_loopback(HOST)
    with SdwServer(["--queue-capacity", str(args.queue_capacity)],
                   config={"results": {"max_jobs": 1000000}}) as server:  # keep every job for the checks
        if urllib.parse.urlsplit(server.url).hostname != HOST:
            raise SystemExit("the server listens on %s, not on %s" % (server.url, HOST))
        info = json.loads(request(server.port, "GET", "/v1/info")[2])
        pid = server.process.pid
        rss_before = rss_mib(pid)[0]
        sampler = RssSampler(pid)
        sampler.start()
        started = time.monotonic()
        run, health = load(server, args, info["schedulers"])
        load_s = time.monotonic() - started
        states = wait_terminal(server.port, run.jobs, args.drain_timeout)
        counts = Counter(states.values())
        counts = {state: counts[state] for state in TERMINAL}
        check_jobs(run, server.port, states)
        check_metrics(run, server.port, counts)
        unexpected = check_statuses(run)
        time.sleep(1)
        sampler.stop.set()
        sampler.join()
        rss_after, hwm = rss_mib(pid)
        rss = (rss_before, max(sampler.peak, rss_after), rss_after, hwm)

    print("sd-worker %s, %s (%s), queue capacity %d, %d worker(s); %d clients for %.1f s (load %.1f s), "
          "%d CPUs, load average %.2f" % (info["version"], info["model"]["name"], info["plugin"]["name"],
                                          info["queue"]["capacity"], info["queue"]["workers"], args.clients,
                                          args.seconds, load_s, os.cpu_count(), os.getloadavg()[0]))
    print()
    print_table(run, counts, health, rss, unexpected, states)
    if run.failures:
        print("\nInvariant failures:")
        for line in run.failures:
            print("- " + line)
        sys.exit(1)


if __name__ == "__main__":
    main()
