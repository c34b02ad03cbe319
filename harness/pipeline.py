"""The scale variant (compose.scale.yaml) run natively, as compose configures it:
Cassandra and Kafka on the jars of harness/java_engines.py, Cassandra's roles made by
the cassandra-setup service's script, the spans topic created by the kafka-topics
service's command, Jaeger v2 in its three roles and the OpenTelemetry Collector from the
Go builds, each with the environment and command compose gives its container
(`kafka:9092`, `cassandra:9042`, `jaeger-collector:4317` mapped to the test's loopback
ports, /run/secrets/… to the files scripts/make-token.sh made), and the app's
environment to send through them all.

Started in compose's `depends_on` order, each waited for by its own readiness: Kafka's
metadata (logged in), Cassandra's native port, the setup's exit, the schema (the query
role's health, which it reaches once it has created it), Jaeger's health.
"""

import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness import REPO, binaries, compose, variants
from harness.cassandra import Cassandra, running_cassandra
from harness.kafka import Kafka, run_tool, running_kafka, wait_for_topic
from harness.native import running_collector_as_configured, service_environment
from harness.servers import Collector, Jaeger, running_jaeger_v2

FILES = variants.past_one_machine()["collector+scale"]
TOPIC = "jaeger-spans"
# Every server runs at a lower CPU priority than the app: on a machine of two cores
# shared with Cassandra's writes, the app (which stands for many apps on machines of
# their own) keeps the rate a test asks of it. Scheduling only; nothing else changes.
LAUNCHER = ("nice", "-n", "10")
# A role is healthy once its storage answers: Cassandra's session and schema, Kafka's
# metadata, from JVMs that a loaded machine slows the most (at nice 10, a busy core
# gives them little). A hang, not a bound: a role that fails says so in its log sooner.
ROLE_START_TIMEOUT = 180
# The `cqlsh` the cassandra-setup service's script runs, natively: the stand-in's, on the
# tests' CQL client (harness/cql.py).
CQLSH_FOLDER = REPO / "harness" / "standins" / "cassandra-bin"
# `--add-scram "\"MECHANISM=[name=USER,password=$(cat FILE)]\""` in the kafka service's
# command (quoted once more: it is written to a Java argument file, never a command line).
ADD_SCRAM = re.compile(r'--add-scram "(?:\\")?([\w-]+)=\[name=(\w+),password=\$\$?\(cat ([^)\s]+)\)\](?:\\")?"')


def config(variables: dict[str, str]) -> compose.Config:
    """The scale variant, resolved with the variables it requires (the collector's token) and
    SECRETS_DIR (the folder of the passwords), as harness.stack.collector_token gives them."""
    return compose.resolve(*FILES, variables=variables)


def _mounted(service: dict, target: str) -> Path:
    """The host file compose mounts at `target` in the service's container."""
    [source] = [volume["source"] for volume in service["volumes"] if volume["target"] == target]
    return Path(source)


def scram_users(config: compose.Config) -> list[str]:
    """The `--add-scram` values the kafka service formats its storage with, each password
    read from the file of the secret its command reads."""
    files = compose.secret_files(config, "kafka")
    found = ADD_SCRAM.findall(config["services"]["kafka"]["command"][-1])
    assert found, "the kafka service's command adds no SCRAM user"
    return [f"{mechanism}=[name={user},password={Path(files[path]).read_text()}]" for mechanism, user, path in found]


def setup_cassandra(config: compose.Config, addresses: Mapping[str, str], log: Path) -> subprocess.CompletedProcess:
    """The cassandra-setup service's script, with its environment, run by bash as compose
    runs it, its `cqlsh` the stand-in's (CQLSH_FOLDER); its output appended to `log`."""
    env = compose.environment(config, "cassandra-setup", addresses)
    env["PATH"] = f"{CQLSH_FOLDER}:{os.environ['PATH']}"
    command = compose.command(config, "cassandra-setup", addresses)
    with log.open("a") as out:
        # Bounded by the script's own wait for the default superuser (60 tries, 2 s apart).
        return subprocess.run(command, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=600)


def topic_partitions(config: compose.Config) -> int:
    """The partition count the kafka-topics service creates the spans topic with."""
    command = config["services"]["kafka-topics"]["command"]
    return int(command[command.index("--partitions") + 1])


def role(config: compose.Config, service: str, addresses: dict[str, str], log: Path) -> AbstractContextManager[Jaeger]:
    """A Jaeger v2 role as compose configures `service`, its own ports free loopback ones."""
    arguments = compose.command(config, service, addresses)
    env = compose.environment(config, service, addresses)
    return running_jaeger_v2(binaries.ensure(binaries.JAEGER_V2), arguments, env, log, LAUNCHER, ROLE_START_TIMEOUT)


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

    def secret(self, name: str) -> str:
        """The content of the compose secret `name`: a password (or the collector's token)."""
        return Path(self.config["secrets"][name]["file"]).read_text()

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
                _mounted(services["kafka"], "/etc/kafka/reference/client.properties"),
                service_environment(config, "kafka", folder),
                folder,
                {compose.SECRETS: str(compose.secrets_folder(config, "kafka", folder))},
                scram_users(config),
                LAUNCHER,
            )
        )
        addresses = {"kafka:9092": kafka.bootstrap, "cassandra:9042": cassandra.address}
        setup = setup_cassandra(config, addresses, folder / "cassandra-setup.log")
        assert setup.returncode == 0, (folder / "cassandra-setup.log").read_text()
        # The kafka-topics service: its command, run as the class its script runs, its
        # client config the one whose secrets' paths are this host's.
        arguments = compose.command(config, "kafka-topics", addresses)
        arguments[arguments.index("--command-config") + 1] = str(kafka.client_config)
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
