"""compose.yaml as Docker Compose resolves it: the promises a user relies on without
reading the file."""

import re

import pytest

from tests import binaries, compose

REPO = compose.REPO


@pytest.fixture(scope="module")
def collector_config() -> dict:
    return compose.resolve("compose.yaml", "compose.collector.yaml", variables={"COLLECTOR_AUTH_TOKEN": "t"})


def _env_example() -> dict[str, str]:
    lines = (REPO / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_env_example_documents_the_defaults(compose_config: dict) -> None:
    # Copying .env.example to .env must change nothing: it shows the defaults, not others.
    assert compose.resolve("compose.yaml", variables=_env_example()) == compose_config


def test_jaeger_is_the_all_in_one_image_of_the_version_the_tests_build(compose_config: dict) -> None:
    major_minor = ".".join(binaries.JAEGER.version.lstrip("v").split(".")[:2])
    assert compose_config["services"]["jaeger"]["image"] == f"jaegertracing/all-in-one:{major_minor}"


def test_published_ports_are_bound_to_loopback_only(compose_config: dict) -> None:
    published = [port for service in compose_config["services"].values() for port in service.get("ports", [])]
    assert {(port["target"], port["published"]) for port in published} == {(16686, "16686"), (4317, "4317")}
    assert {port["host_ip"] for port in published} == {"127.0.0.1"}


def test_the_app_exports_to_jaeger_over_grpc_with_an_explicit_plaintext_scheme(compose_config: dict) -> None:
    env = compose_config["services"]["app"]["environment"]
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4317"
    assert (env["OTEL_METRICS_EXPORTER"], env["OTEL_LOGS_EXPORTER"]) == ("none", "none")


def test_the_app_starts_once_jaeger_is_healthy(compose_config: dict) -> None:
    services = compose_config["services"]
    assert services["app"]["depends_on"]["jaeger"]["condition"] == "service_healthy"
    assert "http://localhost:14269/" in services["jaeger"]["healthcheck"]["test"]


def test_the_collector_image_has_the_version_the_tests_build(collector_config: dict) -> None:
    manifest = (REPO / "otel-collector-builder.yaml").read_text()
    versions = set(re.findall(r"^\s*- gomod: \S+ v(\S+)$", manifest, re.M))
    assert versions == {binaries.COLLECTOR.version}
    image = collector_config["services"]["otel-collector"]["image"]
    assert image == f"otel/opentelemetry-collector-contrib:{binaries.COLLECTOR.version}"


def test_the_collector_port_is_published_on_loopback_only(collector_config: dict) -> None:
    ports = collector_config["services"]["otel-collector"]["ports"]
    assert [(port["host_ip"], port["target"]) for port in ports] == [("127.0.0.1", 4317)]
