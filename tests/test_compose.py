"""compose.yaml as Docker Compose resolves it: the promises a user relies on without
reading the file."""

from tests import binaries, compose

REPO = compose.REPO


def test_env_example_documents_the_defaults(compose_config: dict) -> None:
    # Copying .env.example to .env must change nothing: it shows the defaults, not others.
    assert compose.resolve(REPO, "--env-file", str(REPO / ".env.example")) == compose_config


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
