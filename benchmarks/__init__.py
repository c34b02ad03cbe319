"""Benchmarks: scripts that print figures, never timed tests.

Each runs its variants interleaved, several repetitions, against the real Jaeger and
collector on loopback, and reports medians and the ratio to a baseline, so that a
noisy machine shows as spread instead of misleading. Run them all with
`./benchmarks/run.sh`; docs/project/performance.md is their output.
"""

import importlib.util

# Jaeger's API client is the smoke test's package (smoke/src/jaeger_smoke), not installed
# in .venv: the benchmarks count spans with the very code the smoke test and the tests
# use, found on the PYTHONPATH that benchmarks/run.sh sets.
if importlib.util.find_spec("jaeger_smoke") is None:
    raise SystemExit("the benchmarks need smoke/src on PYTHONPATH: run them with ./benchmarks/run.sh")
