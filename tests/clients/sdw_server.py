"""The real sd-worker as a child process, for the client tests in this folder.

ctest runs each test with SDW_WORKER (the sd-worker executable) and SDW_MODEL (the
embedded sd-shapes model) in its environment. A server listens on an ephemeral port
of 127.0.0.1, runs in a fresh temporary directory (so no config/default.json
applies) and is stopped (SIGTERM, then SIGKILL) when the `with` block ends.

    with SdwServer(["--api-key", "k"]) as server:
        requests.get(server.url + "/v1/info", headers={"Authorization": "Bearer k"})
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SKIP = 77  # ctest's SKIP_RETURN_CODE for these tests


def require_modules(*names):
    """Exits with the skip code, naming what is missing, unless every module imports."""
    missing = []
    for name in names:
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        print("skipped: Python modules missing: " + ", ".join(missing) +
              " (scripts/setup-test-venv.sh installs tests/clients/requirements.txt)")
        sys.exit(SKIP)


class SdwServer:
    def __init__(self, args=(), config=None, model=None, ready_timeout=60.0):
        self.worker = os.environ.get("SDW_WORKER")
        self.model = model or os.environ.get("SDW_MODEL")
        if not self.worker or not self.model:
            raise RuntimeError("SDW_WORKER and SDW_MODEL must be set (ctest sets them)")
        self.args = list(args)
        self.config = config
        self.ready_timeout = ready_timeout
        self.dir = None
        self.process = None
        self.port = 0

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def log(self):
        with open(os.path.join(self.dir, "worker.log"), errors="replace") as f:
            return f.read()

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="sdw-client-test-")
        argv = [self.worker, "--host", "127.0.0.1", "--port", "0", "--model", self.model]
        if self.config is not None:
            path = os.path.join(self.dir, "config.json")
            with open(path, "w") as f:
                json.dump(self.config, f)
            argv += ["--config", path]
        argv += self.args
        log = open(os.path.join(self.dir, "worker.log"), "w")
        self.process = subprocess.Popen(argv, cwd=self.dir, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("sd-worker exited with %d:\n%s" % (self.process.returncode, self.log()))
            if not self.port:
                self.port = self._port_in_log()
            elif self._ready():
                return self
            time.sleep(0.02)
        self.__exit__(None, None, None)
        raise RuntimeError("sd-worker was not ready within %.0f s:\n%s" % (self.ready_timeout, self.log()))

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if exc and exc[0] is not None and self.dir:
            print("--- sd-worker log ---\n" + self.log(), file=sys.stderr)
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def _port_in_log(self):
        marker = "listening on http://127.0.0.1:"
        text = self.log()
        at = text.find(marker)
        if at < 0:
            return 0
        digits = ""
        for c in text[at + len(marker):]:
            if not c.isdigit():
                break
            digits += c
        return int(digits) if digits and len(text) > at + len(marker) + len(digits) else 0

    def _ready(self):
        try:
            with urllib.request.urlopen(self.url + "/ready", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, OSError):
            return False
