#!/usr/bin/env bash
# Mutation testing of the app against its fast tests: ./tests/mutation.sh [mutant names]
#
# mutmut changes one operator, comparison, constant, argument or return value at a time in
# app/src/inprocess_grpc/*.py and runs the fast tests (`pytest -m fast`) against each
# mutant; a mutant no test fails on survived. Prints the counts per module and the diff
# of every mutant not detected. Mutant names (from a report) test only those.
#
# Runs in a copy: the repository's files (tracked, and new ones not ignored) in a
# temporary folder, removed at the end (KEEP=1 keeps it and says where). mutmut, pinned
# below, and the pinned dev requirements go to a venv of their own under
# ~/.cache/otel-python-jaeger-reference, made once. Nothing in the worktree changes.
# Not part of CI or of tests/run.sh: minutes, on all cores. Needs: Python >= 3.11, git,
# fork() (Linux, macOS; WSL on Windows), PyPI the first time. Last result: docs/project/testing.md.
set -euo pipefail
cd "$(dirname "$0")/.."

MUTMUT_VERSION=3.8.1
cache="${XDG_CACHE_HOME:-$HOME/.cache}/otel-python-jaeger-reference"
lock="$(python3 -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()[:12])' requirements-dev.txt)"
venv="$cache/mutmut-$MUTMUT_VERSION-$lock"
if [ ! -f "$venv/.complete" ]; then
  echo "making $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "mutmut==$MUTMUT_VERSION"
  touch "$venv/.complete"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/mutation-test.XXXXXX")"
if [ "${KEEP:-}" = 1 ]; then
  trap 'echo "kept: $work (mutmut show NAME there, with $venv/bin/mutmut)" >&2' EXIT
else
  trap 'rm -rf "$work"' EXIT
fi
git ls-files -z --cached --others --exclude-standard |
  "$venv/bin/python" -c '
import os, shutil, sys
for path in sys.stdin.buffer.read().decode().split("\0"):
    if path and os.path.isfile(path):  # a tracked file deleted in the worktree is left out
        os.makedirs(os.path.join(sys.argv[1], os.path.dirname(path)), exist_ok=True)
        shutil.copy2(path, os.path.join(sys.argv[1], path))
' "$work"
cd "$work"

# mutmut names a module by its path from src/ (src/inprocess_grpc/cli.py: inprocess_grpc.cli),
# and puts its mutated copy first on sys.path as mutants/src. So in the copy: src is the app's
# source folder, pytest imports the app from there, and mutmut's settings are added. The
# subprocess tests still run the unmutated app/src: mutants are seen only in process.
ln -s app/src src
"$venv/bin/python" - <<'EOF'
import json
from pathlib import Path

pyproject = Path("pyproject.toml")
text = pyproject.read_text()
old = 'pythonpath = [".", "app/src", "smoke/src"]'
assert old in text, f"pyproject.toml no longer has {old!r}: update tests/mutation.sh"
# Everything but the source goes into mutmut's mutants/ folder too: the tests read it.
also_copy = sorted(path.name for path in Path().iterdir() if path.name != "src")
pyproject.write_text(
    text.replace(old, 'pythonpath = [".", "src", "smoke/src"]')
    + f"""
[tool.mutmut]
source_paths = ["src/inprocess_grpc"]
also_copy = {json.dumps(also_copy)}
pytest_add_cli_args = ["-m", "fast", "-p", "no:cacheprovider"]
pytest_add_cli_args_test_selection = ["tests"]
"""
)
EOF

echo "mutmut $MUTMUT_VERSION on app/src/inprocess_grpc/*.py, killed by: pytest -m fast" >&2
started=$SECONDS
if ! "$venv/bin/mutmut" run "$@" >mutmut-run.log 2>&1; then
  tr '\r' '\n' <mutmut-run.log | tail -40 >&2
  echo "mutmut run failed (above)" >&2
  exit 1
fi
echo "$((SECONDS - started)) s" >&2

# The report: counts per module, then the diff of every mutant not killed.
"$venv/bin/python" - "$venv/bin/mutmut" <<'EOF'
import collections
import subprocess
import sys

mutmut = sys.argv[1]
lines = subprocess.check_output([mutmut, "results", "--all", "true"], text=True).splitlines()
status = dict(line.strip().rsplit(": ", 1) for line in lines if ": " in line)
columns = ["killed", "timeout", "survived", "no tests", "other"]
counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
for name, result in status.items():
    module = name.split(".x")[0].removeprefix("inprocess_grpc.")
    column = result if result in columns else "other"
    counts[module][column] += 1
    counts["all"][column] += 1

print(f"\n{'module':<12}" + "".join(f"{column:>10}" for column in columns) + f"{'total':>8}{'detected':>10}")
for module in sorted(counts, key=lambda module: (module == "all", module)):
    row = counts[module]
    total = sum(row.values())
    detected = row["killed"] + row["timeout"]
    print(
        f"{module:<12}"
        + "".join(f"{row[column]:>10}" for column in columns)
        + f"{total:>8}{100 * detected / total:>9.1f}%"
    )
print("\ndetected: killed or timed out; other: suspicious, skipped, segfault, not checked")

left = [name for name, result in status.items() if result not in ("killed", "timeout", "not checked")]
print(f"\n{len(left)} not detected:\n")
for name in left:
    print(subprocess.check_output([mutmut, "show", name], text=True))
EOF
