"""compose.scale.yaml as Docker Compose resolves it: the promises of tests/test_compose.py
(hardening, loopback-only ports, images, restart, Go's memory limit) on the scale
variant, with the exceptions its images need and say why; the networks each engine is
reachable on; the credentials each client of Kafka and Cassandra logs in with, and which
container reads which secret; the start-up order; and the versions the native tests run."""

import re
from pathlib import Path

import pytest
import yaml

from harness import REPO, binaries, compose, java_engines, pipeline, variants
from harness.kafka import read_properties
from harness.listeners import listening
from harness.user_scripts import collector_token

# The scale variant's combinations the project supports (harness/variants.py).
VARIANTS = variants.past_one_machine()
V2_FILES = ("compose.yaml", variants.V2)
GO_SERVICES = {"jaeger", "jaeger-collector", "jaeger-ingester", "otel-collector"}
JVM_SERVICES = {"kafka", "kafka-topics", "cassandra", "cassandra-setup"}  # their images'
ONE_SHOTS = {"app", "kafka-topics", "cassandra-setup"}  # one run, one exit status


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The token and the passwords scripts/make-token.sh makes, as compose's variables."""
    return collector_token(tmp_path_factory.mktemp("secrets"))


@pytest.fixture(scope="module", params=VARIANTS)
def variant(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, made: dict[str, str]) -> dict:
    variables = {**made, "CERTS_DIR": str(tmp_path_factory.mktemp("certs"))}
    return compose.resolve(*VARIANTS[request.param], variables=variables)


def _mib(value: str) -> int:
    """`512M`, `-Xmx512m` or a byte count, in MiB."""
    number, unit = re.fullmatch(r"(?:-Xm[sx])?(\d+)([kKmMgG]?)", value).groups()
    return int(number) * {"": 2**-20, "k": 2**-10, "m": 1, "g": 1024}[unit.lower()]


def test_the_pipeline_runs_instead_of_all_in_one(variant: dict) -> None:
    services = variant["services"]
    assert set(services) == {"app", "otel-collector", *GO_SERVICES, *JVM_SERVICES}
    images = {service.get("image", "") for service in services.values()}
    assert not any("all-in-one" in image for image in images)
    # Jaeger v2, the image of its overlay.
    assert services["jaeger"]["image"] == compose.resolve(*V2_FILES)["services"]["jaeger"]["image"]


def test_every_container_is_hardened_where_its_image_allows(variant: dict) -> None:
    for name, service in variant["services"].items():
        assert service.get("read_only") is True, f"{name}: read-only root filesystem"
        assert "no-new-privileges:true" in service.get("security_opt", []), name
        assert service.get("cap_drop") == ["ALL"], name
        assert int(service.get("mem_limit", 0)) > 0, f"{name}: memory limit"
        uid = str(service.get("user", "")).split(":")[0]
        assert uid.isdigit() and int(uid) != 0, f"{name}: numeric non-root user"
        # The JVMs run hundreds of threads (compose.scale.yaml says so): 1024, not 256.
        assert service.get("pids_limit") == (1024 if name in {"kafka", "cassandra"} else 256), name
        assert service["logging"] == {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}}, name
        # A read-only root: what a JVM must write goes to a tmpfs or a named volume. The
        # servers load the native libraries their jars unpack there (JNA, lz4): exec.
        if name in {"kafka", "cassandra"}:
            assert service["tmpfs"] == ["/tmp:exec"], name
        elif name in JVM_SERVICES:
            assert service["tmpfs"] == ["/tmp"], name


def test_servers_restart_and_keep_under_their_memory_limit(variant: dict) -> None:
    for name, service in variant["services"].items():
        if name in ONE_SHOTS:  # one run, one exit status: never restarted
            assert service.get("restart", "no") == "no", name
            continue
        assert service["restart"] == "unless-stopped", name
        limit = int(service["mem_limit"]) // 2**20
        env = service["environment"]
        if name in GO_SERVICES:  # Go's garbage collector works harder at 80% of the limit
            assert env["GOMEMLIMIT"] == f"{limit * 8 // 10}MiB", name
        elif name == "kafka":  # a JVM: a fixed heap, half the limit
            heap = env["KAFKA_HEAP_OPTS"].split()
            assert [_mib(option) for option in heap] == [limit // 2, limit // 2]
        else:  # cassandra: a third of it, the rest for what it keeps off the heap
            assert _mib(env["MAX_HEAP_SIZE"]) == limit // 3
            assert _mib(env["HEAP_NEWSIZE"]) < _mib(env["MAX_HEAP_SIZE"])


def test_only_the_collector_and_the_ui_are_published_and_on_loopback(variant: dict) -> None:
    published = {
        (name, port["target"], port["host_ip"])
        for name, service in variant["services"].items()
        for port in service.get("ports", [])
    }
    assert published == {("otel-collector", 4317, "127.0.0.1"), ("jaeger", 16686, "127.0.0.1")}


def test_each_engine_is_reachable_only_by_the_roles_that_use_it(variant: dict) -> None:
    networks = {name: set(service["networks"]) for name, service in variant["services"].items()}
    assert networks == {
        "app": {"telemetry"},  # the collector only: the token cannot be bypassed
        "otel-collector": {"telemetry", "backend"},
        "jaeger-collector": {"backend", "queue"},
        "kafka": {"queue"},
        "kafka-topics": {"queue"},
        "jaeger-ingester": {"queue", "store"},
        "cassandra": {"store"},
        "cassandra-setup": {"store"},
        "jaeger": {"store", "ui"},  # ui: its published UI alone
    }
    # Nothing on the engines' networks, nor on the collectors' hop, needs a way out of the host.
    assert {name: bool(variant["networks"][name].get("internal")) for name in ("backend", "queue", "store")} == {
        "backend": True, "queue": True, "store": True,
    }  # fmt: skip


def test_compose_starts_each_part_once_what_it_needs_is_ready(variant: dict) -> None:
    depends = {
        name: {other: each["condition"] for other, each in service.get("depends_on", {}).items()}
        for name, service in variant["services"].items()
    }
    assert depends == {
        "cassandra": {},
        "kafka": {},
        "kafka-topics": {"kafka": "service_healthy"},
        "cassandra-setup": {"cassandra": "service_healthy"},
        "jaeger": {"cassandra-setup": "service_completed_successfully"},  # it creates the schema, as `jaeger`
        "jaeger-ingester": {"kafka-topics": "service_completed_successfully", "jaeger": "service_healthy"},
        "jaeger-collector": {"kafka-topics": "service_completed_successfully"},
        "otel-collector": {"jaeger-collector": "service_healthy"},
        "app": {"jaeger": "service_healthy", "otel-collector": "service_started"},
    }
    # Each service another waits for as healthy has a healthcheck; no sleeps in a command.
    # (The cassandra-setup script polls, 2 s apart, for the superuser Cassandra makes
    # some seconds after its port opens: a condition no healthcheck can see.)
    for name in ("cassandra", "kafka", "jaeger", "jaeger-collector", "jaeger-ingester"):
        assert variant["services"][name]["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
    assert not any("sleep" in str(service.get("command", "")) for service in variant["services"].values())


def test_the_ingesters_scale_and_the_spans_topic_has_a_stated_partition_count(variant: dict) -> None:
    ingester = variant["services"]["jaeger-ingester"]
    # `--scale jaeger-ingester=N` needs no fixed name and no published port.
    assert "container_name" not in ingester and "ports" not in ingester
    assert pipeline.topic_partitions(variant) == 24


def test_every_image_has_the_version_the_tests_run(variant: dict) -> None:
    # Digests: tests/test_compose.py::test_every_image_of_every_compose_file_is_pinned_by_digest.
    jaeger_v2 = compose.resolve(*V2_FILES)["services"]["jaeger"]["image"].split("@")[0]
    images = {name: service["image"].split("@")[0] for name, service in variant["services"].items()
              if "build" not in service}  # fmt: skip
    assert images == {
        "otel-collector": f"otel/opentelemetry-collector-contrib:{binaries.COLLECTOR.version}",
        "jaeger": jaeger_v2,
        "jaeger-collector": jaeger_v2,
        "jaeger-ingester": jaeger_v2,
        "kafka": f"apache/kafka:{java_engines.KAFKA.version}",
        "kafka-topics": f"apache/kafka:{java_engines.KAFKA.version}",
        "cassandra": f"cassandra:{java_engines.CASSANDRA.version}",
        "cassandra-setup": f"cassandra:{java_engines.CASSANDRA.version}",  # for its cqlsh
    }
    assert binaries.JAEGER_V2.version == binaries.jaeger_module_version(jaeger_v2)


@pytest.mark.parametrize(
    "role, network",
    [
        ("jaeger-collector", ["jaeger-collector.backend:4317"]),  # its alias on `backend` alone
        ("jaeger-ingester", []),
        ("jaeger-query", ["0.0.0.0:16686"]),
    ],
)
def test_each_jaeger_role_listens_on_the_network_only_where_it_must(role: str, network: list[str]) -> None:
    config = yaml.safe_load((REPO / "scale" / f"{role}.yaml").read_text())
    addresses = listening(config)
    assert [address for address in addresses if not address.startswith("127.0.0.1:")] == network
    assert "127.0.0.1:13133" in addresses and "127.0.0.1:metrics" in addresses


# --- credentials


def test_each_container_reads_only_the_secrets_it_needs_each_file_made_for_its_user(variant: dict) -> None:
    secrets = {name: sorted(each["source"] for each in service.get("secrets", []))
               for name, service in variant["services"].items()}  # fmt: skip
    assert secrets == {
        "app": [],  # its token is in its environment (the header): docs/security.md
        "otel-collector": ["collector_token"],
        "jaeger-collector": ["jaeger_kafka_password"],
        "kafka": ["kafka_admin_password", "kafka_jaeger_password"],  # its own, and the user it creates
        "kafka-topics": ["kafka_admin_password"],
        "jaeger-ingester": ["jaeger_cassandra_password", "jaeger_kafka_password"],
        "cassandra": [],  # it keeps its roles in its own tables
        "cassandra-setup": ["cassandra_admin_password", "cassandra_jaeger_password"],
        "jaeger": ["jaeger_cassandra_password"],
    }
    # scripts/make-token.sh makes each folder's files readable by one user: the user of
    # every container that mounts them (tests/test_make_token.py).
    reader = {"kafka": "1000", "cassandra": "999", "jaeger": "10001"}
    for name, used in secrets.items():
        uid = variant["services"][name]["user"].split(":")[0]
        for secret in used:
            folder = Path(variant["secrets"][secret]["file"]).parent.name
            assert reader.get(folder, "10001") == uid, (name, secret)


def test_no_password_is_in_any_environment_or_command_only_the_path_of_its_file(
    variant: dict, made: dict[str, str]
) -> None:
    passwords = [path.read_text() for path in Path(made["SECRETS_DIR"]).glob("*/*")]
    assert len(passwords) == 6
    assert not any(password in str(variant) for password in passwords)
    for name, service in variant["services"].items():
        mounted = set(compose.secret_files(variant, name))
        for variable, value in (service.get("environment") or {}).items():
            assert "PASSWORD" not in variable or variable.endswith("_FILE"), (name, variable)
            if value.startswith(compose.SECRETS):  # a secret the container has
                assert value in mounted, (name, variable)


def test_kafka_asks_every_client_for_scram_credentials_and_keeps_its_controller_off_the_network() -> None:
    settings = read_properties(REPO / "scale" / "kafka.properties")
    listeners = dict(entry.split("://") for entry in settings["listeners"].split(","))
    protocols = dict(entry.split(":") for entry in settings["listener.security.protocol.map"].split(","))
    # Clients on the network: SASL, SCRAM-SHA-512 only; between brokers too.
    assert (listeners["CLIENT"], protocols["CLIENT"]) == (":9092", "SASL_PLAINTEXT")
    assert settings["sasl.enabled.mechanisms"] == settings["sasl.mechanism.inter.broker.protocol"] == "SCRAM-SHA-512"
    assert settings["inter.broker.listener.name"] == "CLIENT"
    # The controller takes admin requests without credentials: the container's loopback only.
    assert (listeners["CONTROLLER"], protocols["CONTROLLER"]) == ("127.0.0.1:9093", "PLAINTEXT")
    assert settings["controller.quorum.voters"] == "1@127.0.0.1:9093"
    # Passwords through the config provider, from compose's secrets, never in the file.
    for config in (settings, read_properties(REPO / "scale" / "kafka-client.properties")):
        provider = config["config.providers"]
        assert config[f"config.providers.{provider}.class"].endswith(".DirectoryConfigProvider")
        assert config[f"config.providers.{provider}.param.allowed.paths"] == compose.SECRETS
        jaas = next(value for key, value in config.items() if key.endswith("sasl.jaas.config"))
        assert 'username="admin"' in jaas
        assert f'password="${{{provider}:/run/secrets:kafka_admin_password}}"' in jaas


def test_cassandra_asks_every_client_for_a_password_and_grants_by_role() -> None:
    settings = yaml.safe_load((REPO / "scale" / "cassandra.yaml").read_text())
    assert settings["authenticator"] == "PasswordAuthenticator"
    assert settings["authorizer"] == "CassandraAuthorizer"


@pytest.mark.parametrize("role", ["jaeger-collector", "jaeger-ingester", "jaeger-query"])
def test_each_jaeger_role_logs_in_to_its_engines_with_the_password_of_a_file(role: str) -> None:
    config = yaml.safe_load((REPO / "scale" / f"{role}.yaml").read_text())
    kafka = [*config.get("exporters", {}).values(), *config.get("receivers", {}).values()]
    for each in (kafka for kafka in kafka if kafka and "brokers" in kafka):
        assert each["auth"]["sasl"] == {"mechanism": "SCRAM-SHA-512", "username": "jaeger",
                                        "password": "${file:${env:KAFKA_PASSWORD_FILE}}", "version": 1}  # fmt: skip
    backends = config["extensions"].get("jaeger_storage", {}).get("backends", {}).values()
    for backend in backends:
        assert backend["cassandra"]["connection"]["auth"]["basic"] == {
            "username": "jaeger", "password": "${file:${env:CASSANDRA_PASSWORD_FILE}}",
            "allowed_authenticators": ["org.apache.cassandra.auth.PasswordAuthenticator"],
        }  # fmt: skip
    assert kafka or backends, role


def test_the_jaeger_collector_roles_receiver_has_the_front_collectors_limits() -> None:
    role = yaml.safe_load((REPO / "scale" / "jaeger-collector.yaml").read_text())["receivers"]["otlp"]["protocols"]
    front = yaml.safe_load((REPO / "otel-collector-config.yaml").read_text())["receivers"]["otlp"]["protocols"]
    limits = ("max_recv_msg_size_mib", "max_concurrent_streams", "keepalive")
    assert {name: role["grpc"].get(name) for name in limits} == {name: front["grpc"][name] for name in limits}
