#!/usr/bin/env bash
# What the tests and the benchmarks need, from a fresh clone: ./harness/setup.sh
#
# Installs the pinned Python packages into .venv and builds the real servers (Jaeger
# all-in-one, the OpenTelemetry Collector and Docker Compose, from their Go modules,
# cached in ~/.cache/otel-python-jaeger-reference), and fetches Kafka and Cassandra from
# Maven Central into the same cache. Called by tests/run.sh and benchmarks/run.sh.
# Needs: Python >= 3.11, Go, Java 17, Maven, and access to PyPI, the Go module proxy and
# Maven Central (Java and Maven are installed with apt when missing and run as root).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
# Every package, the tools included, must match a hash in the lock file.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
# The app itself, editable, with the build backend just installed (no network fetch).
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e app

.venv/bin/python -m harness.binaries
# Kafka and Cassandra for the scale tests, from Maven Central into the same cache (Maven
# and Java 17 installed with apt where missing, as root).
.venv/bin/python -m harness.java_engines
