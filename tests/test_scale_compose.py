"""compose.scale.yaml as Docker Compose resolves it: the promises of tests/test_compose.py
(hardening, loopback-only ports, images, restart, Go's memory limit) on the scale
variant, with the exceptions its images need and say why; the networks each engine is
reachable on; the start-up order; and the versions the native tests run."""

import re

import pytest
import yaml

from harness import REPO, binaries, compose, java_engines, pipeline
from harness.listeners import listening

VARIANTS = {
    "scale": pipeline.FILES,
    "scale, collector TLS": ("compose.yaml", "compose.collector.yaml", "compose.collector-tls.yaml",
                             "compose.scale.yaml"),
}  # fmt: skip
GO_SERVICES = {"jaeger", "jaeger-collector", "jaeger-ingester", "otel-collector"}
JVM_SERVICES = {"kafka", "kafka-topics", "cassandra"}


@pytest.fixture(scope="module", params=VARIANTS)
def variant(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    variables = {"COLLECTOR_AUTH_TOKEN": "t", "CERTS_DIR": str(tmp_path_factory.mktemp("certs"))}
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
    assert services["jaeger"]["image"] == "jaegertracing/jaeger:2.13.0"


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
        if name in {"app", "kafka-topics"}:  # one run, one exit status: never restarted
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
        "jaeger": {"store"},
    }


def test_compose_starts_each_part_once_what_it_needs_is_ready(variant: dict) -> None:
    depends = {
        name: {other: each["condition"] for other, each in service.get("depends_on", {}).items()}
        for name, service in variant["services"].items()
    }
    assert depends == {
        "cassandra": {},
        "kafka": {},
        "kafka-topics": {"kafka": "service_healthy"},
        "jaeger": {"cassandra": "service_healthy"},  # it creates the schema
        "jaeger-ingester": {"kafka-topics": "service_completed_successfully", "jaeger": "service_healthy"},
        "jaeger-collector": {"kafka-topics": "service_completed_successfully"},
        "otel-collector": {"jaeger-collector": "service_healthy"},
        "app": {"jaeger": "service_healthy", "otel-collector": "service_started"},
    }
    # Each service another waits for as healthy has a healthcheck; no sleeps.
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
    images = {name: service["image"].split("@")[0] for name, service in variant["services"].items()
              if "build" not in service}  # fmt: skip
    assert images == {
        "otel-collector": f"otel/opentelemetry-collector-contrib:{binaries.COLLECTOR.version}",
        "jaeger": "jaegertracing/jaeger:2.13.0",
        "jaeger-collector": "jaegertracing/jaeger:2.13.0",
        "jaeger-ingester": "jaegertracing/jaeger:2.13.0",
        "kafka": f"apache/kafka:{java_engines.KAFKA.version}",
        "kafka-topics": f"apache/kafka:{java_engines.KAFKA.version}",
        "cassandra": f"cassandra:{java_engines.CASSANDRA.version}",
    }
    assert binaries.JAEGER_V2.version == "v1.76.0"  # = 2.13.0


@pytest.mark.parametrize(
    "role, network",
    [("jaeger-collector", ["0.0.0.0:4317"]), ("jaeger-ingester", []), ("jaeger-query", ["0.0.0.0:16686"])],
)
def test_each_jaeger_role_listens_on_the_network_only_where_it_must(role: str, network: list[str]) -> None:
    config = yaml.safe_load((REPO / "scale" / f"{role}.yaml").read_text())
    addresses = listening(config)
    assert [address for address in addresses if not address.startswith("127.0.0.1:")] == network
    assert "127.0.0.1:13133" in addresses and "127.0.0.1:metrics" in addresses
