"""The stack's configuration as Docker Compose resolves it, for the tests to run natively.

`docker compose config` is the real parser: it validates the compose files and resolves
variables, defaults and overrides. The tests take each service's environment and
command from its output, so that the processes they run get exactly what the
containers would, with two translations for running outside containers:
in-network addresses (`jaeger:4317`) become the loopback ports the tests chose, and
paths inside mounts become host paths: in a bind mount (`/certs/ca.pem`) the mounted
file's, in a named volume (`/tmp/badger/keys` in `jaeger-data`) a folder of the test's,
a secret (`/run/secrets/collector_token`) its file.
"""

import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness import REPO, binaries

Config = dict[str, Any]
# Where compose mounts a service's secrets.
SECRETS = "/run/secrets"


def resolve(
    *files: str,
    project_dir: Path = REPO,
    variables: Mapping[str, str] | None = None,
    release: binaries.GoModuleBinary = binaries.COMPOSE,
) -> Config:
    """`docker compose [-f FILE ...] config` of the project, as a dict. `variables` are
    what a user would put in .env or the shell; nothing else of the test's environment
    reaches compose. `release`: the Compose that renders it (an older one, say)."""
    options = [arg for name in files for arg in ("-f", str(project_dir / name))]
    completed = subprocess.run(
        [str(binaries.ensure(release)), "--project-directory", str(project_dir), *options,
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


def _mounts(config: Config, service: str, volumes: Mapping[str, Path]) -> dict[str, str]:
    mounts = {}
    for volume in config["services"][service].get("volumes") or []:
        if volume["type"] == "bind":
            mounts[volume["target"]] = volume["source"]
        elif volume["type"] == "volume":
            # Never the real path on this host: tests would share (or clobber) it.
            assert volume["source"] in volumes, f"{service}: give the test's folder for volume {volume['source']}"
            mounts[volume["target"]] = str(volumes[volume["source"]])
    return mounts | secret_files(config, service)


def secret_files(config: Config, service: str) -> dict[str, str]:
    """Where compose mounts each secret of the service, and the file it mounts there."""
    files = {}
    for secret in config["services"][service].get("secrets") or []:
        # Compose mounts a secret's file at /run/secrets/<target>, its name by default.
        target = secret.get("target") or secret["source"]
        target = target if target.startswith("/") else f"{SECRETS}/{target}"
        files[target] = config["secrets"][secret["source"]]["file"]
    return files


def secrets_folder(config: Config, service: str, folder: Path) -> Path:
    """A folder in `folder` that stands for the service's /run/secrets, for a program that
    names the folder rather than a file (Kafka's DirectoryConfigProvider): a link to each
    secret's file, named as compose mounts it."""
    made = folder / f"{service}-secrets"
    made.mkdir(exist_ok=True)
    for target, source in secret_files(config, service).items():
        assert target.startswith(SECRETS + "/"), f"{service}: {target} is not in {SECRETS}"
        link = made / target.removeprefix(SECRETS + "/")
        link.unlink(missing_ok=True)
        link.symlink_to(source)
    return made


def volume_folders(config: Config, service: str, folder: Path) -> dict[str, Path]:
    """A folder of the test's, in `folder`, for each named volume the service mounts."""
    mounted = config["services"][service].get("volumes") or []
    return {volume["source"]: folder / volume["source"] for volume in mounted if volume["type"] == "volume"}


def environment(
    config: Config, service: str, addresses: Mapping[str, str], volumes: Mapping[str, Path] | None = None
) -> dict[str, str]:
    """The service's environment, translated to run on this host; `volumes` gives a
    folder for each named volume the service mounts."""
    mounts = _mounts(config, service, volumes or {})
    env = config["services"][service].get("environment") or {}
    return {name: _localize(value or "", mounts, addresses) for name, value in env.items()}


def command(
    config: Config, service: str, addresses: Mapping[str, str], volumes: Mapping[str, Path] | None = None
) -> list[str]:
    """The service's command arguments, translated to run on this host (`volumes` as
    for `environment`)."""
    mounts = _mounts(config, service, volumes or {})
    return [_localize(arg, mounts, addresses) for arg in config["services"][service].get("command") or []]
