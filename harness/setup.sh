#!/usr/bin/env bash
# What the tests and the benchmarks need, from a fresh clone: ./harness/setup.sh
#
# Installs the pinned Python packages into .venv and builds the real servers (Jaeger
# all-in-one and v2, the OpenTelemetry Collector and Docker Compose, from their Go
# modules, cached in ~/.cache/otel-python-jaeger-reference). Called by tests/run.sh and
# benchmarks/run.sh. Needs: Python >= 3.11, Go 1.26 or newer, and access to PyPI and the
# Go module proxy. Kafka and Cassandra (Java 17, Maven, Maven Central) are fetched only
# by the scale tests that run them (harness/java_engines.py), once, into the same cache.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
# Every package, the tools included, must match a hash in the lock file.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
# The app itself, editable, with the build backend just installed (no network fetch).
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e app

.venv/bin/python -m harness.binaries
