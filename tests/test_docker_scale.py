"""The pipeline of compose.scale.yaml under a real Docker Engine, started by the command
docs/scale.md gives: the engines start in order and as their own non-root users, with
credentials (Cassandra's roles made by the cassandra-setup task), only the collector's
hop reaches the pipeline, a client without credentials on the engines' networks is
refused by Kafka and by Cassandra, no password reaches a log, each engine keeps its data
on its volume across a restart, Kafka holds the spans while no ingester runs, a role
whose engine is away (the Jaeger collector's Kafka, query's Cassandra) says so and
recovers with it, and `--scale jaeger-ingester=2` adds a consumer to the one group. (The
faults at ≥5,000 spans/s run natively: tests/test_scale.py.)"""

import contextlib
import json
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import compose_project, engine, variants
from harness.app import SPANS_PER_TRACE, exported_trace_id
from harness.servers import wait_until
from harness.smoke import run_smoke_test

pytestmark = [pytest.mark.docker, pytest.mark.scale, pytest.mark.default_ports]

FILES = ":".join(variants.past_one_machine()["collector+scale"])
QUERY = "http://localhost:16686"  # the `jaeger` service, now the query role, as before
# How an operator runs Kafka's admin tools in its container: logged in as `admin`.
CLIENT_CONFIG = ("--command-config", "/etc/kafka/reference/client.properties")


@pytest.fixture(scope="module")
def pipeline(
    module_engine: engine.Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[compose_project.Project]:
    stack = compose_project.project(module_engine, tmp_path_factory.mktemp("scale"), FILES)
    try:
        up = stack.compose("up", "--detach", "--build")
        assert up.returncode == 0, up.stderr + stack.compose("logs", "--no-color").stdout[-6000:]
        yield stack
    finally:
        stack.remove()


def _app_run(stack: compose_project.Project) -> str:
    """One more run of the app, as compose configures it; the id of the trace it exported."""
    run = stack.compose("run", "--rm", "--no-deps", "--no-TTY", "app", timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return exported_trace_id(run.stdout + run.stderr)


def _trace_in_query(trace_id: str, timeout: float = 60) -> None:
    found = run_smoke_test(QUERY, "--trace-id", trace_id, "--timeout", str(timeout), timeout=timeout + 30)
    assert found.returncode == 0, found.stdout + found.stderr
    assert found.stdout.startswith(f"ok: trace {trace_id} has the expected {SPANS_PER_TRACE} spans")


def test_up_starts_the_pipeline_in_order_and_the_apps_trace_reaches_query(pipeline: compose_project.Project) -> None:
    assert pipeline.exit_status("app") == 0
    [first_run] = [line for line in pipeline.compose("logs", "--no-log-prefix", "app").stdout.splitlines()
                   if "exported" in line]  # fmt: skip
    _trace_in_query(exported_trace_id(first_run))

    containers = pipeline.containers()
    states = {
        name: (c["State"]["Status"], (c["State"].get("Health") or {}).get("Status")) for name, c in containers.items()
    }
    assert states == {
        "app": ("exited", None),
        "otel-collector": ("running", None),  # its image has no shell: no healthcheck
        "jaeger-collector": ("running", "healthy"),
        "kafka": ("running", "healthy"),
        "kafka-topics": ("exited", None),
        "jaeger-ingester": ("running", "healthy"),
        "cassandra": ("running", "healthy"),
        "cassandra-setup": ("exited", None),
        "jaeger": ("running", "healthy"),
    }
    assert containers["kafka-topics"]["State"]["ExitCode"] == 0
    assert containers["cassandra-setup"]["State"]["ExitCode"] == 0
    setup = pipeline.compose("logs", "--no-log-prefix", "cassandra-setup").stdout
    assert "cassandra-setup: the roles admin and jaeger are ready, and the login of cassandra is off" in setup
    # Each image's own user, never root.
    users = {name: c["Config"]["User"] for name, c in containers.items()}
    assert users == {
        "app": "10001:10001", "otel-collector": "10001:10001", "jaeger-collector": "10001:10001",
        "jaeger-ingester": "10001:10001", "jaeger": "10001:10001",
        "kafka": "1000:1000", "kafka-topics": "1000:1000", "cassandra": "999:999", "cassandra-setup": "999:999",
    }  # fmt: skip
    for name, container in containers.items():
        host = container["HostConfig"]
        assert host["ReadonlyRootfs"] is True and host["CapDrop"] == ["ALL"], name
        assert "no-new-privileges:true" in host["SecurityOpt"], name
    # The host reaches the UI and the collector's OTLP port, on loopback, and nothing else.
    bindings = {name: (c["HostConfig"]["PortBindings"] or {}).values() for name, c in containers.items()}
    published = {name: sorted(f"{b['HostIp']}:{b['HostPort']}" for each in ports for b in each)
                 for name, ports in bindings.items()}  # fmt: skip
    assert {name: ports for name, ports in published.items() if ports} == {
        "jaeger": ["127.0.0.1:16686"], "otel-collector": ["127.0.0.1:14317"],
    }  # fmt: skip


def test_only_the_collectors_hop_reaches_the_pipeline(pipeline: compose_project.Project) -> None:
    networks = {name: sorted(network.removeprefix(f"{pipeline.name}_") for network in c["NetworkSettings"]["Networks"])
                for name, c in pipeline.containers().items()}  # fmt: skip
    assert networks == {
        "app": ["telemetry"],  # the token-checking collector is all the app can reach
        "otel-collector": ["backend", "telemetry"],
        "jaeger-collector": ["backend", "queue"],
        "kafka": ["queue"], "kafka-topics": ["queue"],
        "jaeger-ingester": ["queue", "store"],
        "cassandra": ["store"], "cassandra-setup": ["store"],
        "jaeger": ["store", "ui"],  # the UI is published from a network of its own
    }  # fmt: skip


def test_on_the_engines_networks_a_client_without_credentials_is_refused(pipeline: compose_project.Project) -> None:
    # Cassandra: no credentials, then the default superuser, whose login the setup turned off.
    cassandra = pipeline.python_on("store", (
        "from harness.cql import CqlError, cql\n"
        "for login in (None, ('cassandra', 'cassandra')):\n"
        "    try:\n"
        "        cql('cassandra:9042', 'SELECT * FROM jaeger_v1_dc1.traces LIMIT 1', login)\n"
        "    except CqlError as error:\n"
        "        print(error)\n"
    ))  # fmt: skip
    assert cassandra.returncode == 0, cassandra.stderr
    assert cassandra.stdout.splitlines() == [
        "the node asks for credentials (org.apache.cassandra.auth.PasswordAuthenticator)",
        "error 0x0100: cassandra is not permitted to log in",
    ]
    # Kafka: a request without a login is dropped; its controller is not on the network.
    kafka = pipeline.python_on("queue", (
        "import socket\n"
        "from harness.kafka_protocol import metadata\n"
        "try:\n"
        "    metadata('kafka:9092')\n"
        "except ConnectionError as error:\n"
        "    print(error)\n"
        "try:\n"
        "    socket.create_connection(('kafka', 9093), timeout=10)\n"
        "except ConnectionRefusedError:\n"
        "    print('the controller port is closed')\n"
    ))  # fmt: skip
    assert kafka.returncode == 0, kafka.stderr
    assert kafka.stdout.splitlines() == ["Kafka closed the connection", "the controller port is closed"]
    # Kafka's own tool, in its container, without the admin tools' client config.
    tool = pipeline.compose(
        "exec", "--no-TTY", "--env", "KAFKA_HEAP_OPTS=-Xmx64m", "kafka", "/opt/kafka/bin/kafka-broker-api-versions.sh",
        "--bootstrap-server", "kafka:9092",
    )  # fmt: skip
    assert tool.returncode == 1
    assert "Request METADATA failed on brokers [kafka:9092 (id: -1" in tool.stdout + tool.stderr
    said = "Unexpected Kafka request of type METADATA during SASL handshake."
    assert said in pipeline.compose("logs", "--no-log-prefix", "kafka").stdout


# What a throwaway container on a network finds: each host:port "open" or "refused".
CONNECTS = (
    "import socket, sys\n"
    "for host, port in TARGETS:\n"
    "    try:\n"
    "        socket.create_connection((host, port), timeout=10).close()\n"
    "        print('open')\n"
    "    except ConnectionRefusedError:\n"
    "        print('refused')\n"
)


def _connects(stack: compose_project.Project, network: str, *targets: tuple[str, int]) -> list[str]:
    probe = stack.python_on(network, f"TARGETS = {list(targets)!r}\n" + CONNECTS)
    assert probe.returncode == 0, probe.stderr
    return probe.stdout.split()


def test_cassandras_node_to_node_port_is_on_its_loopback_not_on_the_network(pipeline: compose_project.Project) -> None:
    assert _connects(pipeline, "store", ("cassandra", 9042), ("cassandra", 7000)) == ["open", "refused"]


def test_the_jaeger_collector_role_takes_otlp_from_the_front_collectors_network_only(
    pipeline: compose_project.Project,
) -> None:
    assert _connects(pipeline, "backend", ("jaeger-collector", 4317)) == ["open"]
    assert _connects(pipeline, "queue", ("jaeger-collector", 4317)) == ["refused"]


def test_the_networks_of_the_engines_and_the_jaeger_roles_have_no_way_out(pipeline: compose_project.Project) -> None:
    # Internal: the engine forwards nothing from them past the host (no NAT, no route out).
    internal = {
        network: json.loads(subprocess.run(
            ["docker", "network", "inspect", "--format", "{{json .Internal}}", f"{pipeline.name}_{network}"],
            env=pipeline.env, capture_output=True, text=True, check=True,
        ).stdout)
        for network in ("backend", "queue", "store", "telemetry", "ui")
    }  # fmt: skip
    assert internal == {"backend": True, "queue": True, "store": True, "telemetry": False, "ui": False}
    # The UI, published from a network of its own, still answers on the host.
    with urllib.request.urlopen(QUERY, timeout=30) as ui:
        assert ui.status == 200


def _command_lines() -> set[str]:
    """The command line of every process on the host, as any user of it may read them (ps)."""
    found = set()
    for process in Path("/proc").iterdir():
        if process.name.isdigit():
            with contextlib.suppress(OSError):  # it ended meanwhile
                found.add((process / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
    return found


@dataclass(frozen=True)
class Restart:
    trace_before: str  # the app's trace from before the restart, found in query
    command_lines: set[str]  # every host command line seen while the engines started again


@pytest.fixture(scope="module")
def restart(pipeline: compose_project.Project) -> Restart:
    """Kafka and Cassandra restarted once, for the tests of what a restart keeps: the
    app's trace from before it, and the host's command lines read meanwhile."""
    before = _app_run(pipeline)
    _trace_in_query(before)
    seen: set[str] = set()
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.02):
            seen.update(_command_lines())

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        restarted = pipeline.compose("restart", "kafka", "cassandra")
        assert restarted.returncode == 0, restarted.stderr
        pipeline.wait_healthy("kafka", timeout=180)
        pipeline.wait_healthy("cassandra")
    finally:
        stop.set()
        watcher.join()
    return Restart(before, seen)


def test_no_command_line_on_the_host_holds_a_password_while_kafka_starts(
    pipeline: compose_project.Project, restart: Restart
) -> None:
    passwords = [path.read_text() for path in (pipeline.workdir / "secrets").glob("*/*")]
    assert len(passwords) == 6
    # The watcher read the container's start while it formatted the storage, and the broker.
    seen = restart.command_lines
    assert [line for line in seen if "StorageTool" in line or "kafka-storage.sh" in line]
    assert [line for line in seen if "kafka.Kafka" in line]
    assert not [password for password in passwords if any(password in line for line in seen)]


def test_no_password_is_in_any_containers_log(pipeline: compose_project.Project) -> None:
    passwords = [path.read_text() for path in (pipeline.workdir / "secrets").glob("*/*")]
    assert len(passwords) == 6
    logs = pipeline.compose("logs", "--no-color").stdout
    assert "cassandra-setup" in logs and "jaeger-ingester" in logs  # every container's log is there
    assert not [password for password in passwords if password in logs]


def _query_reads(trace_id: str) -> None:
    """Wait until the query role answers for the trace: after Cassandra restarts, its driver
    logs in again within reconnect_interval (2 s, scale/jaeger-query.yaml), and a request
    before that gets HTTP 500. A bound generous for a loaded machine."""

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"{QUERY}/api/traces/{trace_id}", timeout=10) as response:
                return response.status == 200
        except OSError:
            return False

    wait_until(answers, 60, "the query role reading Cassandra again", interval=1)


def test_kafka_and_cassandra_keep_their_data_across_a_restart(
    pipeline: compose_project.Project, restart: Restart
) -> None:
    _query_reads(restart.trace_before)
    _trace_in_query(restart.trace_before)  # Cassandra's data is on its volume
    _trace_in_query(_app_run(pipeline))  # Kafka started again on its formatted storage
    # The start script's GC log, on the cassandra-logs volume (the root is read-only).
    logs = pipeline.compose("exec", "--no-TTY", "cassandra", "ls", "/var/log/cassandra").stdout.split()
    assert "gc.log" in logs


def test_kafka_holds_the_spans_while_no_ingester_runs(pipeline: compose_project.Project) -> None:
    assert pipeline.compose("stop", "jaeger-ingester").returncode == 0
    trace_id = _app_run(pipeline)
    missing = run_smoke_test(QUERY, "--trace-id", trace_id, "--timeout", "10")
    assert missing.returncode == 5  # no such trace within the timeout
    assert f"FAIL: no trace {trace_id} in Jaeger at {QUERY} after 10s" in missing.stdout + missing.stderr

    assert pipeline.compose("start", "jaeger-ingester").returncode == 0
    _trace_in_query(trace_id)  # read from where the group's committed offset left off


@pytest.mark.parametrize(
    ("engine_away", "role", "refused"),
    [
        ("kafka", "jaeger-collector",
         'cannot start pipelines: failed to start "kafka" exporter: '
         "kafka: client has run out of available brokers to talk to: dial tcp: lookup kafka"),
        ("cassandra", "jaeger",
         "failed to initialize storage 'cassandra_store': gocql: unable to create session"),
    ],
    ids=["kafka-collector role", "cassandra-query role"],
)  # fmt: skip
def test_with_its_engine_away_a_role_stops_saying_so_and_recovers_with_it(
    engine_away: str, role: str, refused: str, pipeline: compose_project.Project
) -> None:
    earlier = _app_run(pipeline)
    _trace_in_query(earlier)
    assert pipeline.compose("stop", engine_away).returncode == 0
    try:
        assert pipeline.compose("restart", role).returncode == 0
        # Each start fails at once, naming the engine; the restart policy tries again.

        def said() -> bool:
            return refused in pipeline.compose("logs", "--no-log-prefix", role).stdout

        wait_until(said, 60, f"{role} saying {engine_away} is unreachable", interval=1)
        assert pipeline.health(role) != "healthy"
    finally:
        assert pipeline.compose("start", engine_away).returncode == 0
    pipeline.wait_healthy(engine_away)
    pipeline.wait_healthy(role)
    _trace_in_query(earlier)
    _trace_in_query(_app_run(pipeline))


def test_a_second_ingester_joins_the_one_consumer_group(pipeline: compose_project.Project) -> None:
    scaled = pipeline.compose(
        "up", "--detach", "--wait", "--no-deps", "--scale", "jaeger-ingester=2", "jaeger-ingester"
    )
    assert scaled.returncode == 0, scaled.stderr

    # Kafka's own tool, in the broker's container, with a small heap of its own.
    described = pipeline.compose(
        "exec", "--no-TTY", "--env", "KAFKA_HEAP_OPTS=-Xmx64m", "kafka", "/opt/kafka/bin/kafka-consumer-groups.sh",
        "--bootstrap-server", "localhost:9092", "--describe", "--group", "jaeger-ingester", "--members", "--verbose",
        *CLIENT_CONFIG,
    )  # fmt: skip
    assert described.returncode == 0, described.stderr
    # A table: a line of column names, then a line per member of the group.
    lines = [line.split() for line in described.stdout.splitlines()]
    header = next(line for line in lines if line[:2] == ["GROUP", "CONSUMER-ID"])
    members = [dict(zip(header, line, strict=True)) for line in lines if line[:1] == ["jaeger-ingester"]]
    assert len({member["CONSUMER-ID"] for member in members}) == 2, described.stdout
    # The topic's 24 partitions, shared: each read by one of the two.
    assert [int(member["#PARTITIONS"]) for member in members] == [12, 12], described.stdout
    assignments = [member["CURRENT-ASSIGNMENT"].removeprefix("jaeger-spans:") for member in members]
    assigned = [int(partition) for assignment in assignments for partition in assignment.split(",")]
    assert sorted(assigned) == list(range(24)), described.stdout

    _trace_in_query(_app_run(pipeline))
