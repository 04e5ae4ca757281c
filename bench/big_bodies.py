#!/usr/bin/env python3
"""/health latency while the server decodes hostile or huge request bodies.

Two clients at once POST each body to /v1/jobs while a third probes GET /health in a
loop; the table gives the POSTs' answers and the probes' median and worst latency.
Bodies: 38 MiB of "[" (nesting, refused by the JSON bounds before any DOM is built),
38 MiB of base64 in init_image (a legitimate size: decoded on the request pool, off the
I/O threads), and a small valid job for reference. Run from the project root after a
build:

  .venv/bin/python3 bench/big_bodies.py

(SDW_WORKER and SDW_MODEL default to build/sd-worker and models/sd-shapes.)
"""

import os
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "clients"))
os.environ.setdefault("SDW_WORKER", os.path.join(HERE, "..", "build", "sd-worker"))
os.environ.setdefault("SDW_MODEL", os.path.join(HERE, "..", "models", "sd-shapes"))

from sdw_server import SdwServer  # noqa: E402

MIB = 1 << 20
BODIES = {
    "38 MiB of '['": b"[" * (38 * MIB),
    "38 MiB base64 init_image": b'{"prompt": "x", "operation": "img2img", "init_image": "' + b"A" * (38 * MIB) + b'"}',
    "small valid job": b'{"prompt": "a red circle", "steps": 1, "width": 64, "height": 64}',
}


def post(url, body, out):
    started = time.perf_counter()
    request = urllib.request.Request(url + "/v1/jobs", body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    out.append((status, time.perf_counter() - started))


def main():
    print("| body | answers | POST s | /health p50 ms | /health worst ms | probes |")
    print("|---|---|---|---|---|---|")
    with SdwServer() as server:
        for name, body in BODIES.items():
            out = []
            clients = [threading.Thread(target=post, args=(server.url, body, out)) for _ in range(2)]
            for client in clients:
                client.start()
            latencies = []
            while any(client.is_alive() for client in clients) or len(latencies) < 20:
                started = time.perf_counter()
                with urllib.request.urlopen(server.url + "/health", timeout=60) as answer:
                    answer.read()
                latencies.append(time.perf_counter() - started)
            for client in clients:
                client.join()
            latencies.sort()
            print("| %s | %s | %s | %.1f | %.1f | %d |" % (
                name, " ".join(str(status) for status, _ in out), " ".join("%.2f" % s for _, s in out),
                latencies[len(latencies) // 2] * 1e3, latencies[-1] * 1e3, len(latencies)))


if __name__ == "__main__":
    main()
