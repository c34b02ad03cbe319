"""The compose files as Docker Compose resolves them: the promises a user relies on
without reading the files, checked on every variant of the stack."""

import itertools
import re
import subprocess

import pytest

from harness import REPO, binaries, compose, variants

# Every combination of compose files the project supports (harness/variants.py), on one
# machine; the scale variant's: tests/test_scale_compose.py.
VARIANTS = variants.on_one_machine()
COLLECTOR = ("compose.yaml", "compose.collector.yaml")
PINNED_IMAGE = re.compile(r"^(?P<name>[a-z0-9./_-]+):(?P<tag>[\w.-]+)@sha256:[0-9a-f]{64}$")


@pytest.fixture(scope="module", params=VARIANTS)
def variant(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One variant of the stack, resolved with the variables it requires."""
    certs = tmp_path_factory.mktemp("certs")
    variables = {"COLLECTOR_AUTH_TOKEN": "t", "CERTS_DIR": str(certs)}
    return compose.resolve(*VARIANTS[request.param], variables=variables)


@pytest.fixture(scope="module")
def collector_config() -> dict:
    return compose.resolve(*COLLECTOR, variables={"COLLECTOR_AUTH_TOKEN": "t"})


def _image(config: dict, service: str) -> tuple[str, str]:
    match = PINNED_IMAGE.match(config["services"][service]["image"])
    assert match, f"{service}: image pinned as name:tag@sha256:digest"
    return match["name"], match["tag"]


def _env_example() -> dict[str, str]:
    lines = (REPO / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_env_example_documents_the_defaults(compose_config: dict) -> None:
    # Copying .env.example to .env must change nothing: it shows the defaults, not others.
    assert compose.resolve("compose.yaml", variables=_env_example()) == compose_config


def test_jaeger_is_the_all_in_one_image_of_the_version_the_tests_build(compose_config: dict) -> None:
    image = compose_config["services"]["jaeger"]["image"]
    assert _image(compose_config, "jaeger")[0] == "jaegertracing/all-in-one"
    assert binaries.JAEGER.version == binaries.jaeger_module_version(image)


def test_the_go_module_of_a_jaeger_image_follows_its_version() -> None:
    # Jaeger's CHANGELOG: "v1.63.0 / v2.0.0 (2024-11-10)", each v2 release beside a v1 one.
    assert binaries.jaeger_module_version("jaegertracing/all-in-one:1.55@sha256:0") == "v1.55.0"
    assert binaries.jaeger_module_version("jaegertracing/jaeger:2.0.0") == "v1.63.0"
    assert binaries.jaeger_module_version("jaegertracing/jaeger:2.1.2") == "v1.64.2"
    with pytest.raises(ValueError, match=r"not a Jaeger 1\.x or 2\.x tag"):
        binaries.jaeger_module_version("jaegertracing/jaeger:latest")


def _published(config: dict) -> set[tuple[str, int, str, str]]:
    """Each published port: service, container port, host address, host port."""
    return {
        (name, port["target"], port["host_ip"], port["published"])
        for name, service in config["services"].items()
        for port in service.get("ports", [])
    }


def test_the_direct_stack_publishes_the_ui_alone(compose_config: dict) -> None:
    assert _published(compose_config) == {("jaeger", 16686, "127.0.0.1", "16686")}


@pytest.mark.parametrize("files", [files for files in variants.COMBINATIONS if "compose.host-otlp.yaml" in files])
def test_the_host_otlp_overlay_publishes_jaegers_receiver_on_loopback_only(files: tuple[str, ...]) -> None:
    config = compose.resolve(*files, variables={"JAEGER_OTLP_GRPC_PORT": "24317"})
    assert _published(config) == {("jaeger", 16686, "127.0.0.1", "16686"), ("jaeger", 4317, "127.0.0.1", "24317")}


# Compose before 2.24.4 merges what `!override` replaces: no collector variant may need it
# to keep Jaeger's token-less receiver off the host.
@pytest.mark.parametrize("release", [binaries.OLD_COMPOSE, binaries.COMPOSE], ids=lambda release: release.version)
@pytest.mark.parametrize(
    "files", [files for files in variants.COMBINATIONS if COLLECTOR[1] in files], ids=variants.label
)
def test_no_collector_variant_publishes_jaegers_receiver_on_any_compose(
    files: tuple[str, ...], release: binaries.GoModuleBinary, tmp_path
) -> None:
    config = compose.resolve(
        *files, variables={"COLLECTOR_AUTH_TOKEN": "t", "CERTS_DIR": str(tmp_path)}, release=release
    )
    assert [port for port in _published(config) if port[0] == "jaeger"] == [("jaeger", 16686, "127.0.0.1", "16686")]


def test_every_published_port_is_bound_to_loopback_only(variant: dict) -> None:
    published = [port for service in variant["services"].values() for port in service.get("ports", [])]
    assert published and {port["host_ip"] for port in published} == {"127.0.0.1"}


def test_every_container_is_hardened(variant: dict) -> None:
    for name, service in variant["services"].items():
        assert service.get("read_only") is True, f"{name}: read-only root filesystem"
        assert "no-new-privileges:true" in service.get("security_opt", []), name
        assert service.get("cap_drop") == ["ALL"], name
        assert int(service.get("mem_limit", 0)) > 0, f"{name}: memory limit"
        uid = str(service.get("user", "")).split(":")[0]
        assert uid.isdigit() and int(uid) != 0, f"{name}: numeric non-root user"
        assert 0 < int(service.get("pids_limit", 0)) <= 1024, f"{name}: pids limit"
        assert service["logging"] == {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}}, name


def test_servers_restart_on_failure_and_go_keeps_under_their_memory_limit(variant: dict) -> None:
    for name, service in variant["services"].items():
        if name == "app":  # one run, one exit status: never restarted
            assert "restart" not in service
            continue
        assert service["restart"] == "unless-stopped", name
        # GOMEMLIMIT at 80% of the container's limit (MiB).
        assert service["environment"]["GOMEMLIMIT"] == f"{int(service['mem_limit']) * 8 // 10 // 2**20}MiB", name


# Jaeger 1.55's variables; v2 takes its addresses from its config file (tests/test_jaeger_v2.py).
@pytest.mark.parametrize("name", [name for name, files in VARIANTS.items() if variants.V2 not in files])
def test_jaeger_listens_on_the_network_only_for_otlp_grpc_and_the_ui(name: str, tmp_path) -> None:
    config = compose.resolve(*VARIANTS[name], variables={"COLLECTOR_AUTH_TOKEN": "t", "CERTS_DIR": str(tmp_path)})
    env = config["services"]["jaeger"]["environment"]
    on_loopback = {name: value for name, value in env.items() if name.endswith("HOST_PORT")}
    assert set(on_loopback) == {
        "COLLECTOR_OTLP_HTTP_HOST_PORT", "COLLECTOR_GRPC_SERVER_HOST_PORT", "COLLECTOR_HTTP_SERVER_HOST_PORT",
        "PROCESSOR_JAEGER_COMPACT_SERVER_HOST_PORT", "PROCESSOR_JAEGER_BINARY_SERVER_HOST_PORT",
        "PROCESSOR_ZIPKIN_COMPACT_SERVER_HOST_PORT", "HTTP_SERVER_HOST_PORT", "QUERY_GRPC_SERVER_HOST_PORT",
        "ADMIN_HTTP_HOST_PORT",
    }  # fmt: skip
    assert all(value.startswith("127.0.0.1:") for value in on_loopback.values())
    assert "COLLECTOR_ZIPKIN_HOST_PORT" not in env  # Zipkin: off


@pytest.mark.parametrize("name", [name for name, files in VARIANTS.items() if COLLECTOR[1] in files])
def test_in_the_collector_variants_only_the_collector_reaches_jaeger(name: str, tmp_path) -> None:
    config = compose.resolve(*VARIANTS[name], variables={"COLLECTOR_AUTH_TOKEN": "t", "CERTS_DIR": str(tmp_path)})
    services = config["services"]
    assert set(services["app"]["networks"]) == {"telemetry"}
    assert set(services["otel-collector"]["networks"]) == {"telemetry", "backend"}
    assert set(services["jaeger"]["networks"]) == {"backend", "ui"}  # ui: its published UI alone
    assert [name for name, service in services.items() if "ui" in service["networks"]] == ["jaeger"]
    # Nothing on the collector's hop to Jaeger needs a way out of the host.
    assert config["networks"]["backend"]["internal"] is True
    # Jaeger's receiver is not published: the host reaches only its UI.
    assert [(port["target"], port["host_ip"]) for port in services["jaeger"]["ports"]] == [(16686, "127.0.0.1")]


# The variable that names the client CA, for the server the app sends to.
CLIENT_CA = {"jaeger": "COLLECTOR_OTLP_GRPC_TLS_CLIENT_CA", "otel-collector": "COLLECTOR_TLS_CLIENT_CA_FILE"}


def _server(config: dict) -> str:
    return "otel-collector" if "otel-collector" in config["services"] else "jaeger"


@pytest.mark.parametrize("name", VARIANTS)
def test_only_an_mtls_overlay_asks_for_a_client_ca_and_it_turns_tls_on(name: str, tmp_path) -> None:
    config = compose.resolve(*VARIANTS[name], variables={"COLLECTOR_AUTH_TOKEN": "t", "CERTS_DIR": str(tmp_path)})
    env = config["services"][_server(config)]["environment"]
    asked = CLIENT_CA[_server(config)] in env
    assert asked == any("mtls" in file for file in VARIANTS[name])
    if asked:
        assert env[CLIENT_CA[_server(config)]] == "/certs/ca.pem"
        assert "true" in {env.get("COLLECTOR_TLS_ENABLED"), env.get("COLLECTOR_OTLP_GRPC_TLS_ENABLED")}


def test_each_tls_container_mounts_only_its_own_certificates_folder(variant: dict) -> None:
    mounts = {
        service: {
            volume["source"].rsplit("/", 1)[-1] for volume in each.get("volumes", []) if volume["target"] == "/certs"
        }
        for service, each in variant["services"].items()
    }
    if not mounts["app"]:
        return  # plaintext: no certificates anywhere
    folder = {"otel-collector": "collector", "jaeger": "jaeger"}[_server(variant)]
    assert {service: folders for service, folders in mounts.items() if folders} == {
        _server(variant): {folder},
        "app": {"client"},
    }


# The one image no public source gave a digest for (no registry can be asked from here):
# Jaeger v2's, pinned by exact tag, the version the tests build, until someone who can
# pull it pins it.
NO_PUBLIC_DIGEST = {binaries.pinned_image(REPO / "jaeger-v2-image.yaml", "jaeger")}


def test_every_image_of_every_compose_file_is_pinned_by_digest() -> None:
    # As compose resolves them, variables at their defaults: every combination, every service.
    images = {
        (variants.label(files), name): service["image"]
        for files in variants.COMBINATIONS
        for name, service in compose.resolve(*files, variables={"COLLECTOR_AUTH_TOKEN": "t"})["services"].items()
        if "build" not in service
    }
    assert len(set(images.values())) >= 5  # all-in-one, v2, the collector, Kafka, Cassandra
    unpinned = {where: image for where, image in images.items() if not PINNED_IMAGE.match(image)}
    assert set(unpinned.values()) == NO_PUBLIC_DIGEST, unpinned


def test_jaeger_keeps_its_traces_on_a_named_volume(compose_config: dict) -> None:
    jaeger = compose_config["services"]["jaeger"]
    env = jaeger["environment"]
    assert (env["SPAN_STORAGE_TYPE"], env["BADGER_EPHEMERAL"]) == ("badger", "false")
    [volume] = jaeger["volumes"]
    assert volume["type"] == "volume" and volume["source"] in compose_config["volumes"]
    for directory in (env["BADGER_DIRECTORY_KEY"], env["BADGER_DIRECTORY_VALUE"]):
        assert directory.startswith(volume["target"] + "/")


def test_the_app_exports_to_jaeger_over_grpc_with_an_explicit_plaintext_scheme(compose_config: dict) -> None:
    env = compose_config["services"]["app"]["environment"]
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4317"
    assert (env["OTEL_METRICS_EXPORTER"], env["OTEL_LOGS_EXPORTER"]) == ("none", "none")


def test_the_app_starts_once_jaeger_is_healthy(compose_config: dict) -> None:
    services = compose_config["services"]
    assert services["app"]["depends_on"]["jaeger"]["condition"] == "service_healthy"
    assert "http://localhost:14269/" in services["jaeger"]["healthcheck"]["test"]


def test_the_collector_the_tests_build_is_the_version_of_the_image_compose_runs(collector_config: dict) -> None:
    image = _image(collector_config, "otel-collector")
    assert image[0] == "otel/opentelemetry-collector-contrib"
    built = subprocess.run([str(binaries.ensure(binaries.COLLECTOR)), "--version"], capture_output=True, text=True)
    assert built.stdout.split() == ["otelcol-reference", "version", image[1]]


def _security(config: dict) -> dict:
    """What each service of a rendered configuration runs with: image, environment,
    mounts and published ports."""
    return {
        name: (service.get("image"), service.get("environment"),
               sorted(m["target"] for m in service.get("volumes", [])),
               sorted(str(port) for port in service.get("ports", [])))
        for name, service in config["services"].items()
    }  # fmt: skip


@pytest.mark.parametrize(
    "files", [files for files in variants.ON_1_55 + variants.ON_V2 if len(files) > 2], ids=variants.label
)
def test_every_order_of_the_overlays_gives_the_security_they_name(files: tuple[str, ...], tmp_path) -> None:
    values = {"COLLECTOR_AUTH_TOKEN": "t", "CERTS_DIR": str(tmp_path)}
    named = _security(compose.resolve(*files, variables=values))
    # Every order, the collector's TLS overlays before compose.collector.yaml too.
    for order in itertools.permutations(files[1:]):
        assert _security(compose.resolve(files[0], *order, variables=values)) == named, order


@pytest.mark.parametrize("name", VARIANTS)
def test_the_app_mounts_its_client_key_only_where_a_server_asks_for_it(name: str, tmp_path) -> None:
    config = compose.resolve(*VARIANTS[name], variables={"COLLECTOR_AUTH_TOKEN": "t", "CERTS_DIR": str(tmp_path)})
    app = config["services"]["app"]
    mounted = {mount["source"]: mount["target"] for mount in app.get("volumes", [])}
    # Its folder (which holds client.key), or client.key itself.
    with_key = [source for source in mounted if source.endswith(("/client", "/client.key"))]
    mtls = any("mtls" in name for name in VARIANTS[name])
    assert bool(with_key) == mtls, mounted
    assert ("OTEL_EXPORTER_OTLP_CLIENT_KEY" in app["environment"]) == mtls
