"""The tests' cache of built servers and fetched engines, outside the repository.

One folder per name and version under `~/.cache/otel-python-jaeger-reference` (under
`$XDG_CACHE_HOME` when it is set), so a second run makes nothing. Test workers run side
by side: a lock per entry lets one make it while the others wait, then use it.
"""

import fcntl
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "otel-python-jaeger-reference"


def made_once(path: Path, make: Callable[[Path], None], what: str) -> Path:
    """`path`, made first by `make(target)` if it is not there yet: `make` fills a scratch
    `target` beside it, renamed into place when complete, so an interrupted run never
    leaves half of it. `what` is the line a user reads while it is made."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with (path.parent / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be making it: wait for it
        if path.exists():
            return path
        print(f"{what}, once", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
            target = Path(scratch) / path.name
            make(target)
            target.rename(path)
    return path
