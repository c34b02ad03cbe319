#!/usr/bin/env bash
# Every figure of docs/project/performance.md, from a fresh clone:
#   ./benchmarks/run.sh [overhead|throughput|export-cost|visibility|cold-start|queue-memory|flood|scale|smoke-check ...] [--quick]
#
# Sets up .venv and the real servers (harness/setup.sh), then runs the benchmarks against
# Jaeger and the collector on loopback and prints their tables (Markdown); how long it
# takes is in docs/project/performance.md. --quick runs fewer repetitions, for a look, not for the docs.
set -euo pipefail
cd "$(dirname "$0")/.."

./harness/setup.sh
# What the benchmarks import: the harness they share with the tests (from the root), the
# app, and the smoke test's package (smoke/src, its Jaeger client): spans are counted
# with the very code the smoke test and the tests use.
export PYTHONPATH="$PWD:$PWD/app/src:$PWD/smoke/src"
exec .venv/bin/python -m benchmarks "$@"
