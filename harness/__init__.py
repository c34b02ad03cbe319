"""The harness the tests and the benchmarks share: the real servers built and started,
the compose configuration resolved, the app and the smoke test run as processes, the
stack under a Docker Engine.

It lives beside tests/ and benchmarks/, not inside either, so that both import it the
same way and tests/ holds only tests and their fixtures.
"""

from pathlib import Path

# The repository's root: compose files, scripts and the app are found from here.
REPO = Path(__file__).resolve().parent.parent


class Missing(Exception):
    """A program the tests need is missing here and cannot be installed by this user; the
    message says, in one line, which package to install. The tests skip with it (under
    CI, where everything must be there, they fail)."""
