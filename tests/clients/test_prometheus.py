"""GET /metrics read with Prometheus' own text parser (prometheus_client.parser).

Against the real sd-worker with the embedded tiny model: a scrape when idle, then a
job run to completion, a long job cancelled after a few steps, a 400 (an invalid field)
and a 404, and a second scrape. The counters moved by exactly what happened
(sdw_jobs_total by status, the three histograms' counts, the step histogram by the
steps run, sdw_http_requests_total by route template and code), the queue gauges are
0 when idle, the process's resident memory and the plugin's memory are reported.
Then the route's access: behind the API key like the rest of the API, unless the
config sets metrics.public.
"""

import math
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sdw_server import SdwServer, require_modules  # noqa: E402

require_modules("prometheus_client", "requests")

import requests  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
JOB_STATUSES = ("completed", "failed", "cancelled", "rejected")
HISTOGRAMS = ("sdw_step_seconds", "sdw_job_seconds", "sdw_queue_wait_seconds")
# Histogram bounds as host/server/metrics.h documents them (le="+Inf" added).
BUCKETS = {
    "sdw_step_seconds": [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30],
    "sdw_job_seconds": [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800],
    "sdw_queue_wait_seconds": [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
                               300, 600, 1200, 1800],
}


class Scrape:
    """One /metrics answer, parsed. prometheus_client names a counter family without
    its _total suffix (sdw_jobs) while its samples keep it (sdw_jobs_total)."""

    def __init__(self, text):
        self.text = text
        self.families = {family.name: family for family in text_string_to_metric_families(text)}

    def family(self, name):
        return self.families.get(name)

    def samples(self, name):
        return [s for f in self.families.values() for s in f.samples if s.name == name]

    def value(self, name, **labels):
        found = [s.value for s in self.samples(name) if s.labels == labels]
        if len(found) > 1:
            raise AssertionError("%s%r appears %d times" % (name, labels, len(found)))
        return found[0] if found else None

    def jobs(self, status):
        return self.value("sdw_jobs_total", status=status)

    def requests(self, route, code):
        return self.value("sdw_http_requests_total", route=route, code=str(code)) or 0

    def histogram(self, name):
        """(buckets [(le, cumulative)], sum, count), checking the invariants."""
        family = self.family(name)
        if family is None or family.type != "histogram":
            raise AssertionError("no histogram " + name)
        buckets = [(float(s.labels["le"]), s.value) for s in family.samples
                   if s.name == name + "_bucket"]
        total = [s.value for s in family.samples if s.name == name + "_sum"]
        count = [s.value for s in family.samples if s.name == name + "_count"]
        if len(total) != 1 or len(count) != 1:
            raise AssertionError("%s: one _sum and one _count expected" % name)
        les = [le for le, _ in buckets]
        if les != sorted(les) or not math.isinf(les[-1]):
            raise AssertionError("%s: le not ascending to +Inf: %r" % (name, les))
        counts = [c for _, c in buckets]
        if counts != sorted(counts):
            raise AssertionError("%s: buckets not cumulative: %r" % (name, counts))
        if counts[-1] != count[0]:
            raise AssertionError("%s: +Inf bucket %r != _count %r" % (name, counts[-1], count[0]))
        return buckets, total[0], count[0]


class PrometheusMetrics(unittest.TestCase):
    def scrape(self, server, headers=None):
        response = requests.get(server.url + "/metrics", headers=headers or {}, timeout=10)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.headers.get("Content-Type"), CONTENT_TYPE)
        return Scrape(response.text)

    def scrape_until(self, server, ready, timeout=10.0):
        """The queue records a job's metrics just after its terminal state: a client
        that saw the state may scrape a moment before they land."""
        deadline = time.monotonic() + timeout
        while True:
            scrape = self.scrape(server)
            if ready(scrape) or time.monotonic() > deadline:
                return scrape
            time.sleep(0.05)

    def wait_for(self, server, job_id, predicate, timeout=300.0):
        deadline = time.monotonic() + timeout
        while True:
            status = requests.get(server.url + "/v1/jobs/" + job_id, timeout=10).json()
            if predicate(status):
                return status
            if time.monotonic() > deadline:
                self.fail("job %s: gave up waiting, last status %r" % (job_id, status))
            time.sleep(0.05)

    def submit(self, server, body):
        response = requests.post(server.url + "/v1/jobs", json=body, timeout=10)
        self.assertEqual(response.status_code, 202, response.text)
        return response.json()["job_id"]

    def test_counters_histograms_and_gauges_move_with_what_the_server_did(self):
        with SdwServer() as server:
            before = self.scrape(server)

            # Every family is there from the start, with the right type.
            types = {
                "sdw_jobs": "counter", "sdw_queue_depth": "gauge", "sdw_jobs_running": "gauge",
                "sdw_step_seconds": "histogram", "sdw_job_seconds": "histogram",
                "sdw_queue_wait_seconds": "histogram", "sdw_http_requests": "counter",
                "process_resident_memory_bytes": "gauge",
            }
            for name, kind in types.items():
                self.assertIn(name, before.families, before.text)
                self.assertEqual(before.family(name).type, kind, name)
                self.assertTrue(before.family(name).documentation, name + " has no HELP")
            for status in JOB_STATUSES:
                self.assertEqual(before.jobs(status), 0, status)
            for name in HISTOGRAMS:
                buckets, _, count = before.histogram(name)
                self.assertEqual([le for le, _ in buckets[:-1]], BUCKETS[name], name)
                self.assertEqual(count, 0, name)
            self.assertEqual(before.value("sdw_queue_depth"), 0)
            self.assertEqual(before.value("sdw_jobs_running"), 0)

            # A job to completion.
            done_id = self.submit(server, {"prompt": "a red circle", "steps": 20,
                                           "width": 128, "height": 128, "seed": 1})
            done = self.wait_for(server, done_id, lambda s: s["state"] in ("completed", "failed", "cancelled"))
            self.assertEqual(done["state"], "completed", done)

            # A long job, cancelled once it has run a few steps (so that the steps it ran
            # are known and not zero: at 512x512 with 8 images one step of the tiny model
            # takes ~10 s here, and a DELETE at "running" lands inside the first).
            long_id = self.submit(server, {"prompt": "a blue square", "steps": 150,
                                           "width": 128, "height": 128, "seed": 2})
            self.wait_for(server, long_id, lambda s: s["step"] >= 3 or
                          s["state"] in ("completed", "failed", "cancelled"), timeout=120)
            response = requests.delete(server.url + "/v1/jobs/" + long_id, timeout=10)
            self.assertEqual(response.status_code, 200, response.text)
            cancelled = self.wait_for(server, long_id,
                                      lambda s: s["state"] in ("completed", "failed", "cancelled"))
            self.assertEqual(cancelled["state"], "cancelled", cancelled)
            cancelled_steps = cancelled["step"]
            self.assertGreaterEqual(cancelled_steps, 3)
            self.assertLess(cancelled_steps, 150)

            # A 400 (steps out of range) and a 404 (no such job).
            response = requests.post(server.url + "/v1/jobs", json={"prompt": "x", "steps": 0}, timeout=10)
            self.assertEqual(response.status_code, 400, response.text)
            response = requests.get(server.url + "/v1/jobs/0123456789abcdef0123456789abcdef", timeout=10)
            self.assertEqual(response.status_code, 404, response.text)

            after = self.scrape_until(server, lambda s: (
                s.jobs("completed") == 1 and s.jobs("cancelled") == 1 and
                s.histogram("sdw_job_seconds")[2] == 2))

            self.assertEqual(after.jobs("completed"), 1)
            self.assertEqual(after.jobs("cancelled"), 1)
            self.assertEqual(after.jobs("failed"), 0)
            self.assertEqual(after.jobs("rejected"), 0)  # a 400 is refused before the queue

            _, step_sum, step_count = after.histogram("sdw_step_seconds")
            self.assertEqual(step_count, 20 + cancelled_steps)
            self.assertGreater(step_sum, 0)
            _, job_sum, job_count = after.histogram("sdw_job_seconds")
            self.assertEqual(job_count, 2)  # both ran
            self.assertGreaterEqual(job_sum, step_sum * 0.999)  # steps are part of the run
            _, _, wait_count = after.histogram("sdw_queue_wait_seconds")
            self.assertEqual(wait_count, 2)

            self.assertEqual(after.requests("/v1/jobs", 202), 2)
            self.assertGreaterEqual(after.requests("/v1/jobs", 400), 1)
            self.assertGreaterEqual(after.requests("/v1/jobs/{id}", 404), 1)
            self.assertGreaterEqual(after.requests("/v1/jobs/{id}", 200), 2)  # the polls, the DELETE
            self.assertGreaterEqual(after.requests("/metrics", 200), 1)  # the first scrape
            routes = {s.labels["route"] for s in after.samples("sdw_http_requests_total")}
            for job_id in (done_id, long_id):
                self.assertFalse([r for r in routes if job_id in r], "a raw path as a route: %r" % routes)
            for sample in after.samples("sdw_http_requests_total"):
                self.assertEqual(set(sample.labels), {"route", "code"})
                self.assertTrue(100 <= int(sample.labels["code"]) <= 599, sample)

            self.assertEqual(after.value("sdw_queue_depth"), 0)
            self.assertEqual(after.value("sdw_jobs_running"), 0)
            self.assertGreater(after.value("process_resident_memory_bytes"), 10 * 1024 * 1024)
            memory = after.family("sdw_plugin_memory_bytes")
            self.assertIsNotNone(memory, "cpu-blas reports its memory: " + after.text)
            self.assertEqual(memory.type, "gauge")
            kinds = {s.labels["kind"]: s.value for s in memory.samples}
            self.assertEqual(set(kinds), {"weights", "plans", "cache"})
            self.assertGreater(kinds["weights"], 0)

    def test_metrics_need_the_api_key(self):
        with SdwServer(["--api-key", "k"]) as server:
            response = requests.get(server.url + "/metrics", timeout=10)
            self.assertEqual(response.status_code, 401, response.text)
            scrape = self.scrape(server, headers={"Authorization": "Bearer k"})
            self.assertEqual(scrape.jobs("completed"), 0)
            self.assertIsNotNone(scrape.family("sdw_step_seconds"))

    def test_metrics_public_needs_no_key_and_opens_nothing_else(self):
        with SdwServer(["--api-key", "k"], config={"metrics": {"public": True}}) as server:
            scrape = self.scrape(server)
            self.assertEqual(scrape.jobs("rejected"), 0)
            response = requests.get(server.url + "/v1/info", timeout=10)
            self.assertEqual(response.status_code, 401, response.text)


if __name__ == "__main__":
    unittest.main()
