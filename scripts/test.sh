#!/usr/bin/env bash
# The project's test command, from a fresh clone: ./scripts/test.sh [pytest args]
#
# Sets up .venv and the real servers (setup-dev.sh), checks the code with ruff, runs
# pytest. Needs: Python >= 3.11, Go, openssl, and access to PyPI and the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup-dev.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
