#!/usr/bin/env bash
# Creates .venv (ignored by git) with the Python packages the client tests use,
# pinned in tests/clients/requirements.txt. Safe to run again: pip skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x .venv/bin/python3 ]]; then
  python3 -m venv .venv
fi
stamp=.venv/.requirements-installed
if [[ ! -f $stamp ]] || ! cmp -s tests/clients/requirements.txt "$stamp"; then
  for attempt in 1 2 3; do
    .venv/bin/python3 -m pip install --quiet --disable-pip-version-check \
      -r tests/clients/requirements.txt && break
    [[ $attempt == 3 ]] && { echo "setup-test-venv: pip install failed" >&2; exit 1; }
    sleep 5
  done
  cp tests/clients/requirements.txt "$stamp"
fi
echo "setup-test-venv: .venv ready"
