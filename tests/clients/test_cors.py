"""Cross-origin use of the API (CORS), from a page that another origin serves.

A tiny page on a second origin (Python's http.server on another port of 127.0.0.1)
POSTs a job to sd-worker with fetch + JSON (a request that needs a preflight) and
follows it with EventSource to its terminal event. In Chromium: with the page's origin
listed (--cors-origin) the job completes; with none listed the browser refuses the fetch
and no job reaches the server. With `requests`: preflights, plain answers, errors and
the event stream carry Access-Control-Allow-Origin for a listed origin only; any origin
only when "*" is configured (http.cors_origins); a preflight needs no API key.
"""

import http.server
import os
import socketserver
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sdw_server import SKIP, SdwServer, require_modules  # noqa: E402

require_modules("playwright", "requests")

import requests  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

CHROMIUM = os.environ.get("SDW_CHROMIUM", "/usr/bin/chromium")
UNLISTED = "http://unlisted.example"
# What "*" in http.cors_origins may answer an origin with: "*" itself or the origin echoed.
ANY_ORIGIN = ("*", UNLISTED)

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>another origin</title></head>
<body><pre id="result">pending</pre>
<script>
const api = new URLSearchParams(location.search).get('api');
const out = document.getElementById('result');
const done = (text, data) => { window.__result = {text, data: data || null}; out.textContent = text; };
(async () => {
  let job;
  try {
    const response = await fetch(api + '/v1/jobs', {
      method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({prompt: 'a red circle in the center', steps: 4}),
    });
    job = await response.json();
    if (!response.ok) return done('http ' + response.status, job);
  } catch (e) {
    return done('fetch failed: ' + e.name + ': ' + e.message);
  }
  let progress = 0;
  const source = new EventSource(api + job.sse_url);
  source.addEventListener('progress', () => { progress += 1; });
  for (const type of ['completed', 'failed', 'cancelled']) {
    source.addEventListener(type, async (event) => {
      source.close();
      const data = JSON.parse(event.data);
      let image = null;
      if (type === 'completed') {
        const r = await fetch(api + data.images[0].url);  // the PNG, cross-origin too
        image = {status: r.status, type: r.headers.get('content-type'), bytes: (await r.arrayBuffer()).byteLength};
      }
      done(type, {job_id: job.job_id, progress, images: (data.images || []).map(
          (i) => ({width: i.width, height: i.height, png_base64: i.png_base64.length})), image});
    });
  }
  source.onerror = () => { if (source.readyState === EventSource.CLOSED) done('stream failed'); };
})();
</script></body></html>
"""

# Requests a page may send to any origin without a CORS preflight (it cannot read the
# answers, but the server would act on them): text/plain and form posts, a beacon.
SIMPLE_PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>blind posts</title></head>
<body><iframe name="sink"></iframe>
<form id="form" method="post" target="sink" enctype="text/plain"><input name='{"prompt": "x", "steps": 1, "pad": "' value='"}'></form>
<script>
const api = new URLSearchParams(location.search).get('api');
const body = JSON.stringify({prompt: 'a red circle in the center', steps: 1});
(async () => {
  const sent = [];
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']) {
    try {
      await fetch(api + '/v1/jobs', {method: 'POST', mode: 'no-cors', headers: {'Content-Type': type}, body});
      sent.push(type);
    } catch (e) { sent.push(type + ': ' + e.message); }
  }
  sent.push('beacon ' + navigator.sendBeacon(api + '/v1/jobs', body));
  const form = document.getElementById('form');
  form.action = api + '/v1/jobs';
  document.querySelector('iframe').onload = () => { window.__result = {text: 'sent', data: sent}; };
  form.submit();
})();
</script></body></html>
"""


class PageServer:
    """Serves PAGE at / from its own origin, http://127.0.0.1:<port>."""

    def __enter__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                page = SIMPLE_PAGE if self.path.startswith("/simple") else PAGE
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.origin = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        return False


def preflight(url, origin, method="POST", headers="content-type, authorization"):
    return requests.options(url, timeout=10, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers})


def header_list(response, name):
    return {item.strip().lower() for item in response.headers.get(name, "").split(",") if item.strip()}


class TestCors(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.page_server = PageServer().__enter__()
        cls.playwright = None
        cls.browser = None

    @classmethod
    def tearDownClass(cls):
        if cls.browser:
            cls.browser.close()
        if cls.playwright:
            cls.playwright.stop()
        cls.page_server.__exit__(None, None, None)

    def setUp(self):
        self.started = time.monotonic()

    def tearDown(self):
        print("%s: %.1f s" % (self.id().split(".")[-1], time.monotonic() - self.started), flush=True)

    def chromium(self):
        if not os.path.exists(CHROMIUM):
            self.skipTest("no Chromium at %s (SDW_CHROMIUM)" % CHROMIUM)
        if not self.browser:
            type(self).playwright = sync_playwright().start()
            type(self).browser = self.playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        return self.browser

    def run_page(self, server, path="/"):
        """Opens the other origin's page against `server`; its result and console."""
        context = self.chromium().new_context()
        try:
            page = context.new_page()
            console = []
            page.on("console", lambda m: console.append(m.text))
            page.goto("%s%s?api=%s" % (self.page_server.origin, path, server.url))
            page.wait_for_function("window.__result !== undefined", timeout=90_000)
            return page.evaluate("window.__result"), console
        finally:
            context.close()

    def test_listed_origin_completes_a_job_in_chromium(self):
        origin = self.page_server.origin
        other = "http://other.example:8443"  # --cors-origin is repeatable
        with SdwServer(["--cors-origin", other, "--cors-origin", origin, "--log-level", "debug"]) as server:
            result, console = self.run_page(server)
            self.assertEqual(result["text"], "completed", "%s\nconsole: %s" % (result, console))
            data = result["data"]
            self.assertGreater(data["progress"], 0, "progress events reached the page")
            self.assertEqual(len(data["images"]), 1)
            self.assertEqual((data["images"][0]["width"], data["images"][0]["height"]), (128, 128))
            self.assertGreater(data["images"][0]["png_base64"], 100)
            self.assertEqual(data["image"]["status"], 200)
            self.assertEqual(data["image"]["type"], "image/png")
            status = requests.get(server.url + "/v1/jobs/" + data["job_id"], timeout=10).json()
            self.assertEqual(status["state"], "completed")
            # The access log names the POST: the unlisted case below relies on it.
            self.assertIn("POST /v1/jobs", server.log())

            # The headers themselves, as a browser would ask.
            r = preflight(server.url + "/v1/jobs", origin)
            self.assertIn(r.status_code, (200, 204), r.text)
            self.assertEqual(r.headers.get("Access-Control-Allow-Origin"), origin)
            self.assertTrue({"get", "post", "delete"} <= header_list(r, "Access-Control-Allow-Methods"),
                            r.headers)
            self.assertTrue({"content-type", "authorization"} <= header_list(r, "Access-Control-Allow-Headers"),
                            r.headers)
            self.assertIn("origin", header_list(r, "Vary"), "an echoed origin varies by Origin")
            # Every other answer too: JSON, errors (so a page can read them), images, SSE.
            for response in (
                    requests.get(server.url + "/v1/info", headers={"Origin": origin}, timeout=10),
                    requests.post(server.url + "/v1/jobs", json={"prompt": "x", "steps": 1000},
                                  headers={"Origin": origin}, timeout=10),
                    requests.get(server.url + "/v1/jobs/nope", headers={"Origin": origin}, timeout=10),
                    requests.get(server.url + "/v1/jobs/%s/images/0.png" % data["job_id"],
                                 headers={"Origin": origin}, timeout=10)):
                self.assertEqual(response.headers.get("Access-Control-Allow-Origin"), origin,
                                 "%s %s" % (response.request.method, response.url))
            job = requests.post(server.url + "/v1/jobs", json={"prompt": "x", "steps": 2}, timeout=10).json()
            with requests.get(server.url + job["sse_url"], headers={"Origin": origin},
                              stream=True, timeout=30) as stream:
                self.assertTrue(stream.headers["Content-Type"].startswith("text/event-stream"))
                self.assertEqual(stream.headers.get("Access-Control-Allow-Origin"), origin)
                for line in stream.iter_lines():
                    if line == b"data: [DONE]":
                        break

            r = requests.get(server.url + "/v1/info", headers={"Origin": other}, timeout=10)
            self.assertEqual(r.headers.get("Access-Control-Allow-Origin"), other)

            # Another origin gets nothing that would let its page read the answers.
            r = preflight(server.url + "/v1/jobs", UNLISTED)
            self.assertNotIn("Access-Control-Allow-Origin", r.headers)
            r = requests.get(server.url + "/v1/info", headers={"Origin": UNLISTED}, timeout=10)
            self.assertEqual(r.status_code, 200)
            self.assertNotIn("Access-Control-Allow-Origin", r.headers)

    def test_unlisted_origin_is_refused_by_chromium(self):
        with SdwServer(["--log-level", "debug"]) as server:  # default: same origin only
            result, console = self.run_page(server)
            self.assertTrue(result["text"].startswith("fetch failed"), "%s\nconsole: %s" % (result, console))
            self.assertTrue(any("CORS" in line for line in console), console)
            # The preflight failed, so the browser never sent the job.
            self.assertNotIn("POST /v1/jobs", server.log())
            r = preflight(server.url + "/v1/jobs", self.page_server.origin)
            self.assertNotIn("Access-Control-Allow-Origin", r.headers)
            r = requests.get(server.url + "/v1/info", headers={"Origin": self.page_server.origin}, timeout=10)
            self.assertNotIn("Access-Control-Allow-Origin", r.headers)

    def test_posts_without_a_preflight_from_an_unlisted_origin_queue_nothing(self):
        with SdwServer(["--log-level", "debug"]) as server:
            result, console = self.run_page(server, "/simple")
            self.assertEqual(result["text"], "sent", "%s\nconsole: %s" % (result, console))
            log = server.log()
            # Chromium did send them (the server logged each), and the server refused them all.
            self.assertGreaterEqual(log.count("POST /v1/jobs"), 4, log)
            self.assertNotIn("POST /v1/jobs -> 202", log)
            jobs = requests.get(server.url + "/v1/jobs", timeout=10).json()["jobs"]
            self.assertEqual(jobs, [], "a page on another origin queued a job")
            # A DNS-rebinding page reaches 127.0.0.1 under its own name: refused by Host.
            r = requests.get(server.url + "/v1/info", headers={"Host": "rebound.example:%d" % server.port}, timeout=10)
            self.assertEqual(r.status_code, 403)
            self.assertEqual(r.json()["error"]["code"], "host_not_allowed")
            r = requests.get(server.url + "/v1/info", headers={"Host": "localhost:%d" % server.port}, timeout=10)
            self.assertEqual(r.status_code, 200)

    def test_wildcard_only_when_configured_and_preflight_needs_no_key(self):
        config = {"http": {"cors_origins": ["*"]}}
        with SdwServer(["--api-key", "k"], config=config) as server:
            r = preflight(server.url + "/v1/jobs", UNLISTED)  # a browser sends no key here
            self.assertIn(r.status_code, (200, 204), r.text)
            self.assertIn(r.headers.get("Access-Control-Allow-Origin"), ANY_ORIGIN)
            self.assertIn("authorization", header_list(r, "Access-Control-Allow-Headers"))
            r = requests.get(server.url + "/v1/info", headers={"Origin": UNLISTED}, timeout=10)
            self.assertEqual(r.status_code, 401)
            self.assertIn(r.headers.get("Access-Control-Allow-Origin"), ANY_ORIGIN, "a page can see the 401")
            r = requests.get(server.url + "/v1/info", timeout=10,
                             headers={"Origin": UNLISTED, "Authorization": "Bearer k"})
            self.assertEqual(r.status_code, 200)
            self.assertIn(r.headers.get("Access-Control-Allow-Origin"), ANY_ORIGIN)


if __name__ == "__main__":
    unittest.main(verbosity=2)
