"""The scale variant (compose.scale.yaml) run natively, as compose configures it:
Cassandra and Kafka on the jars of harness/java_engines.py, the spans topic created by
the kafka-topics service's command, Jaeger v2 in its three roles and the OpenTelemetry
Collector from the Go builds, each with the environment and command compose gives its
container (`kafka:9092`, `cassandra:9042`, `jaeger-collector:4317` mapped to the test's
loopback ports), and the app's environment to send through them all.

Started in compose's `depends_on` order, each waited for by its own readiness: Kafka's
metadata, Cassandra's native port, the schema (the query role's health, which it
reaches once it has created it), Jaeger's health.
"""

from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness import binaries, compose
from harness.cassandra import Cassandra, running_cassandra
from harness.kafka import Kafka, run_tool, running_kafka, wait_for_topic
from harness.servers import Collector, Jaeger, running_jaeger_v2
from harness.stack import running_collector_as_configured, service_environment

FILES = ("compose.yaml", "compose.collector.yaml", "compose.scale.yaml")
TOPIC = "jaeger-spans"
# Every server runs at a lower CPU priority than the app: on a machine of two cores
# shared with Cassandra's writes, the app (which stands for many apps on machines of
# their own) keeps the rate a test asks of it. Scheduling only; nothing else changes.
LAUNCHER = ("nice", "-n", "10")


def config(variables: dict[str, str]) -> compose.Config:
    """The scale variant, resolved with the variables it requires (the collector's token)."""
    return compose.resolve(*FILES, variables=variables)


def _mounted(service: dict, target: str) -> Path:
    """The host file compose mounts at `target` in the service's container."""
    [source] = [volume["source"] for volume in service["volumes"] if volume["target"] == target]
    return Path(source)


def topic_partitions(config: compose.Config) -> int:
    """The partition count the kafka-topics service creates the spans topic with."""
    command = config["services"]["kafka-topics"]["command"]
    return int(command[command.index("--partitions") + 1])


def role(config: compose.Config, service: str, addresses: dict[str, str], log: Path) -> AbstractContextManager[Jaeger]:
    """A Jaeger v2 role as compose configures `service`, its own ports free loopback ones."""
    arguments = compose.command(config, service, addresses)
    env = compose.environment(config, service, addresses)
    return running_jaeger_v2(binaries.ensure(binaries.JAEGER_V2), arguments, env, log, LAUNCHER)


@dataclass
class Pipeline:
    config: compose.Config
    folder: Path
    cassandra: Cassandra
    kafka: Kafka
    query: Jaeger  # the `jaeger` service: UI and HTTP API
    collector: Jaeger  # the Jaeger collector role
    otel_collector: Collector
    app_env: dict[str, str]  # the app's environment, through the OpenTelemetry Collector
    ingesters: list[Jaeger]
    stack: ExitStack  # what stops them all

    @property
    def addresses(self) -> dict[str, str]:
        """The engines' in-network addresses, as the test's loopback ones."""
        return {"kafka:9092": self.kafka.bootstrap, "cassandra:9042": self.cassandra.address}

    def add_ingester(self) -> Jaeger:
        """One more ingester in the consumer group (`--scale jaeger-ingester=N`), until the end."""
        log = self.folder / f"ingester-{len(self.ingesters) + 1}.log"
        ingester = self.stack.enter_context(role(self.config, "jaeger-ingester", self.addresses, log))
        self.ingesters.append(ingester)
        return ingester


@contextmanager
def running_pipeline(config: compose.Config, folder: Path) -> Iterator[Pipeline]:
    """Every server of the scale variant, in compose's order; all stopped, and the
    engines' data removed, when the block ends, also on failure."""
    services = config["services"]
    with ExitStack() as stack:
        cassandra = stack.enter_context(
            running_cassandra(
                _mounted(services["cassandra"], "/etc/cassandra/cassandra.yaml"),
                _mounted(services["cassandra"], "/etc/cassandra/cassandra-rackdc.properties"),
                _mounted(services["cassandra"], "/etc/cassandra/logback.xml"),
                service_environment(config, "cassandra", folder),
                folder,
                LAUNCHER,
            )
        )
        kafka = stack.enter_context(
            running_kafka(
                _mounted(services["kafka"], "/etc/kafka/reference/server.properties"),
                service_environment(config, "kafka", folder),
                folder,
                LAUNCHER,
            )
        )
        addresses = {"kafka:9092": kafka.bootstrap, "cassandra:9042": cassandra.address}
        # The kafka-topics service: its command, run as the class its script runs.
        arguments = compose.command(config, "kafka-topics", addresses)
        created = run_tool("org.apache.kafka.tools.TopicCommand", *arguments[1:])
        assert created.returncode == 0, created.stderr
        wait_for_topic(kafka, TOPIC, topic_partitions(config))
        # The query role creates the schema: healthy, it is there for the ingesters.
        query = stack.enter_context(role(config, "jaeger", addresses, folder / "query.log"))
        ingester = stack.enter_context(role(config, "jaeger-ingester", addresses, folder / "ingester-1.log"))
        collector = stack.enter_context(role(config, "jaeger-collector", addresses, folder / "jaeger-collector.log"))
        front = {"jaeger-collector:4317": collector.otlp_grpc}
        otel_collector = stack.enter_context(
            running_collector_as_configured(config, front, folder / "otel-collector.log", LAUNCHER)
        )
        app_env = compose.environment(config, "app", {"otel-collector:4317": otel_collector.otlp_grpc})
        yield Pipeline(config, folder, cassandra, kafka, query, collector, otel_collector, app_env, [ingester], stack)
