#!/usr/bin/env bash
# What the tests and the benchmarks need, from a fresh clone: ./scripts/setup-dev.sh
#
# Installs the pinned Python packages into .venv and builds the real servers (Jaeger
# all-in-one, the OpenTelemetry Collector and Docker Compose, from their Go modules,
# cached in ~/.cache/otel-python-jaeger-reference). Called by test.sh and benchmark.sh.
# Needs: Python >= 3.11, Go, and access to PyPI and the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
# Every package, the tools included, must match a hash in the lock file.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
# The app itself, editable, with the build backend just installed (no network fetch).
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e app

.venv/bin/python -m harness.binaries
