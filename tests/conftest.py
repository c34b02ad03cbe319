"""Shared fixtures: the built servers, the resolved compose configuration, the app as a process."""

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import binaries, compose
from tests.servers import Collector, Jaeger, running_collector, running_jaeger

REPO = compose.REPO
# The smoke test and its Jaeger client are scripts, not a package: import them as the
# smoke test itself does, so the tests read Jaeger with the very same code.
sys.path.insert(0, str(REPO / "scripts"))

# What the app gets besides the OTEL_* variables under test: no variable of the
# developer's shell leaks in.
BASE_ENV = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO / "app" / "src"), "LANG": "C.UTF-8"}


# Runs the app's real entry point after `setup` (Python code) has run in the same
# process: how a test changes the app's behaviour without touching its files.
MAIN_AFTER = "\nimport sys\nfrom inprocess_grpc.__main__ import main\nsys.exit(main(sys.argv[1:]))\n"


def app_command(*args: str, setup: str | None = None, launcher: tuple[str, ...] = ()) -> list[str]:
    """`python -m inprocess_grpc ARGS`, or the same entry point after `setup`."""
    if setup is None:
        return [*launcher, sys.executable, "-m", "inprocess_grpc", *args]
    return [*launcher, sys.executable, "-c", setup + MAIN_AFTER, *args]


def run_app(
    env: Mapping[str, str], *args: str, timeout: float = 60, setup: str | None = None, launcher: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run the app with exactly BASE_ENV + `env`; `timeout` bounds the run."""
    return subprocess.run(
        app_command(*args, setup=setup, launcher=launcher),
        env={**BASE_ENV, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line_error(stderr: str, *fragments: str) -> None:
    """`stderr` is one line, no traceback, and says each of `fragments`."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def run_smoke_test(jaeger: Jaeger, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run scripts/smoke_test.py as a user's CI does, against `jaeger`."""
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / "smoke_test.py"), *args],
        env={"PATH": os.environ["PATH"], "JAEGER_URL": jaeger.query_url},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass
class Stack:
    jaeger: Jaeger
    collector: Collector | None
    app_env: dict[str, str]


@contextmanager
def running_stack(config: compose.Config, tmp_path: Path) -> Iterator[Stack]:
    """Jaeger, and the collector if the configuration has one, as compose configures them."""
    with ExitStack() as stack:
        jaeger_env = jaeger_environment(config, tmp_path)
        jaeger_binary = binaries.ensure(binaries.JAEGER)
        jaeger = stack.enter_context(running_jaeger(jaeger_binary, jaeger_env, tmp_path / "jaeger.log"))
        addresses = {"jaeger:4317": jaeger.otlp_grpc}
        collector = None
        if "otel-collector" in config["services"]:
            collector = stack.enter_context(
                running_collector(
                    binaries.ensure(binaries.COLLECTOR),
                    compose.command(config, "otel-collector", addresses),
                    compose.environment(config, "otel-collector", addresses),
                    tmp_path / "collector.log",
                )
            )
            addresses["otel-collector:4317"] = collector.otlp_grpc
        yield Stack(jaeger, collector, compose.environment(config, "app", addresses))


@pytest.fixture(scope="session")
def compose_config() -> dict:
    return compose.resolve("compose.yaml")


@pytest.fixture(scope="session")
def jaeger_binary() -> Path:
    return binaries.ensure(binaries.JAEGER)


def jaeger_environment(config: compose.Config, folder: Path) -> dict[str, str]:
    """Jaeger's environment from compose, its storage volume in `folder`."""
    return compose.environment(config, "jaeger", {}, volumes={"jaeger-data": folder / "jaeger-data"})


@pytest.fixture
def jaeger(jaeger_binary: Path, compose_config: dict, tmp_path: Path) -> Iterator[Jaeger]:
    """A fresh Jaeger all-in-one 1.55 with the environment compose gives its container."""
    env = jaeger_environment(compose_config, tmp_path)
    with running_jaeger(jaeger_binary, env, tmp_path / "jaeger.log") as server:
        yield server


@pytest.fixture
def app_env(compose_config: dict, jaeger: Jaeger) -> dict[str, str]:
    """The app container's environment from compose, pointed at the test's Jaeger."""
    return compose.environment(compose_config, "app", {"jaeger:4317": jaeger.otlp_grpc})
