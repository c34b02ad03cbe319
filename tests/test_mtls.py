"""Asking for mTLS always means mTLS. In every combination of compose files the project
supports (harness/variants.py, which the workflow, docs and compose headers follow) that
holds an mTLS overlay, with or without its TLS overlay, on Jaeger 1.55 and v2, the
server the app sends to takes the app with its certificate, and refuses an app without
a client certificate and one whose certificate another CA signed. Natively, against the
real Jaeger or collector as compose configures them; the mTLS overlays on their own,
under the real Docker Engine too."""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from harness import compose, compose_project, engine, variants
from harness.app import SPANS_PER_TRACE, run_app
from harness.native import running_collector_as_configured, running_jaeger_as_configured
from harness.servers import free_port
from harness.user_scripts import collector_token

COMBINATIONS = [files for files in variants.COMBINATIONS if any("mtls" in name for name in files)]
CLIENT_PAIR = ("OTEL_EXPORTER_OTLP_CLIENT_KEY", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE")
REFUSED = (
    f"export failed, {SPANS_PER_TRACE} of {SPANS_PER_TRACE} spans not delivered: "
    "the server wants a client certificate its CA signed (mTLS):"
    " set OTEL_EXPORTER_OTLP_CLIENT_KEY and _CLIENT_CERTIFICATE"
)


def test_every_mtls_overlay_is_covered_by_a_combination() -> None:
    # Its header shows how to run it, so it is among the combinations, alone and with TLS.
    mtls = {path.name for path in variants.overlays() if "mtls" in path.name}
    assert mtls == {"compose.collector-mtls.yaml", "compose.jaeger-mtls.yaml"}
    for overlay in mtls:
        with_it = [files for files in COMBINATIONS if overlay in files]
        assert any(overlay.replace("mtls", "tls") not in files for files in with_it), overlay
        assert any(overlay.replace("mtls", "tls") in files for files in with_it), overlay


@contextmanager
def app_env_against_its_server(config: compose.Config, folder: Path) -> Iterator[dict[str, str]]:
    """The server the app's endpoint names (Jaeger, or the collector with nothing behind
    it: the handshake is what is under test), running as compose configures it; the
    app's environment to reach it."""
    server = urlsplit(config["services"]["app"]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"]).hostname
    if server == "otel-collector":
        backend = config["services"]["otel-collector"]["environment"]["COLLECTOR_JAEGER_ENDPOINT"]
        running = running_collector_as_configured(config, {backend: f"127.0.0.1:{free_port()}"}, folder / "log")
    else:
        running = running_jaeger_as_configured(config, folder)
    with running as started:
        yield compose.environment(config, "app", {f"{server}:4317": started.otlp_grpc})


@pytest.mark.parametrize("files", COMBINATIONS, ids=":".join)
def test_mtls_takes_the_app_and_refuses_a_client_without_a_certificate_or_with_another_cas(
    files: variants.Files, certs: Path, other_ca: Path, tmp_path: Path
) -> None:
    variables = {"CERTS_DIR": str(certs), **collector_token(tmp_path)}
    with app_env_against_its_server(compose.resolve(*files, variables=variables), tmp_path) as env:
        env["OTEL_EXPORTER_OTLP_TIMEOUT"] = "3"
        assert run_app(env).returncode == 0

        without = run_app({name: value for name, value in env.items() if name not in CLIENT_PAIR})
        assert without.returncode == 3, without.stderr
        assert REFUSED in without.stderr

        others = {"OTEL_EXPORTER_OTLP_CLIENT_KEY": str(other_ca / "client" / "client.key"),
                  "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": str(other_ca / "client" / "client.pem")}  # fmt: skip
        another_ca = run_app({**env, **others})
        assert another_ca.returncode == 3, another_ca.stderr
        assert REFUSED in another_ca.stderr


# --- under the engine: the overlays on their own, the combinations that were open before


@pytest.mark.docker
@pytest.mark.parametrize("files", [files for files in COMBINATIONS if not any("-tls" in name for name in files)
                                   and "compose.scale.yaml" not in files], ids=":".join)  # fmt: skip
def test_under_the_engine_an_mtls_overlay_alone_refuses_a_client_without_a_certificate_or_with_another_cas(
    files: variants.Files, docker_engine: engine.Engine, certs: Path, other_ca: Path, tmp_path: Path
) -> None:
    # The app with another CA's pair, and the right CA to check the server with.
    mixed = tmp_path / "another-ca-client"
    mixed.mkdir()
    for name in ("client.key", "client.pem"):
        shutil.copy(other_ca / "client" / name, mixed / name)
    shutil.copy(certs / "client" / "ca.pem", mixed / "ca.pem")
    for path in (mixed, *mixed.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)  # a test's throwaway pair, for the app's user
    another = compose_project.write_override(
        tmp_path, "another-ca.yaml",
        {"services": {"app": {"volumes": [{"type": "bind", "source": str(mixed), "target": "/certs"}]}}},
    )  # fmt: skip
    stack = compose_project.project(docker_engine, tmp_path, ":".join(files), {"CERTS_DIR": str(certs)})
    try:
        built = stack.compose("build", "app")
        assert built.returncode == 0, built.stderr
        up = stack.compose("up", "--detach", "--wait", *stack_servers(files))
        assert up.returncode == 0, up.stderr
        assert stack.compose("run", "--rm", "--no-deps", "app").returncode == 0

        without = stack.compose("run", "--rm", "--no-deps", "-e", "OTEL_EXPORTER_OTLP_CLIENT_KEY=",
                                "-e", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=", "-e", "OTEL_EXPORTER_OTLP_TIMEOUT=3",
                                "app")  # fmt: skip
        assert without.returncode == 3, without.stderr
        assert REFUSED in without.stderr

        with_another = compose_project.Project(
            stack.workdir, {**stack.env, "COMPOSE_FILE": f"{stack.env['COMPOSE_FILE']}:{another}"}, stack.name
        ).compose("run", "--rm", "--no-deps", "-e", "OTEL_EXPORTER_OTLP_TIMEOUT=3", "app")
        assert with_another.returncode == 3, with_another.stderr
        assert REFUSED in with_another.stderr
    finally:
        stack.remove()


def stack_servers(files: variants.Files) -> list[str]:
    """The servers of the combination, to start before the app runs."""
    return ["jaeger", "otel-collector"] if "compose.collector.yaml" in files else ["jaeger"]
