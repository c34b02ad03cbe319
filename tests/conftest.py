"""Shared fixtures: the built servers, the resolved compose configuration, a running Jaeger
and the app's environment for it, a Docker Engine. What they are made of is in harness/."""

import dataclasses
import json
import os
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness import Missing, binaries, compose, engine, standins
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
        raise Missing(f"no Docker Engine here: {reason}") from None


# The engine's tests run in two groups side by side (_group): those marked default_ports
# (the scale stacks, the flood, the README's commands) on the ports the docs use; the
# others with the stack's ports moved, as a user moves them (.env.example), and a compose
# project of their own. The user's smoke test follows the UI port they moved.
MOVED_UI_PORT = "26686"
MOVED_PORTS = {
    "COMPOSE_PROJECT_NAME": "otel-python-jaeger-moved-ports",
    "JAEGER_UI_PORT": MOVED_UI_PORT,
    "JAEGER_OTLP_GRPC_PORT": "24317",
    "COLLECTOR_OTLP_GRPC_PORT": "24318",
    "JAEGER_URL": f"http://localhost:{MOVED_UI_PORT}",
}


def _as_published(node: pytest.Item | pytest.Module, running: engine.Engine) -> engine.Engine:
    if node.get_closest_marker("default_ports"):
        return running
    return dataclasses.replace(running, env={**running.env, **MOVED_PORTS}, variables=MOVED_PORTS)


@pytest.fixture
def docker_engine(request: pytest.FixtureRequest, running_engine: engine.Engine) -> engine.Engine:
    """The running engine, with the environment of the test's group: its ports."""
    return _as_published(request.node, running_engine)


@pytest.fixture(scope="module")
def module_engine(request: pytest.FixtureRequest, running_engine: engine.Engine) -> engine.Engine:
    """docker_engine, for a stack the module's tests share."""
    return _as_published(request.node, running_engine)


def pytest_configure(config: pytest.Config) -> None:
    # A run started in the background by a script (`./tests/run.sh &`, or su in the
    # background) inherits SIGINT ignored, and so would every program a test starts: the
    # tests of Ctrl+C could not interrupt them. An ignored signal is inherited across
    # exec; Python's handler is not (the programs get the default).
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    with _missing_is_a_skip():
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    with _missing_is_a_skip():
        return (yield)


@contextmanager
def _missing_is_a_skip() -> Iterator[None]:
    """What this machine lacks and this user cannot install (harness.Missing): the test
    skips, in one line naming the package; under CI, where all must be there, it fails."""
    try:
        yield
    except Missing as missing:
        pytest.fail(str(missing)) if os.environ.get("CI") == "true" else pytest.skip(str(missing))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Workers run groups side by side (tests/run.sh: pytest-xdist). The engine's tests
    # publish the stack's host ports: two groups, each on ports of its own (docker_engine),
    # its tests one at a time; the heavy stacks (Kafka, Cassandra) all in one of them.
    # A module whose tests share a server (a module-scoped fixture) stays on one worker,
    # so that the server starts once. Every other test goes wherever a worker is free.
    # The longest groups are handed out first.
    items.sort(key=lambda item: _LONGEST_FIRST.get(_group(item), len(_LONGEST_FIRST)))
    if groups_file := getattr(config, "workerinput", {}).get("groups_file"):
        # For the scheduler below, in the process that hands the tests out.
        scratch = Path(f"{groups_file}.{os.getpid()}")
        scratch.write_text(json.dumps({item.nodeid: _group(item) for item in items if _group(item)}))
        scratch.replace(groups_file)


_LONGEST_FIRST = {"engine, default ports": 0, "tests.test_scale": 1, "engine, moved ports": 2}


def _group(item: pytest.Item) -> str | None:
    if "running_engine" in item.fixturenames:
        return "engine, default ports" if item.get_closest_marker("default_ports") else "engine, moved ports"
    if any(each.scope == "module" for defs in item._fixtureinfo.name2fixturedefs.values() for each in defs):
        return item.module.__name__
    return None


# pytest-xdist's own `--dist loadgroup` marks a group in the test's id, which pytest 9 no
# longer lets a plugin change: the workers write the groups to a file, and the scheduler,
# xdist's by scope, takes each group as one scope.
_GROUPS_FILE = pytest.StashKey[Path]()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:  # pytest-xdist's hook, for each worker
    if _GROUPS_FILE not in node.config.stash:
        node.config.stash[_GROUPS_FILE] = Path(tempfile.mkdtemp(prefix="test-groups-")) / "groups.json"
    node.workerinput["groups_file"] = str(node.config.stash[_GROUPS_FILE])


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):  # pytest-xdist's hook
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            # Called once every worker has collected, so the file is written.
            if self.groups is None:
                self.groups = json.loads(config.stash[_GROUPS_FILE].read_text())
            return self.groups.get(nodeid, nodeid)

    return ByGroup(config, log)


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
    # first: what bounds the whole run's. docs/project/testing.md gives a measured run's.
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
