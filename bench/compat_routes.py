#!/usr/bin/env python3
"""What the compatible routes cost over the native API, on the same server in one run.

The same txt2img (sd-shapes, fixed seed, steps and size) is requested ROUNDS times
through each door, interleaved so that drift on the machine hits them alike:
  native   POST /v1/jobs, wait on the SSE stream for "completed", GET the PNG
  a1111    POST /sdapi/v1/txt2img (synchronous, base64 PNG in the JSON answer)
  openai   POST /v1/images/generations (synchronous, b64_json)
and the median and best wall times of the whole client round trip are printed, with
each route's overhead over native. Run from the project root after a build:

  .venv/bin/python3 bench/compat_routes.py [--rounds 15] [--steps 4]

(SDW_WORKER and SDW_MODEL default to build/sd-worker and models/sd-shapes.)
"""

import argparse
import base64
import json
import os
import statistics
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "clients"))
os.environ.setdefault("SDW_WORKER", os.path.join(HERE, "..", "build", "sd-worker"))
os.environ.setdefault("SDW_MODEL", os.path.join(HERE, "..", "models", "sd-shapes"))

from sdw_server import SdwServer  # noqa: E402

PROMPT = "a red circle in the center on a white background"


def post(url, body):
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as answer:
        return answer.read()


def native(server, steps, size):
    job = json.loads(post(server.url + "/v1/jobs", {"prompt": PROMPT, "seed": 7, "steps": steps,
                                                     "width": size, "height": size,
                                                     "scheduler": "euler_a"}))
    with urllib.request.urlopen(server.url + job["sse_url"], timeout=600) as stream:
        for line in stream:
            if line.startswith(b"event: completed"):
                break
    with urllib.request.urlopen(server.url + job["status_url"] + "/images/0.png", timeout=600) as png:
        return png.read()


def a1111(server, steps, size):
    answer = json.loads(post(server.url + "/sdapi/v1/txt2img", {"prompt": PROMPT, "seed": 7, "steps": steps,
                                                                 "width": size, "height": size,
                                                                 "sampler_name": "Euler a", "cfg_scale": 7.5}))
    return base64.b64decode(answer["images"][0])


def openai(server, steps, size):
    # OpenAI has no steps or seed: its jobs take the native defaults (20 steps, a random seed),
    # so it is timed against a native job of 20 steps (see main).
    answer = json.loads(post(server.url + "/v1/images/generations",
                             {"prompt": PROMPT, "size": "%dx%d" % (size, size), "response_format": "b64_json"}))
    return base64.b64decode(answer["data"][0]["b64_json"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()

    doors = {"native": lambda s: native(s, args.steps, args.size),
             "a1111": lambda s: a1111(s, args.steps, args.size),
             "native (20 steps)": lambda s: native(s, 20, args.size),
             "openai (20 steps)": lambda s: openai(s, 20, args.size)}
    times = {name: [] for name in doors}
    with SdwServer() as server:
        for name, door in doors.items():  # warm-up: plans, caches, connections
            door(server)
        for _ in range(args.rounds):
            for name, door in doors.items():
                start = time.perf_counter()
                door(server)
                times[name].append(time.perf_counter() - start)

    print("sd-shapes txt2img %dx%d, %d rounds, same server, interleaved" % (args.size, args.size, args.rounds))
    print("| route | steps | median ms | best ms | overhead vs native (median) |")
    print("|---|---|---|---|---|")
    for name, samples in times.items():
        steps = 20 if "20" in name else args.steps
        base = times["native (20 steps)" if steps == 20 else "native"]
        median, best = statistics.median(samples), min(samples)
        overhead = "" if name.startswith("native") else "%+.1f ms" % ((median - statistics.median(base)) * 1e3)
        print("| %s | %d | %.1f | %.1f | %s |" % (name, steps, median * 1e3, best * 1e3, overhead))


if __name__ == "__main__":
    main()
