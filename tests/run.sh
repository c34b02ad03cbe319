#!/usr/bin/env bash
# The project's test command, from a fresh clone: ./tests/run.sh [pytest args]
#
# Sets up .venv and the real servers (harness/setup.sh), checks the code with ruff, runs
# pytest with its groups side by side (pytest-xdist; tests/conftest.py says what shares a
# worker). What it needs, and how long it takes: docs/project/testing.md.
set -euo pipefail
cd "$(dirname "$0")/.."

./harness/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# Most tests wait on servers, not on the CPU: one worker more than there are cores.
exec .venv/bin/python -m pytest --numprocesses "$(($(nproc) + 1))" "$@"
