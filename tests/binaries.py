"""Builds the real servers the tests run, from their Go modules, and caches them.

There is no Docker engine on the test machines, so the tests run the same programs
the images hold, built natively: Jaeger all-in-one (the version compose.yaml pins)
and Docker Compose (a real Compose v2 parser for `docker compose config`).

Neither can be built with `go install module/cmd@version`: their go.mod files carry
`replace`/`exclude` directives, which Go only honours in the main module. So the
module is downloaded through the Go module proxy (checked against the checksum
database) and built inside its own directory, where its go.mod is the main one.

Binaries are cached outside the repository, one folder per name and version, so a
second run costs nothing. Run `python -m tests.binaries` to build them ahead.
"""

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GoBinary:
    name: str
    module: str
    version: str
    package: str  # inside the module
    ldflags: str = ""

    @property
    def path(self) -> Path:
        return cache_dir() / f"{self.name}-{self.version}" / self.name


# The image compose.yaml runs is jaegertracing/all-in-one:1.55 (tests check the two agree).
JAEGER = GoBinary("jaeger-all-in-one", "github.com/jaegertracing/jaeger", "v1.55.0", "./cmd/all-in-one")
COMPOSE = GoBinary(
    "docker-compose",
    "github.com/docker/compose/v2",
    "v2.40.3",
    "./cmd",
    ldflags="-X github.com/docker/compose/v2/internal.Version=v2.40.3",
)
ALL = (JAEGER, COMPOSE)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "otel-python-jaeger-reference"


def ensure(binary: GoBinary) -> Path:
    """Return the cached binary, building it first if it is not there yet."""
    if binary.path.is_file():
        return binary.path
    print(f"building {binary.module}@{binary.version} ({binary.package}), once", file=sys.stderr, flush=True)
    download = subprocess.run(
        ["go", "mod", "download", "-json", f"{binary.module}@{binary.version}"],
        check=True,
        capture_output=True,
        text=True,
    )
    module_dir = json.loads(download.stdout)["Dir"]
    binary.path.parent.mkdir(parents=True, exist_ok=True)
    # Build next to the final path, then rename: a killed build never leaves half a binary.
    with tempfile.TemporaryDirectory(dir=binary.path.parent) as scratch:
        target = Path(scratch) / binary.name
        subprocess.run(
            ["go", "build", "-trimpath", f"-ldflags={binary.ldflags}", "-o", str(target), binary.package],
            cwd=module_dir,
            check=True,
            # The module cache is read-only; never let Go try to tidy go.mod there.
            env={**os.environ, "GOFLAGS": "-mod=readonly"},
        )
        target.rename(binary.path)
    return binary.path


if __name__ == "__main__":
    for each in ALL:
        print(ensure(each))
