"""The stack's configuration as Docker Compose resolves it, for the tests to run natively.

`docker compose config` is the real parser: it validates compose.yaml and resolves
variables, defaults and .env. The tests take the services' environments from its
output, so that the processes they run get exactly what the containers would.
"""

import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests import binaries

REPO = Path(__file__).resolve().parent.parent


def resolve(project_dir: Path = REPO, *options: str) -> dict[str, Any]:
    """`docker compose config` of the project in `project_dir`, as a dict."""
    completed = subprocess.run(
        [
            str(binaries.ensure(binaries.COMPOSE)),
            "--project-directory",
            str(project_dir),
            *options,
            "config",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        # Resolve the files alone, not whatever COMPOSE_* or .env the developer's shell has.
        env={"PATH": "/usr/bin:/bin"},
    )
    if completed.returncode != 0:
        raise AssertionError(f"docker compose config failed:\n{completed.stderr}")
    return json.loads(completed.stdout)


def environment(config: Mapping[str, Any], service: str, hosts: Mapping[str, str]) -> dict[str, str]:
    """The service's environment, with in-network addresses (`jaeger:4317`) replaced by
    where the tests run those servers (`127.0.0.1:PORT`). Only exact `host:port`
    occurrences are replaced: an address compose gets wrong stays wrong."""
    resolved = {}
    for name, value in (config["services"][service].get("environment") or {}).items():
        value = value or ""
        for address, local in hosts.items():
            value = value.replace(address, local)
        resolved[name] = value
    return resolved
