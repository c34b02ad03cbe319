"""The smoke test run as a user's CI runs it: scripts/smoke_test.py, a process of its own."""

import os
import subprocess
import sys

from harness import REPO
from harness.servers import Jaeger


def run_smoke_test(jaeger: Jaeger | str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run scripts/smoke_test.py against `jaeger` (a running one, or any URL, given as
    JAEGER_URL); `timeout` bounds the run."""
    url = jaeger.query_url if isinstance(jaeger, Jaeger) else jaeger
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / "smoke_test.py"), *args],
        env={"PATH": os.environ["PATH"], "JAEGER_URL": url},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
