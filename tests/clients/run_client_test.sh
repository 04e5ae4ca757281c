#!/usr/bin/env bash
# run_client_test.sh <python> <script>: runs one client test with the test venv's
# Python, or reports why it cannot (exit 77: ctest counts the test as skipped).
python=$1; shift
if [[ ! -x $python ]]; then
  echo "skipped: no test Python at $python (run scripts/setup-test-venv.sh)"
  exit 77
fi
exec "$python" "$@"
