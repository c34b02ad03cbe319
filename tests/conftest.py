"""Shared fixtures: the built servers, the resolved compose configuration, a running Jaeger
and the app's environment for it, a Docker Engine. What they are made of is in harness/."""

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import binaries, compose, engine, standins
from harness.native import jaeger_environment
from harness.servers import Jaeger, running_jaeger
from harness.user_scripts import make_certs


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
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The certificates make-certs.sh makes, as a user runs it (read, never changed)."""
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="session")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Certificates of another, unrelated CA."""
    return make_certs(tmp_path_factory.mktemp("other-ca"))


@pytest.fixture(scope="session")
def running_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[engine.Engine]:
    """A running Docker Engine; without one the test skips, and under CI it fails."""
    try:
        with engine.running(tmp_path_factory.mktemp("engine")) as running:
            yield running
    except engine.NoEngine as reason:
        message = f"no Docker Engine here: {reason}"
        pytest.fail(message) if os.environ.get("CI") == "true" else pytest.skip(message)


# The stack's published ports moved, as a user moves them (.env.example), and Jaeger's
# URL with them: the engine's tests run in two groups side by side, one on these ports,
# the other (marker default_ports) on the defaults the docs use.
MOVED_PORTS = {
    "JAEGER_UI_PORT": "26686",
    "JAEGER_OTLP_GRPC_PORT": "24317",
    "COLLECTOR_OTLP_GRPC_PORT": "24318",
    "JAEGER_URL": "http://localhost:26686",
}


@pytest.fixture
def docker_engine(request: pytest.FixtureRequest, running_engine: engine.Engine) -> engine.Engine:
    """The running engine, with the environment of the test's group: its ports."""
    if request.node.get_closest_marker("default_ports"):
        return running_engine
    return dataclasses.replace(running_engine, env={**running_engine.env, **MOVED_PORTS})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Workers run groups side by side (tests/run.sh: pytest-xdist, --dist loadgroup).
    # The engine's tests publish the stack's host ports: two groups, each on ports of its
    # own (docker_engine), its tests one at a time.
    # A module whose tests share a server (a module-scoped fixture) stays on one worker,
    # so that the server starts once. Every other test goes wherever a worker is free.
    # The longest groups, the engine's and the scale pipeline's, are handed out first.
    for item in items:
        if "docker_engine" in item.fixturenames:
            ports = "default ports" if item.get_closest_marker("default_ports") else "moved ports"
            item.add_marker(pytest.mark.xdist_group(f"engine, {ports}"))
        elif any(each.scope == "module" for defs in item._fixtureinfo.name2fixturedefs.values() for each in defs):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
    items.sort(key=lambda item: _LONGEST_FIRST.get(_group(item), len(_LONGEST_FIRST)))


_LONGEST_FIRST = {"engine, default ports": 0, "engine, moved ports": 1, "tests.test_scale": 2}


def _group(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("xdist_group")
    return marker.args[0] if marker else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Iterator[None]:
    # Each report names its group: the summary adds up the time of each.
    outcome = yield
    outcome.get_result().group = _group(item)


def pytest_sessionfinish(session: pytest.Session) -> None:
    # A worker hands the images it ran to the process that reports (pytest-xdist).
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["standins"] = dict(standins.USED)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:  # pytest-xdist's hook, in the reporting process
    standins.USED.update(node.workeroutput.get("standins", {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # What the tests measured on the way (record_property): reported, never asserted.
    measured = [
        (report.nodeid, name, value)
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        if getattr(report, "when", "") == "call"
        for name, value in report.user_properties
    ]
    if measured:
        terminalreporter.section("measured on this machine, reported, not asserted")
        for nodeid, name, value in measured:
            terminalreporter.write_line(f"{nodeid.split('::')[-1]}\n    {name}: {value}")
    _time_per_group(terminalreporter)
    if standins.USED:
        terminalreporter.section("images the Docker tests ran")
        for pinned, used in sorted(standins.USED.items()):
            terminalreporter.write_line(f"{pinned}\n    {'pulled' if used == pinned else 'stand-in: ' + used}")


def _time_per_group(terminalreporter: pytest.TerminalReporter) -> None:
    # Each group's time on its worker (set-up, call and teardown of its tests), longest
    # first: what bounds the whole run's. docs/testing.md gives a measured run's.
    seconds: dict[str, float] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            if isinstance(report, pytest.TestReport):
                name = getattr(report, "group", None) or "any worker: " + report.nodeid.split("::")[0]
                seconds[name] = seconds.get(name, 0.0) + report.duration
    if seconds:
        terminalreporter.section("time per group, reported, not asserted")
        for name, total in sorted(seconds.items(), key=lambda each: -each[1]):
            terminalreporter.write_line(f"{total / 60:6.1f} min  {name}")
