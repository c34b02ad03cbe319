#!/usr/bin/env bash
# The project's test command, from a fresh clone: ./scripts/test.sh [pytest args]
#
# Installs the pinned Python packages into .venv, builds the real servers the tests
# run (Jaeger all-in-one and Docker Compose, from their Go modules, cached in
# ~/.cache/otel-python-jaeger-reference), checks the code with ruff, runs pytest.
# Needs: Python >= 3.11, Go, and access to PyPI and the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
# Every package, the tools included, must match a hash in the lock file.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
# The app itself, editable, with the build backend just installed (no network fetch).
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e app

.venv/bin/python -m tests.binaries
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
