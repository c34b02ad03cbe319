"""Kafka 4 run natively for the tests: the project's scale/kafka.properties, its addresses
and data folder moved by code to free loopback ports and the test's folder, the KRaft
storage formatted, the broker started on the jars harness/java_engines.py fetched, and
waited for by asking it for its metadata (Kafka's own protocol, below) instead of sleeping.

What compose.scale.yaml's kafka container runs through Kafka's scripts, this runs
directly: `kafka.tools.StorageTool format`, then `kafka.Kafka`, with the heap and logging
options of the service's environment; the kafka-topics service's command runs as
`org.apache.kafka.tools.TopicCommand` with the same arguments.
"""

import shutil
import socket
import struct
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness import java_engines
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


# --- Kafka's protocol, just enough to ask for metadata (a Metadata request, version 4:
# the oldest Kafka 4 still answers; non-flexible encoding, big-endian).


def _string(value: str) -> bytes:
    data = value.encode()
    return struct.pack(">h", len(data)) + data


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return value

    def string(self) -> str | None:
        length = self.take(">h")
        if length < 0:
            return None
        value = self.data[self.at : self.at + length].decode()
        self.at += length
        return value

    def ints(self) -> list[int]:
        return [self.take(">i") for _ in range(self.take(">i"))]


@dataclass
class Metadata:
    brokers: list[str]  # host:port of each broker the cluster advertises
    partitions: dict[str, dict[int, int]]  # topic -> partition -> leader's node id (-1: none)


def metadata(bootstrap: str, topics: Sequence[str] = (), timeout: float = 2) -> Metadata:
    """The cluster's brokers and the partitions (with their leaders) of `topics`, asked of `bootstrap`."""
    body = struct.pack(">i", len(topics)) + b"".join(_string(topic) for topic in topics) + b"\x00"
    request = struct.pack(">hhi", 3, 4, 1) + _string("reference-tests") + body  # Metadata v4, correlation id 1
    host, port = bootstrap.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(struct.pack(">i", len(request)) + request)
        size = struct.unpack(">i", _receive(sock, 4))[0]
        answer = _Reader(_receive(sock, size))
    answer.take(">i")  # correlation id
    answer.take(">i")  # throttle time
    brokers = []
    for _ in range(answer.take(">i")):
        answer.take(">i")  # node id
        broker_host, broker_port = answer.string(), answer.take(">i")
        answer.string()  # rack
        brokers.append(f"{broker_host}:{broker_port}")
    answer.string()  # cluster id
    answer.take(">i")  # controller id
    partitions: dict[str, dict[int, int]] = {}
    for _ in range(answer.take(">i")):
        error, name = answer.take(">h"), answer.string()
        answer.take(">b")  # is internal
        found = {}
        for _ in range(answer.take(">i")):
            partition_error, index, leader = answer.take(">h"), answer.take(">i"), answer.take(">i")
            answer.ints()  # replicas
            answer.ints()  # in-sync replicas
            found[index] = leader if partition_error == 0 else -1
        if error == 0 and name:
            partitions[name] = found
    return Metadata(brokers, partitions)


def _receive(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("Kafka closed the connection")
        data += chunk
    return data


# --- The broker


@dataclass
class KafkaServer(Server):
    """The broker: ready once it answers a metadata request."""

    bootstrap: str = ""
    start_timeout: float = 90

    def ready(self) -> bool:
        try:
            return bool(metadata(self.bootstrap).brokers)
        except (OSError, struct.error):
            return False


@dataclass
class Kafka:
    bootstrap: str  # host:port the clients use
    log: Path
    server: KafkaServer  # to stop it and start it again, on the same ports and data

    def partitions(self, topic: str) -> dict[int, int]:
        """The topic's partitions and their leaders ({} while it does not exist)."""
        return metadata(self.bootstrap, [topic]).partitions.get(topic, {})


def run_tool(main_class: str, *arguments: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """A Kafka command-line tool's class (`org.apache.kafka.tools.TopicCommand`, say), run
    as its script runs it."""
    command = [java_engines.java(), "-Xmx128m", "-cp", java_engines.KAFKA.classpath(), main_class, *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def _jvm_options(environment: Mapping[str, str]) -> list[str]:
    """The options Kafka's scripts take from the service's environment: heap, logging."""
    heap, logging = environment.get("KAFKA_HEAP_OPTS", ""), environment.get("KAFKA_LOG4J_OPTS", "")
    return [*heap.split(), *JVM_OPTIONS, *logging.split()]


@contextmanager
def running_kafka(
    properties: Path, environment: Mapping[str, str], folder: Path, launcher: Sequence[str] = ()
) -> Iterator[Kafka]:
    """One broker+controller with `properties` (scale/kafka.properties) and compose's
    `environment` (KAFKA_CLUSTER_ID, KAFKA_HEAP_OPTS, KAFKA_LOG4J_OPTS); its addresses on
    free loopback ports, its data in `folder`, removed at the end. `launcher` goes before
    the command."""
    java, classpath = java_engines.java(), java_engines.KAFKA.classpath()
    options = _jvm_options(environment)
    configured = read_properties(properties)
    data = folder / "kafka-data"

    def start() -> tuple[KafkaServer, Kafka]:
        client, controller = free_port(), free_port()
        settings = configured | {
            "listeners": f"PLAINTEXT://127.0.0.1:{client},CONTROLLER://127.0.0.1:{controller}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{client}",
            "controller.quorum.voters": f"{configured['node.id']}@127.0.0.1:{controller}",
            "log.dirs": str(data),
        }
        config = write_properties(folder / "kafka.properties", settings)
        formatted = run_tool("kafka.tools.StorageTool", "format", "--ignore-formatted",
                             "--cluster-id", environment["KAFKA_CLUSTER_ID"], "--config", str(config))  # fmt: skip
        assert formatted.returncode == 0, formatted.stderr
        command = [java, *options, "-cp", classpath, "kafka.Kafka", str(config)]
        log = folder / "kafka.log"
        server = KafkaServer(command, {}, "", log, launcher=launcher, bootstrap=f"127.0.0.1:{client}")
        return server, Kafka(server.bootstrap, server.log, server)

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
    (kafka-consumer-groups --describe --offsets), as an operator would read them."""
    shell = run_tool("org.apache.kafka.tools.GetOffsetShell", "--bootstrap-server", kafka.bootstrap, "--topic", topic)
    assert shell.returncode == 0, shell.stderr
    lines = (line.rsplit(":", 2) for line in shell.stdout.split())  # topic:partition:offset
    end = {int(partition): int(offset) for _, partition, offset in lines}
    described = run_tool(
        "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
        "--bootstrap-server", kafka.bootstrap, "--describe", "--offsets", "--group", group,
    )  # fmt: skip
    assert described.returncode == 0, described.stderr
    lines = [line.split() for line in described.stdout.splitlines()]
    header = next((line for line in lines if line[:2] == ["GROUP", "TOPIC"]), [])
    rows = [dict(zip(header, line, strict=False)) for line in lines if line[:2] == [group, topic]]
    committed = {int(row["PARTITION"]): int(row["CURRENT-OFFSET"]) for row in rows if row["CURRENT-OFFSET"] != "-"}
    return Backlog(end, committed)
