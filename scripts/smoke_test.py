#!/usr/bin/env python3
"""The smoke test from a checkout: `python3 scripts/smoke_test.py [options]`.

Checks the app's trace in Jaeger against expected-trace.json at the repository's root
(whatever the current directory), with the jaeger-smoke package in smoke/ (standard
library only, so a bare `python3` runs it). `--help` lists the options; the file's
format, the exit statuses and other teams' use: docs/smoke-test.md.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "smoke" / "src"))

from jaeger_smoke.__main__ import main  # noqa: E402 - found through the path just set

if __name__ == "__main__":
    sys.exit(main(prog="smoke_test.py", default_expect=str(ROOT / "expected-trace.json")))
