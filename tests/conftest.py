"""Shared fixtures: the built servers, the resolved compose configuration, the app as a process."""

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests import binaries, compose, engine, standins
from tests.servers import Jaeger, running_jaeger
from tests.stack import BASE_ENV, REPO, app_command, jaeger_environment

# The smoke test and its Jaeger client are scripts, not a package: import them as the
# smoke test itself does, so the tests read Jaeger with the very same code.
sys.path.insert(0, str(REPO / "scripts"))


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


@pytest.fixture(scope="session")
def compose_config() -> dict:
    return compose.resolve("compose.yaml")


@pytest.fixture(scope="session")
def jaeger_binary() -> Path:
    return binaries.ensure(binaries.JAEGER)


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


@pytest.fixture(scope="session")
def docker_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[engine.Engine]:
    """A running Docker Engine; without one the test skips, and under CI it fails."""
    try:
        with engine.running(tmp_path_factory.mktemp("engine")) as running:
            yield running
    except engine.NoEngine as reason:
        message = f"no Docker Engine here: {reason}"
        pytest.fail(message) if os.environ.get("CI") == "true" else pytest.skip(message)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if standins.USED:
        terminalreporter.section("images the Docker tests ran")
        for pinned, used in sorted(standins.USED.items()):
            terminalreporter.write_line(f"{pinned}\n    {'pulled' if used == pinned else 'stand-in: ' + used}")
