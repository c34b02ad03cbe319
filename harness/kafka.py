"""Kafka 4 run natively for the tests: the project's scale/kafka.properties, its addresses
and data folder moved by code to free loopback ports and the test's folder, its secrets'
paths to their files here, the KRaft storage formatted with its SCRAM users, the broker
started on the jars harness/java_engines.py fetched, and waited for by asking it for its
metadata, logged in (harness/kafka_protocol.py), instead of sleeping.

What compose.scale.yaml's kafka container runs through Kafka's scripts, this runs
directly: `kafka.tools.StorageTool format --add-scram …`, then `kafka.Kafka`, with the
heap and logging options of the service's environment; the kafka-topics service's
command runs as `org.apache.kafka.tools.TopicCommand` with the same arguments, and every
admin tool with the same client config (scale/kafka-client.properties).
"""

import re
import shutil
import struct
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness import java_engines
from harness.kafka_protocol import SaslAuthenticationFailed, metadata
from harness.servers import Server, free_port, running, wait_until

# What kafka-run-class.sh adds to every Kafka JVM (KAFKA_JVM_PERFORMANCE_OPTS' default).
JVM_OPTIONS = ("-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35",
               "-XX:+ExplicitGCInvokesConcurrent", "-Djava.awt.headless=true")  # fmt: skip


def read_properties(path: Path) -> dict[str, str]:
    """A .properties file's settings (`key=value` lines; comments and blanks skipped)."""
    lines = [line.strip() for line in path.read_text().splitlines()]
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def write_properties(path: Path, settings: Mapping[str, str]) -> Path:
    path.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
    return path


def moved(settings: Mapping[str, str], paths: Mapping[str, str]) -> dict[str, str]:
    """`settings` with each path of `paths` (in the container) replaced by its own (on this host)."""

    def move(value: str) -> str:
        for target, source in paths.items():
            value = value.replace(target, source)
        return value

    return {key: move(value) for key, value in settings.items()}


def jaas_credentials(settings: Mapping[str, str]) -> tuple[str, str]:
    """The user and password of a client's `sasl.jaas.config`, the password read where it
    names a file through a DirectoryConfigProvider (`${provider:folder:file}`), as Kafka
    reads it."""
    jaas = settings["sasl.jaas.config"]
    found = re.search(r'username="([^"]*)"', jaas), re.search(r'password="([^"]*)"', jaas)
    assert all(found), f"a sasl.jaas.config without a username and a password: {jaas}"
    user, password = (match[1] for match in found if match)
    if reference := re.fullmatch(r"\$\{(\w+):([^:}]*):([^}]*)\}", password):
        provider, folder, name = reference.groups()
        assert settings[f"config.providers.{provider}.class"].endswith(".DirectoryConfigProvider"), provider
        password = (Path(folder) / name).read_text()
    return user, password


# --- The broker


@dataclass
class KafkaServer(Server):
    """The broker: ready once it answers a metadata request, logged in as `credentials`."""

    bootstrap: str = ""
    credentials: tuple[str, str] | None = None
    start_timeout: float = 300  # a hang, not a bound: a JVM starved by a busy machine starts slowly

    def ready(self) -> bool:
        try:
            return bool(metadata(self.bootstrap, credentials=self.credentials).brokers)
        except (OSError, struct.error, SaslAuthenticationFailed):  # not up yet, or its users not loaded yet
            return False


@dataclass
class Kafka:
    bootstrap: str  # host:port the clients use
    log: Path
    server: KafkaServer  # to stop it and start it again, on the same ports and data
    client_config: Path  # the admin tools' --command-config: scale/kafka-client.properties, its paths moved
    credentials: tuple[str, str]  # the user and password client_config logs in with

    def partitions(self, topic: str) -> dict[int, int]:
        """The topic's partitions and their leaders ({} while it does not exist)."""
        return metadata(self.bootstrap, [topic], self.credentials).partitions.get(topic, {})

    def tool(self, main_class: str, *arguments: str) -> subprocess.CompletedProcess[str]:
        """A Kafka tool (run_tool), logged in with the admin tools' client config."""
        return run_tool(main_class, *arguments, "--command-config", str(self.client_config))


def run_tool(main_class: str, *arguments: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """A Kafka command-line tool's class (`org.apache.kafka.tools.TopicCommand`, say), run
    as its script runs it."""
    command = [java_engines.java(), "-Xmx128m", "-cp", java_engines.KAFKA.classpath(), main_class, *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def _jvm_options(environment: Mapping[str, str]) -> list[str]:
    """The options Kafka's scripts take from the service's environment: heap, logging."""
    heap, logging = environment.get("KAFKA_HEAP_OPTS", ""), environment.get("KAFKA_LOG4J_OPTS", "")
    return [*heap.split(), *JVM_OPTIONS, *logging.split()]


def _on_loopback(configured: Mapping[str, str], ports: Mapping[str, int]) -> dict[str, str]:
    """Each listener of `configured` (CLIENT://:9092, say) on its port of `ports`, on loopback,
    and the controller quorum with it."""

    def listeners(key: str) -> str:
        names = [entry.split("://")[0] for entry in configured[key].split(",")]
        return ",".join(f"{name}://127.0.0.1:{ports[name]}" for name in names)

    controller = configured["controller.listener.names"]
    voters = f"{configured['node.id']}@127.0.0.1:{ports[controller]}"
    return {"listeners": listeners("listeners"), "advertised.listeners": listeners("advertised.listeners"),
            "controller.quorum.voters": voters}  # fmt: skip


@contextmanager
def running_kafka(
    properties: Path,
    client_properties: Path,
    environment: Mapping[str, str],
    folder: Path,
    paths: Mapping[str, str],
    scram: Sequence[str] = (),
    launcher: Sequence[str] = (),
) -> Iterator[Kafka]:
    """One broker+controller with `properties` (scale/kafka.properties) and compose's
    `environment` (KAFKA_CLUSTER_ID, KAFKA_HEAP_OPTS, KAFKA_LOG4J_OPTS); its addresses on
    free loopback ports, its data in `folder`, removed at the end. `paths` moves the
    container's paths the files name (its secrets) to this host's; the storage is
    formatted with the SCRAM users of `scram` (`--add-scram` values); the admin tools log
    in with `client_properties` (scale/kafka-client.properties). `launcher` goes before
    the command."""
    java, classpath = java_engines.java(), java_engines.KAFKA.classpath()
    options = _jvm_options(environment)
    configured = moved(read_properties(properties), paths)
    client = moved(read_properties(client_properties), paths)
    client_config = write_properties(folder / "kafka-client.properties", client)
    data = folder / "kafka-data"

    def start() -> tuple[KafkaServer, Kafka]:
        names = [entry.split("://")[0] for entry in configured["listeners"].split(",")]
        ports = {name: free_port() for name in names}
        settings = configured | _on_loopback(configured, ports) | {"log.dirs": str(data)}
        config = write_properties(folder / "kafka.properties", settings)
        users = [argument for value in scram for argument in ("--add-scram", value)]
        formatted = run_tool("kafka.tools.StorageTool", "format", "--ignore-formatted", "--cluster-id",
                             environment["KAFKA_CLUSTER_ID"], "--config", str(config), *users)  # fmt: skip
        assert formatted.returncode == 0, formatted.stderr
        command = [java, *options, "-cp", classpath, "kafka.Kafka", str(config)]
        log = folder / "kafka.log"
        bootstrap = settings["advertised.listeners"].split(",")[0].split("://")[1]
        credentials = jaas_credentials(client)
        server = KafkaServer(command, {}, "", log, launcher=launcher, bootstrap=bootstrap, credentials=credentials)
        return server, Kafka(bootstrap, log, server, client_config, credentials)

    try:
        with running(start, "Kafka") as kafka:
            yield kafka
    finally:
        shutil.rmtree(data, ignore_errors=True)


def wait_for_topic(kafka: Kafka, topic: str, partitions: int, timeout: float = 60) -> None:
    """Wait until the topic has its `partitions`, each with a leader (Kafka's metadata)."""

    def led() -> bool:
        try:
            found = kafka.partitions(topic)
        except OSError:
            return False
        return len(found) == partitions and all(leader >= 0 for leader in found.values())

    wait_until(led, timeout, f"topic {topic} with {partitions} led partitions", interval=0.25)


@dataclass(frozen=True)
class Backlog:
    """How far a consumer group is behind on a topic, by Kafka's own tools."""

    end: dict[int, int]  # partition -> its log end offset (the next message's)
    committed: dict[int, int]  # partition -> the group's committed offset, where it has one

    @property
    def behind(self) -> int:
        """Messages written to the topic and not yet committed by the group."""
        return sum(end - self.committed.get(partition, 0) for partition, end in self.end.items())

    def __str__(self) -> str:
        return (
            f"Kafka's end offsets add up to {sum(self.end.values())}, the group's committed offsets to "
            f"{sum(self.committed.values())}: {self.behind} messages behind"
        )


def backlog(kafka: Kafka, topic: str, group: str) -> Backlog:
    """The topic's end offsets (GetOffsetShell) and the group's committed offsets
    (kafka-consumer-groups --describe --offsets), as an operator would read them, logged
    in as the admin tools are."""
    shell = kafka.tool("org.apache.kafka.tools.GetOffsetShell", "--bootstrap-server", kafka.bootstrap, "--topic", topic)
    assert shell.returncode == 0, shell.stderr
    lines = (line.rsplit(":", 2) for line in shell.stdout.split())  # topic:partition:offset
    end = {int(partition): int(offset) for _, partition, offset in lines}
    described = kafka.tool(
        "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
        "--bootstrap-server", kafka.bootstrap, "--describe", "--offsets", "--group", group,
    )  # fmt: skip
    assert described.returncode == 0, described.stderr
    lines = [line.split() for line in described.stdout.splitlines()]
    header = next((line for line in lines if line[:2] == ["GROUP", "TOPIC"]), [])
    rows = [dict(zip(header, line, strict=False)) for line in lines if line[:2] == [group, topic]]
    committed = {int(row["PARTITION"]): int(row["CURRENT-OFFSET"]) for row in rows if row["CURRENT-OFFSET"] != "-"}
    return Backlog(end, committed)
