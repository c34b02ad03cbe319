"""Benchmarks: scripts that print figures, never timed tests.

Each runs its variants interleaved, several repetitions, against the real Jaeger and
collector on loopback, and reports medians and the ratio to a baseline, so that a
noisy machine shows as spread instead of misleading. Run them all with
`./scripts/benchmark.sh`; the README's performance section is their output.
"""

import sys
from pathlib import Path

# Jaeger's API client is a script beside the smoke test, not a package: the benchmarks
# count spans with the very code the smoke test and the tests use.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
