"""The smoke test run as a user's CI runs it: a process of its own.

The new one through the bare script, `python3 scripts/smoke_test.py` (the jaeger-smoke
package in smoke/, expected-trace.json by default); and the old one, scripts/smoke_test.py
and scripts/jaeger_api.py as they were before it (commit OLD_COMMIT), read from git
history, for the tests and the benchmark that compare the two.
"""

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from harness import REPO
from harness.servers import Jaeger

# The last commit with the old smoke test, which asked Jaeger's removed /api/services,
# /api/traces?service=… endpoints.
OLD_COMMIT = "e0182e6"
OLD_FILES = ("scripts/smoke_test.py", "scripts/jaeger_api.py")


def _url(jaeger: Jaeger | str) -> str:
    return jaeger.query_url if isinstance(jaeger, Jaeger) else jaeger


def smoke_test_command(*args: str) -> list[str]:
    """`python3 scripts/smoke_test.py ARGS`, with the interpreter running the tests."""
    return [sys.executable, str(REPO / "scripts" / "smoke_test.py"), *args]


def smoke_test_env(jaeger: Jaeger | str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """What the smoke test gets: PATH, JAEGER_URL for `jaeger` (a running one, or any
    URL), and `env`; no variable of the developer's shell leaks in."""
    return {"PATH": os.environ["PATH"], "JAEGER_URL": _url(jaeger), **(env or {})}


def run_smoke_test(
    jaeger: Jaeger | str,
    *args: str,
    timeout: float = 60,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run scripts/smoke_test.py against `jaeger` with `env` added, in `cwd` (default:
    the current directory); `timeout` bounds the run."""
    return subprocess.run(
        smoke_test_command(*args),
        env=smoke_test_env(jaeger, env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def old_smoke_test(folder: Path) -> Path:
    """The old smoke test, written into `folder` from git history; its script's path.
    RuntimeError saying so if this clone lacks that commit (a shallow clone, say)."""
    for name in OLD_FILES:
        shown = subprocess.run(["git", "show", f"{OLD_COMMIT}:{name}"], cwd=REPO, capture_output=True, text=True)
        if shown.returncode != 0:
            raise RuntimeError(
                f"the old smoke test is read from git history, {OLD_COMMIT}:{name}, which this clone lacks"
                f" (a shallow clone? `git fetch --unshallow`): {shown.stderr.strip()}"
            )
        (folder / Path(name).name).write_text(shown.stdout)
    return folder / "smoke_test.py"


def run_old_smoke_test(
    script: Path, jaeger: Jaeger | str, *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the old smoke test (`script`, from old_smoke_test) against `jaeger`."""
    return subprocess.run(
        [sys.executable, str(script), *args],
        env={"PATH": os.environ["PATH"], "JAEGER_URL": _url(jaeger)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
