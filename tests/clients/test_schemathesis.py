"""The native API against its own OpenAPI description, by schemathesis.

Starts the real sd-worker on the embedded tiny model, fetches GET /openapi.json from it
(the document docs/openapi.json embedded at build time) and runs `schemathesis run`
against every operation it describes: valid and invalid inputs generated from the
schema (examples, coverage, fuzzing and stateful phases, the stateful one following
POST /v1/jobs' links to the job's status, cancel and stream), each answer checked for
no 5xx, a documented status, a documented content type, a body and headers that match
the schema, invalid inputs refused with a 4xx, other methods 405. Twice: without API
keys, then against a server with a key that schemathesis does not send (every guarded
operation answers the documented 401, the public ones as before). Bounded and reproducible: schemathesis'
deterministic generation, at most 100 examples per operation, one worker.

Generated jobs may ask for up to 2048x2048 x 150 steps; instead of narrowing the
schema, the server runs with a small limits.max_pixel_steps (bigger jobs are the
documented 400 naming steps) and a queue of 4 (the documented 429 with Retry-After),
so every accepted job takes about a second. Afterwards the server must still
answer /health, and every accepted job must end (cancelled here if still queued).
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sdw_server import SdwServer, require_modules  # noqa: E402

require_modules("schemathesis", "requests")

import requests  # noqa: E402

CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "unsupported_method",
])
MAX_EXAMPLES = int(os.environ.get("SDW_SCHEMATHESIS_EXAMPLES", "100"))
# 64x64 x 16 steps at most: the tiny model runs that in about a second.
CONFIG = {
    "queue": {"capacity": 4, "workers": 1},
    "limits": {"max_pixel_steps": 64 * 64 * 16},
    "results": {"retention_s": 600, "max_jobs": 64},
}


def schemathesis_command():
    beside = os.path.join(os.path.dirname(sys.executable), "schemathesis")
    return beside if os.access(beside, os.X_OK) else shutil.which("schemathesis")


def run_pass(command, name, server_args=(), auth=None, max_examples=MAX_EXAMPLES):
    """One schemathesis run against a fresh server; returns the failures (0: none).
    `auth`: headers this script (not schemathesis) sends for its own checks."""
    started = time.monotonic()
    auth = auth or {}
    with SdwServer(list(server_args), config=CONFIG) as server:
        answer = requests.get(server.url + "/openapi.json", timeout=10)
        if answer.status_code != 200 or answer.headers.get("Content-Type") != "application/json":
            print("GET /openapi.json: %d %s" % (answer.status_code, answer.headers.get("Content-Type")))
            return 1
        document = answer.json()
        operations = sum(1 for item in document["paths"].values()
                         for method in item if method in ("get", "post", "delete", "put", "patch"))
        print("=== %s: %s: OpenAPI %s, %d paths, %d operations" %
              (name, server.url + "/openapi.json", document["openapi"], len(document["paths"]), operations))
        workdir = tempfile.mkdtemp(prefix="sdw-schemathesis-")
        try:
            argv = [command, "run", server.url + "/openapi.json",
                    "--checks", CHECKS,
                    "--phases", "examples,coverage,fuzzing,stateful",
                    "--max-examples", str(max_examples),
                    # The same cases every run, no random seed.
                    "--generation-deterministic",
                    "--workers", "1",
                    "--request-timeout", "60",
                    "--max-failures", "20",
                    "--no-color"]
            print("$ schemathesis " + " ".join(argv[1:]), flush=True)
            # Its own folder: no stray schemathesis.toml applies, no .hypothesis left behind.
            run = subprocess.run(argv, cwd=workdir, timeout=300)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        print("schemathesis exited %d after %.1f s" % (run.returncode, time.monotonic() - started))
        failures = 0 if run.returncode == 0 else 1

        # The server survived it, and every job it accepted ends.
        health = requests.get(server.url + "/health", timeout=10)
        if health.status_code != 200:
            print("GET /health after the run: %d" % health.status_code)
            return failures + 1

        def held():
            return requests.get(server.url + "/v1/jobs?limit=100", headers=auth, timeout=10).json()["jobs"]

        for job in held():
            if job["state"] in ("queued", "running"):
                requests.delete(server.url + job["status_url"], headers=auth, timeout=10)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            jobs = held()
            if all(job["state"] in ("completed", "failed", "cancelled") for job in jobs):
                break
            time.sleep(0.1)
        else:
            print("jobs still not ended a minute after the run: %r" %
                  [(j["job_id"], j["state"]) for j in jobs if j["state"] in ("queued", "running")])
            return failures + 1
        states = {}
        for job in jobs:
            states[job["state"]] = states.get(job["state"], 0) + 1
        print("jobs held after the run: %r" % states)
        # A job the API accepted (202) must not then fail: a request the model cannot
        # run is the 400 that names the field (schemathesis found clip_skip beyond the
        # text encoder's depth accepted and then failing; it is now refused up front).
        for job in jobs:
            if job["state"] == "failed":
                print("  failed %s: %r" % (job["job_id"], job["error"]))
                failures += 1
        # What the run exercised, from the server's own count by route and status.
        metrics = requests.get(server.url + "/metrics", headers=auth, timeout=10).text
        for line in metrics.splitlines():
            if line.startswith("sdw_http_requests_total{"):
                print("  " + line)
    return failures


def main():
    command = schemathesis_command()
    if not command:
        print("skipped: no schemathesis executable beside " + sys.executable)
        return 77
    started = time.monotonic()
    failures = run_pass(command, "no API key")
    # A server with a key, and schemathesis without it: the guarded operations answer the
    # documented 401 (with WWW-Authenticate), the public ones (/health, /ready,
    # /openapi.json) as before.
    failures += run_pass(command, "API key, not sent", ["--api-key", "k"], {"Authorization": "Bearer k"},
                         max_examples=max(1, MAX_EXAMPLES // 4))
    print("total %.1f s, %s" % (time.monotonic() - started, "failed" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
