"""The stack under a real Docker Engine: every path of the GitHub workflow, run step by
step as written, and the mistakes a user makes, as the engine answers them."""

import dataclasses
import secrets
from pathlib import Path

import pytest

from harness import compose_project, engine, workflow

pytestmark = pytest.mark.docker

# The users of the images that are not ours, Jaeger's or the collector's.
USERS = {"kafka": "1000:1000", "kafka-topics": "1000:1000", "cassandra": "999:999", "cassandra-setup": "999:999"}
HINT_WRONG_TOKEN = "the server rejected the credentials: check the token in OTEL_EXPORTER_OTLP_HEADERS"


def _published(container: dict) -> list[str]:
    bindings = container["HostConfig"]["PortBindings"] or {}
    return [binding["HostIp"] for each in bindings.values() for binding in each]


@pytest.mark.parametrize(
    "run",
    [  # the scale row in the engine's group that runs the scale stack (tests/conftest.py)
        pytest.param(run, id=run.name, marks=[pytest.mark.default_ports] if "scale" in run.env["COMPOSE_FILE"] else [])
        for run in workflow.runs()
    ],
)
def test_each_path_of_the_workflow_passes_under_the_engine(
    run: workflow.Run, docker_engine: engine.Engine, tmp_path: Path
) -> None:
    # The project the workflow's steps will run, with stand-ins added where needed.
    files = run.env["COMPOSE_FILE"]
    variables = {k: v for k, v in run.env.items() if v}
    stack = compose_project.project(docker_engine, tmp_path, files, variables, make_token=False)
    run = dataclasses.replace(run, env={**run.env, "COMPOSE_FILE": stack.env["COMPOSE_FILE"]})
    seen: dict[str, dict] = {}
    result = workflow.execute(
        run, stack.workdir, docker_engine.env, before_always=lambda: seen.update(stack.containers())
    )
    try:
        # The workflow's own checks: the app exited 0, the smoke test passed, and
        # passed again after `docker compose restart jaeger` (Badger on the volume, or
        # Cassandra in the scale variant).
        assert result.passed, result.report()
        # Every step ran, the project's own Action (`uses: ./smoke`) among them.
        ran = [step["name"] for step in run.steps if "run" in step or step.get("uses", "").startswith("./")]
        assert [step.name for step in result.steps] == ran
        assert "./smoke" in [step.get("uses") for step in run.steps]
        assert ran[-2:] == ["Logs", "Stop"]

        scale = {"jaeger-collector", "kafka", "kafka-topics", "jaeger-ingester", "cassandra", "cassandra-setup"}
        expected = {"jaeger", "app"} | ({"otel-collector"} if "collector" in files else set())
        assert set(seen) == expected | (scale if "scale" in files else set())
        for one_shot in ("app", "kafka-topics", "cassandra-setup"):
            if one_shot in seen:
                assert (seen[one_shot]["State"]["Status"], seen[one_shot]["State"]["ExitCode"]) == ("exited", 0)
        for service, container in seen.items():
            host = container["HostConfig"]
            # Each image's own user, never root: 10001 for ours, Jaeger's and the collector's.
            assert container["Config"]["User"] == USERS.get(service, "10001:10001"), service
            assert host["ReadonlyRootfs"] is True, service
            assert host["CapDrop"] == ["ALL"], service
            assert "no-new-privileges:true" in host["SecurityOpt"], service
            assert host["Memory"] > 0, service
            assert host["PidsLimit"] > 0, service
            assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-file": "3", "max-size": "10m"}}, service
            assert set(_published(container)) <= {"127.0.0.1"}, service
        assert "127.0.0.1" in _published(seen["jaeger"])  # the UI, on loopback
        # `docker compose down --volumes` (the last step) leaves nothing behind.
        assert stack.leftovers() == {}
    finally:
        stack.remove()


def test_a_wrong_token_makes_the_app_exit_3_with_the_hint_and_no_token_in_any_log(
    docker_engine: engine.Engine, tmp_path: Path
) -> None:
    wrong = "wrong-" + secrets.token_urlsafe(16)
    app_with_wrong_token = compose_project.write_override(
        tmp_path, "wrong-token.yaml",
        {"services": {"app": {"environment": {"OTEL_EXPORTER_OTLP_HEADERS": f"authorization=Bearer%20{wrong}"}}}},
    )  # fmt: skip
    files = "compose.yaml:compose.collector.yaml"
    stack = compose_project.project(docker_engine, tmp_path, files, {}, app_with_wrong_token)
    token = stack.env["COLLECTOR_AUTH_TOKEN"]
    try:
        up = stack.compose("up", "--detach", "--build")
        assert up.returncode == 0, up.stderr
        assert stack.exit_status("app") == 3
        app_log = stack.compose("logs", "--no-color", "--no-log-prefix", "app").stdout
        [error] = [line for line in app_log.splitlines() if "export failed" in line]
        assert HINT_WRONG_TOKEN in error and "Traceback" not in app_log
        everything = stack.compose("logs", "--no-color").stdout
        assert "otel-collector" in everything  # the collector's log is there, and read
        assert token not in everything and wrong not in everything
    finally:
        stack.remove()


def test_on_the_zero_code_path_a_malformed_token_stops_the_app_and_no_log_shows_it(
    docker_engine: engine.Engine, tmp_path: Path
) -> None:
    # A semicolon: the SDK's header parser would log the whole entry, token and all,
    # from inside opentelemetry-instrument, before any code of the app runs.
    halves = (secrets.token_hex(8), secrets.token_hex(8))
    header = f"authorization=Bearer%20{halves[0]};{halves[1]}"
    malformed = compose_project.write_override(
        tmp_path, "malformed-token.yaml", {"services": {"app": {"environment": {"OTEL_EXPORTER_OTLP_HEADERS": header}}}}
    )
    files = "compose.yaml:compose.collector.yaml:compose.distro.yaml"
    stack = compose_project.project(docker_engine, tmp_path, files, {}, malformed)
    try:
        up = stack.compose("up", "--detach", "--build")
        assert up.returncode == 0, up.stderr
        assert stack.exit_status("app") == 4
        app_log = stack.compose("logs", "--no-color", "--no-log-prefix", "app").stdout
        assert app_log == (
            "inprocess-grpc: error: OTEL_EXPORTER_OTLP_HEADERS entry 1 is not key=value with a percent-encoded value"
            " (no quotes, ;, \\ or non-ASCII); expected comma-separated key=value pairs, values percent-encoded:"
            " authorization=Bearer%20<token>\n"
        )
        everything = stack.compose("logs", "--no-color").stdout
        assert not [half for half in halves if half in everything + up.stdout + up.stderr]
    finally:
        stack.remove()


def test_up_stops_at_once_naming_a_missing_certificates_folder(docker_engine: engine.Engine, tmp_path: Path) -> None:
    missing = tmp_path / "no-certs-here"
    stack = compose_project.project(
        docker_engine, tmp_path, "compose.yaml:compose.jaeger-tls.yaml", {"CERTS_DIR": str(missing)}
    )
    try:
        up = stack.compose("up", "--detach", "--build")
        assert up.returncode != 0
        assert str(missing) in up.stderr and "does not exist" in up.stderr, up.stderr
        assert not any(c["State"]["Running"] for c in stack.containers().values())
    finally:
        stack.remove()


def test_an_app_waits_for_a_healthy_jaeger_and_up_says_why_it_never_started(
    docker_engine: engine.Engine, tmp_path: Path
) -> None:
    # Jaeger runs, but its healthcheck asks a port where nothing answers.
    never_healthy = compose_project.write_override(
        tmp_path, "never-healthy.yaml",
        {"services": {"jaeger": {"healthcheck": {
            "test": ["CMD", "wget", "-q", "-O", "/dev/null", "http://localhost:1/"],
            "interval": "1s", "timeout": "1s", "retries": 3}}}},
    )  # fmt: skip
    stack = compose_project.project(docker_engine, tmp_path, "compose.yaml", None, never_healthy)
    try:
        up = stack.compose("up", "--detach", "--build")
        assert up.returncode != 0
        assert "dependency failed to start" in up.stderr and "jaeger" in up.stderr and "unhealthy" in up.stderr, (
            up.stderr
        )
        app = stack.containers()["app"]
        assert app["State"]["StartedAt"].startswith("0001-01-01"), "the app was never started"
    finally:
        stack.remove()
