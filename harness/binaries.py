"""Builds the real servers the tests run, from their Go modules, and caches them.

The native tests run the same programs the images hold, built here, static (no cgo),
so that the stand-in images of the Docker tests (harness/standins.py) carry them too:

- Jaeger all-in-one, the version compose.yaml pins;
- the OpenTelemetry Collector, built by the Collector Builder from
  harness/otel-collector-builder.yaml (the components and version of compose's image);
- Docker Compose, a real Compose v2 parser for `docker compose config`.

Jaeger and Compose cannot be built with `go install module/cmd@version`: their go.mod
files carry `replace`/`exclude` directives, which Go only honours in the main module.
So the module is downloaded through the Go module proxy (checked against the checksum
database) and built inside its own directory, where its go.mod is the main one.

Binaries are cached outside the repository (harness/cache.py), one folder per name and
version (and manifest). `python -m harness.binaries` builds them all.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from harness import REPO, Missing
from harness.cache import cache_dir, made_once


def _go(*args: str, cwd: Path | str | None = None, **env: str) -> str:
    if not shutil.which("go"):
        raise Missing("go is missing from PATH: install Go 1.26 or newer, and put its bin folder on PATH")
    completed = subprocess.run(
        ["go", *args], cwd=cwd, env={**os.environ, **env}, check=True, stdout=subprocess.PIPE, text=True
    )
    return completed.stdout


@dataclass(frozen=True)
class GoModuleBinary:
    """A main package of a module, built inside the downloaded module."""

    name: str
    module: str
    version: str
    package: str
    ldflags: str = ""

    @property
    def path(self) -> Path:
        return cache_dir() / f"{self.name}-{self.version}" / self.name

    def build(self, target: Path) -> None:
        # The module cache is read-only: Go must not try to tidy go.mod there.
        _go("build", "-trimpath", f"-ldflags={self.ldflags}", "-o", str(target), self.package,
            cwd=module_dir(self), GOFLAGS="-mod=readonly", CGO_ENABLED="0")  # fmt: skip


def module_dir(binary: GoModuleBinary) -> Path:
    """The binary's module, downloaded through the proxy and checked against the sum database."""
    return Path(json.loads(_go("mod", "download", "-json", f"{binary.module}@{binary.version}"))["Dir"])


@dataclass(frozen=True)
class BuiltCollector:
    """A collector generated and compiled by the Collector Builder from a manifest that
    lists its components' modules; each at `version`, as is the collector."""

    manifest: Path
    version: str
    name: str = "otelcol-reference"

    @property
    def modules(self) -> list[str]:
        """The Go module of each component, `path vX.Y.Z`."""
        listed = yaml.safe_load(self.manifest.read_text())
        return [f"{each['gomod']} v{self.version}" for section in listed.values() if isinstance(section, list)
                for each in section]  # fmt: skip

    def _versioned_manifest(self) -> str:
        listed = yaml.safe_load(self.manifest.read_text())
        listed["dist"]["version"] = self.version
        for section in listed.values():
            if isinstance(section, list):
                for each in section:
                    each["gomod"] += f" v{self.version}"
        return yaml.safe_dump(listed, sort_keys=False)

    @property
    def path(self) -> Path:
        # The manifest's hash is in the key: changing a component or the version rebuilds.
        digest = hashlib.sha256(self._versioned_manifest().encode()).hexdigest()[:12]
        return cache_dir() / f"{self.name}-{self.version}-{digest}" / self.name

    def build(self, target: Path) -> None:
        # The builder of the collector's own version generates code for that version.
        gobin = cache_dir() / f"builder-v{self.version}"
        _go("install", f"go.opentelemetry.io/collector/cmd/builder@v{self.version}", GOBIN=str(gobin))
        work = target.parent
        (work / "manifest.yaml").write_text(self._versioned_manifest())
        subprocess.run([str(gobin / "builder"), "--config", "manifest.yaml"], cwd=work, check=True,
                       stdout=subprocess.DEVNULL, env={**os.environ, "CGO_ENABLED": "0"})  # fmt: skip
        (work / "build" / self.name).rename(target)


class _ComposeLoader(yaml.SafeLoader):
    """YAML with compose's own tags (`!override`, `!reset`) read as plain values."""


def _untagged(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> object:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)


_ComposeLoader.add_multi_constructor("!", _untagged)


def pinned_image(path: Path, service: str) -> str:
    """The image a service of the compose file (or fragment) at `path` runs by default: its
    `image:`, with `${VARIABLE:-default}` read as compose reads it when VARIABLE is unset."""
    image = str(yaml.load(path.read_text(), _ComposeLoader)["services"][service]["image"])
    variable = re.fullmatch(r"\$\{\w+:-(.+)\}", image)
    return variable[1] if variable else image


def jaeger_module_version(image: str) -> str:
    """The version of Jaeger's Go module whose code a Jaeger image runs: 1.X is v1.X.0.
    Jaeger v2's code is released in the same module under its v1 numbering, each v2
    release together with a v1 one, from v2.0.0 = v1.63.0 on: so v2.X.Y = v1.(X+63).Y
    (v2.13.0 = v1.76.0, its CHANGELOG's "v1.76.0 / v2.13.0")."""
    tag = image.partition("@")[0].rpartition(":")[2]
    version = re.fullmatch(r"([12])\.(\d+)(?:\.(\d+))?", tag)
    if not version:
        raise ValueError(f"{image}: not a Jaeger 1.x or 2.x tag")
    major, minor, patch = version[1], int(version[2]), version[3] or "0"
    return f"v1.{minor}.{patch}" if major == "1" else f"v1.{minor + 63}.{patch}"


# Jaeger all-in-one, the image compose.yaml runs.
JAEGER = GoModuleBinary(
    "jaeger-all-in-one",
    "github.com/jaegertracing/jaeger",
    jaeger_module_version(pinned_image(REPO / "compose.yaml", "jaeger")),
    "./cmd/all-in-one",
)
# Jaeger v2, the image jaeger-v2-image.yaml pins: the `jaeger` command of the same module.
JAEGER_V2 = GoModuleBinary(
    "jaeger",
    "github.com/jaegertracing/jaeger",
    jaeger_module_version(pinned_image(REPO / "jaeger-v2-image.yaml", "jaeger")),
    "./cmd/jaeger",
)
# The collector, at the version of the image compose.collector.yaml runs.
COLLECTOR = BuiltCollector(
    REPO / "harness" / "otel-collector-builder.yaml",
    pinned_image(REPO / "compose.collector.yaml", "otel-collector").partition("@")[0].rpartition(":")[2],
)
COMPOSE = GoModuleBinary(
    "docker-compose",
    "github.com/docker/compose/v2",
    "v2.40.3",
    "./cmd",
    ldflags="-X github.com/docker/compose/v2/internal.Version=v2.40.3",
)
# A release before 2.24.4, which ignores `!override`: what scripts/lib/compose-version.sh refuses.
OLD_COMPOSE = GoModuleBinary(
    "docker-compose",
    "github.com/docker/compose/v2",
    "v2.23.3",
    "./cmd",
    ldflags="-X github.com/docker/compose/v2/internal.Version=v2.23.3",
)
ALL = (JAEGER, JAEGER_V2, COLLECTOR, COMPOSE, OLD_COMPOSE)


def ensure(binary: GoModuleBinary | BuiltCollector) -> Path:
    """Return the cached binary, building it first if it is not there yet."""
    return made_once(binary.path, binary.build, f"building {binary.path.parent.name}")


if __name__ == "__main__":
    for each in ALL:
        print(ensure(each))
