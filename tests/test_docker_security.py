"""The security promises of the stack, as the real Docker Engine keeps them: no path
around the collector's token, Jaeger and the collector listening on the network only
where they must, each key only in the container that uses it, the collector's token
in a file."""

import subprocess
from pathlib import Path

import pytest

from harness import compose_project, engine, variants

pytestmark = pytest.mark.docker

COLLECTOR_MTLS = ":".join(variants.on_one_machine()["collector+collector-tls+collector-mtls"])
NO_SUCH_HOST = "the endpoint's host is unknown here: check OTEL_EXPORTER_OTLP_ENDPOINT"


def _listening(pid: int) -> set[tuple[str, str, int]]:
    """(protocol, address, port) of every socket listening in the process's network namespace."""
    found = set()
    for protocol in ("tcp", "tcp6", "udp", "udp6"):
        for line in Path(f"/proc/{pid}/net/{protocol}").read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if protocol.startswith("tcp") and state != "0A":  # LISTEN
                continue
            address, port = local.split(":")
            # 127.0.0.0/8 (little-endian hex: ends in 7F; Docker's DNS is 127.0.0.11) or ::1.
            loopback = (len(address) == 8 and address.endswith("7F")) or address == "00000000000000000000000001000000"
            found.add((protocol[:3], "loopback" if loopback else "network", int(port, 16)))
    return found


@pytest.fixture(scope="module")
def mtls_stack(module_engine: engine.Engine, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("mtls")
    stack = compose_project.project(module_engine, folder, COLLECTOR_MTLS, {"CERTS_DIR": str(folder / "certs")})
    subprocess.run([str(stack.workdir / "scripts" / "make-certs.sh"), str(folder / "certs")], check=True)
    try:
        up = stack.compose("up", "--detach", "--build", "--wait", "jaeger", "otel-collector")
        assert up.returncode == 0, up.stderr
        yield stack
    finally:
        stack.remove()


def test_the_app_cannot_reach_jaeger_around_the_collector(mtls_stack: compose_project.Project) -> None:
    # What a client without the token would try: Jaeger's receiver, straight. The traces
    # endpoint, which the TLS overlays set and which wins over OTEL_EXPORTER_OTLP_ENDPOINT.
    for endpoint in ("http://jaeger:4317", "http://jaeger:16686"):
        bypass = mtls_stack.compose(
            "run", "--rm", "--no-deps", "-e", f"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT={endpoint}",
            "-e", "OTEL_EXPORTER_OTLP_HEADERS=", "-e", "OTEL_EXPORTER_OTLP_TIMEOUT=3", "app", timeout=120,
        )  # fmt: skip
        assert bypass.returncode == 3, bypass.stderr
        [error] = [line for line in bypass.stderr.splitlines() if "export failed" in line]
        assert NO_SUCH_HOST in error
    containers = mtls_stack.containers()
    jaeger_ports = containers["jaeger"]["HostConfig"]["PortBindings"]
    assert list(jaeger_ports) == ["16686/tcp"]  # the UI only; no OTLP port on the host


def test_jaeger_and_the_collector_listen_on_the_network_only_where_they_must(
    mtls_stack: compose_project.Project,
) -> None:
    containers = mtls_stack.containers()
    on_network = {
        service: {(proto, port) for proto, where, port in _listening(containers[service]["State"]["Pid"])
                  if where == "network"}
        for service in ("jaeger", "otel-collector")
    }  # fmt: skip
    assert on_network == {"jaeger": {("tcp", 4317), ("tcp", 16686)}, "otel-collector": {("tcp", 4317)}}
    # The admin port answers inside the container, where the healthcheck runs.
    assert containers["jaeger"]["State"]["Health"]["Status"] == "healthy"


def test_each_container_can_read_only_its_own_key(mtls_stack: compose_project.Project) -> None:
    listing = mtls_stack.compose(
        "run", "--rm", "--no-deps", "--entrypoint", "python", "app", "-c",
        "import os; print(sorted(os.listdir('/certs'))); open('/certs/client.key').read()", timeout=120,
    )  # fmt: skip
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.strip() == "['ca.pem', 'client.key', 'client.pem']"
    mounts = {m["Destination"]: m["Source"] for m in mtls_stack.containers()["otel-collector"]["Mounts"]}
    assert mounts["/certs"].endswith("/certs/collector")


def test_the_collector_reads_its_token_from_a_file_not_from_its_environment(
    mtls_stack: compose_project.Project,
) -> None:
    token = mtls_stack.env["COLLECTOR_AUTH_TOKEN"]
    collector = mtls_stack.containers()["otel-collector"]
    assert not [variable for variable in collector["Config"]["Env"] if token in variable]
    mounts = {m["Destination"]: m for m in collector["Mounts"]}
    assert mounts["/run/secrets/collector_token"]["Source"].endswith("/secrets/collector-token")
    assert mounts["/run/secrets/collector_token"]["RW"] is False
    # The app sends the token from OTEL_EXPORTER_OTLP_HEADERS; the collector's file is not in it.
    app = mtls_stack.compose(
        "run", "--rm", "--no-deps", "--entrypoint", "python", "app", "-c",
        "import os; print(os.path.exists('/run/secrets'))", timeout=120,
    )  # fmt: skip
    assert app.stdout.strip() == "False", app.stderr


def test_a_client_without_a_certificate_is_refused_under_mtls(mtls_stack: compose_project.Project) -> None:
    refused = mtls_stack.compose(
        "run", "--rm", "--no-deps", "-e", "OTEL_EXPORTER_OTLP_CLIENT_KEY=", "-e",
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=", "-e", "OTEL_EXPORTER_OTLP_TIMEOUT=3", "app", timeout=120,
    )  # fmt: skip
    assert refused.returncode == 3, refused.stderr
    assert "the server wants a client certificate its CA signed (mTLS)" in refused.stderr
    delivered = mtls_stack.compose("run", "--rm", "--no-deps", "app", timeout=120)
    assert delivered.returncode == 0, delivered.stderr
