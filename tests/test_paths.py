"""Every export path of the stack, end to end against the real Jaeger and collector:
straight to Jaeger or through the collector, plaintext, TLS or mTLS, with the token the
collector demands. Each path is a set of compose files; its configuration comes from
`docker compose config`, as the containers would get it. Each mistake a user can make
on these paths fails in one clear line, and nothing reaches Jaeger."""

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from harness import REPO, binaries, compose, variants
from harness.app import SPANS_PER_TRACE, launcher, run_app
from harness.native import running_natively
from harness.servers import collector_listening_addresses, wait_until
from harness.smoke import run_smoke_test
from harness.user_scripts import collector_token
from jaeger_smoke.api import JaegerClient

# Every combination the project supports, on one machine (harness/variants.py):
# straight or through the collector, plaintext, TLS or mTLS, explicit or zero-code, on
# Jaeger 1.55 and v2.
PATHS = variants.on_one_machine()
COLLECTOR = ("compose.yaml", "compose.collector.yaml")


@pytest.fixture(scope="session")
def variables(certs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What a user's .env holds after make-certs.sh and make-token.sh."""
    return {"CERTS_DIR": str(certs), **collector_token(tmp_path_factory.mktemp("token"))}


def resolve(path: str, variables: dict[str, str]) -> compose.Config:
    return compose.resolve(*PATHS[path], variables=variables)


@pytest.mark.parametrize(
    "path",
    [pytest.param(path, marks=[pytest.mark.jaeger_v2] * (variants.V2 in files)) for path, files in PATHS.items()],
)
def test_every_path_delivers_the_trace(path: str, variables: dict[str, str], tmp_path: Path) -> None:
    config = resolve(path, variables)
    with running_natively(config, tmp_path) as stack:
        result = run_app(stack.app_env, launcher=launcher(config))
        assert result.returncode == 0, result.stderr
        smoke = run_smoke_test(stack.jaeger, "--timeout", "20")
        assert smoke.returncode == 0, smoke.stderr
    for output in (result.stdout, result.stderr, smoke.stdout, smoke.stderr):
        assert variables["COLLECTOR_AUTH_TOKEN"] not in output


def _without(*names: str):
    return lambda env, _other_ca: {name: value for name, value in env.items() if name not in names}


def _with(**changes: str):
    return lambda env, _other_ca: {**env, **changes}


def _replace(name: str, old: str, new: str):
    return lambda env, _other_ca: {**env, name: env[name].replace(old, new)}


def _other_ca_certificate(env: dict[str, str], other_ca: Path) -> dict[str, str]:
    return {**env, "OTEL_EXPORTER_OTLP_CERTIFICATE": str(other_ca / "client" / "ca.pem")}


@dataclass
class Mistake:
    path: str  # the path the stack runs
    change: Callable[[dict[str, str], Path], dict[str, str]]  # what the user got wrong in the app's env
    says: str  # what the app's one line must say
    status: int = 3  # export failed; 4: refused before running


ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
# What the collector's TLS overlays set, which the SDK takes over ENDPOINT for traces.
TRACES_ENDPOINT = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
MISTAKES = {
    "wrong token": Mistake(
        "collector+collector-tls",
        _with(OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer%20wrong"),
        "rejected the credentials",
    ),
    "missing token": Mistake(
        "collector+collector-tls", _without("OTEL_EXPORTER_OTLP_HEADERS"), "rejected the credentials"
    ),
    "plaintext client, TLS collector": Mistake(
        "collector+collector-tls", _replace(TRACES_ENDPOINT, "https:", "http:"), "https://"
    ),
    "plaintext client, TLS Jaeger": Mistake("jaeger-tls", _replace(ENDPOINT, "https:", "http:"), "https://"),
    "certificate from another CA": Mistake("jaeger-tls", _other_ca_certificate, "not signed by the CA"),
    "no client certificate, mTLS": Mistake(
        "collector+collector-tls+collector-mtls",
        _without("OTEL_EXPORTER_OTLP_CLIENT_KEY", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"),
        "client certificate",
    ),
    # localhost is 127.0.0.1 and ::1; Jaeger listens on the first only. The last attempt
    # (::1) is refused, but the hint is the TLS one the 127.0.0.1 attempts showed.
    "https://localhost, plaintext Jaeger": Mistake(
        "direct", _replace(ENDPOINT, "http://127.0.0.1", "https://localhost"), "TLS client, plaintext server"
    ),
    "https://127.0.0.1, plaintext Jaeger": Mistake(
        "direct", _replace(ENDPOINT, "http://", "https://"), "TLS client, plaintext server"
    ),
    # Legal for the SDK, which then speaks TLS to a plaintext server: refused up front.
    "endpoint without scheme, plaintext Jaeger": Mistake(
        "direct", _replace(ENDPOINT, "http://", ""), "ENDPOINT='127.0.0.1:", 4
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_each_mistake_fails_in_one_clear_line_and_nothing_reaches_jaeger(
    mistake: str, variables: dict[str, str], other_ca: Path, tmp_path: Path
) -> None:
    wrong = MISTAKES[mistake]
    with running_natively(resolve(wrong.path, variables), tmp_path) as stack:
        wrong_env = {**wrong.change(stack.app_env, other_ca), "OTEL_EXPORTER_OTLP_TIMEOUT": "3"}
        result = run_app(wrong_env, timeout=15)
        assert result.returncode == wrong.status, result.stderr
        [line] = result.stderr.splitlines()
        assert wrong.says in line
        assert (f"export failed, {SPANS_PER_TRACE} of {SPANS_PER_TRACE} spans not delivered" in line) == (
            wrong.status == 3
        )
        assert variables["COLLECTOR_AUTH_TOKEN"] not in result.stderr + result.stdout

        # A canary sent right after on the right settings arrives; by then, anything the
        # wrong run had got through would have arrived too.
        assert run_app({**stack.app_env, "OTEL_SERVICE_NAME": "canary"}).returncode == 0
        assert run_smoke_test(stack.jaeger, "--service", "canary", "--timeout", "20").returncode == 0
        assert "inprocess-grpc" not in JaegerClient(stack.jaeger.query_url).services()


@pytest.mark.parametrize("path", [path for path, files in PATHS.items() if COLLECTOR[1] in files])
def test_the_collector_config_is_valid_for_each_collector_path(path: str, variables: dict[str, str]) -> None:
    config = resolve(path, variables)
    validate = subprocess.run(
        [str(binaries.ensure(binaries.COLLECTOR)), "validate", *compose.command(config, "otel-collector", {})],
        env={"PATH": "/usr/bin:/bin", **compose.environment(config, "otel-collector", {})},
        capture_output=True,
        text=True,
    )
    assert validate.returncode == 0, validate.stderr


def test_the_collector_refuses_to_start_without_a_token() -> None:
    validate = subprocess.run(
        [str(binaries.ensure(binaries.COLLECTOR)), "validate", f"--config={REPO / 'otel-collector-config.yaml'}"],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert validate.returncode != 0
    assert "no bearer token provided" in validate.stderr


@pytest.mark.parametrize("content", [None, ""], ids=["missing", "empty"])
def test_the_collector_refuses_to_start_without_a_token_in_its_file(
    content: str | None, variables: dict[str, str], tmp_path: Path
) -> None:
    token_file = tmp_path / "collector-token"
    if content is not None:
        token_file.write_text(content)
    config = compose.resolve(*COLLECTOR, variables={**variables, "COLLECTOR_TOKEN_FILE": str(token_file)})
    addresses = {"jaeger:4317": "127.0.0.1:1"}
    start = subprocess.run(
        [str(binaries.ensure(binaries.COLLECTOR)), *compose.command(config, "otel-collector", addresses)],
        env={
            "PATH": "/usr/bin:/bin",
            **compose.environment(config, "otel-collector", addresses),
            **collector_listening_addresses(),
        },
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert start.returncode == 1
    assert f'Error: failed to start extensions: failed to read credentials file "{token_file}"' in start.stderr


def test_a_new_token_written_to_the_file_is_taken_without_a_restart(tmp_path: Path) -> None:
    old = collector_token(tmp_path / "project")
    with running_natively(compose.resolve(*COLLECTOR, variables=old), tmp_path) as stack:
        assert run_app(stack.app_env).returncode == 0
        new = collector_token(tmp_path / "project")  # make-token.sh again: the file rewritten
        header = f"authorization=Bearer%20{new['COLLECTOR_AUTH_TOKEN']}"
        wait_until(lambda: run_app({**stack.app_env, "OTEL_EXPORTER_OTLP_HEADERS": header}).returncode == 0,
                   timeout=20, what="the new token taken")  # fmt: skip
        assert run_app(stack.app_env).returncode == 3  # the old one, refused


def test_compose_refuses_the_collector_paths_without_a_token() -> None:
    with pytest.raises(AssertionError, match=r"set COLLECTOR_AUTH_TOKEN in \.env"):
        compose.resolve(*COLLECTOR)


def test_the_collector_refuses_an_oversized_request_and_keeps_serving(
    variables: dict[str, str], tmp_path: Path
) -> None:
    # 2 MiB in one attribute: over the receiver's 1 MiB, sent with the right token.
    huge = trace_pb2.Span(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="huge")
    huge.attributes.add(key="blob", value=common_pb2.AnyValue(string_value="x" * (2 << 20)))
    request = trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[trace_pb2.ResourceSpans(scope_spans=[trace_pb2.ScopeSpans(spans=[huge])])]
    )
    with running_natively(resolve("collector", variables), tmp_path) as stack:
        assert stack.collector
        with grpc.insecure_channel(stack.collector.otlp_grpc) as channel:
            export = trace_service_pb2_grpc.TraceServiceStub(channel).Export
            with pytest.raises(grpc.RpcError) as refused:
                export(request, metadata=[("authorization", f"Bearer {variables['COLLECTOR_AUTH_TOKEN']}")], timeout=10)
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert run_app(stack.app_env).returncode == 0
        assert run_smoke_test(stack.jaeger, "--timeout", "20").returncode == 0
