"""The stack's configuration as Docker Compose resolves it, for the tests to run natively.

`docker compose config` is the real parser: it validates the compose files and resolves
variables, defaults and overrides. The tests take each service's environment and
command from its output, so that the processes they run get exactly what the
containers would, with two translations for running outside containers:
in-network addresses (`jaeger:4317`) become the loopback ports the tests chose, and
paths inside bind mounts (`/certs/ca.pem`) become the mounted files' host paths.
"""

import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests import binaries

REPO = Path(__file__).resolve().parent.parent
Config = dict[str, Any]


def resolve(*files: str, project_dir: Path = REPO, variables: Mapping[str, str] | None = None) -> Config:
    """`docker compose [-f FILE ...] config` of the project, as a dict. `variables` are
    what a user would put in .env or the shell; nothing else of the test's environment
    reaches compose."""
    options = [arg for name in files for arg in ("-f", str(project_dir / name))]
    completed = subprocess.run(
        [str(binaries.ensure(binaries.COMPOSE)), "--project-directory", str(project_dir), *options,
         "config", "--format", "json"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **(variables or {})},
    )  # fmt: skip
    if completed.returncode != 0:
        raise AssertionError(f"docker compose config failed:\n{completed.stderr}")
    return json.loads(completed.stdout)


def _localize(value: str, mounts: Mapping[str, str], addresses: Mapping[str, str]) -> str:
    flag, sep, path = value.partition("=") if value.startswith("--") else ("", "", value)
    for target, source in mounts.items():
        if path == target or path.startswith(target + "/"):
            path = source + path[len(target) :]
    value = flag + sep + path
    # Only exact `host:port` occurrences: an address compose gets wrong stays wrong.
    for address, local in addresses.items():
        value = value.replace(address, local)
    return value


def _mounts(config: Config, service: str) -> dict[str, str]:
    volumes = config["services"][service].get("volumes") or []
    return {volume["target"]: volume["source"] for volume in volumes if volume["type"] == "bind"}


def environment(config: Config, service: str, addresses: Mapping[str, str]) -> dict[str, str]:
    """The service's environment, translated to run on this host."""
    mounts = _mounts(config, service)
    env = config["services"][service].get("environment") or {}
    return {name: _localize(value or "", mounts, addresses) for name, value in env.items()}


def command(config: Config, service: str, addresses: Mapping[str, str]) -> list[str]:
    """The service's command arguments, translated to run on this host."""
    mounts = _mounts(config, service)
    return [_localize(arg, mounts, addresses) for arg in config["services"][service].get("command") or []]
