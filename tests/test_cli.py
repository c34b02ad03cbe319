"""The app as a process, without a backend: output, exit status, one-line errors, bounds."""

import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from harness.app import BASE_ENV, SPANS_PER_TRACE, assert_one_line_error, run_app
from harness.servers import free_port

pytestmark = pytest.mark.fast

JOHN_JSON = (
    '{"id":100,"name":"john","gender":1,"site":"https://goframe.org",'
    '"email":"john@goframe.org","math":100,"english":60,"chinese":50}'
)
# Every run here that is not about exporting keeps its spans to itself.
NOT_SAMPLED = {"OTEL_TRACES_SAMPLER": "always_off"}


def test_without_ids_it_looks_up_users_1_and_100_and_prints_one_json_per_line() -> None:
    result = run_app(NOT_SAMPLED)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["{}", JOHN_JSON]


def test_ids_are_looked_up_in_the_order_given() -> None:
    result = run_app(NOT_SAMPLED, "100", "7", "100")
    assert result.stdout.splitlines() == [JOHN_JSON, "{}", JOHN_JSON]


def test_backend_down_prints_the_data_then_one_line_and_status_3_within_the_timeout() -> None:
    timeout_s = 2
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}",
        "OTEL_EXPORTER_OTLP_TIMEOUT": str(timeout_s),
    }
    # A hang guard only: how soon the run ends is tests/test_faults.py's to check.
    result = run_app(env, timeout=60)
    assert result.returncode == 3
    assert result.stdout.splitlines() == ["{}", JOHN_JSON]
    assert_one_line_error(
        result.stderr, f"export failed, {SPANS_PER_TRACE} of {SPANS_PER_TRACE} spans not delivered", "UNAVAILABLE"
    )


def test_with_the_sdk_disabled_it_runs_and_says_no_trace_was_recorded() -> None:
    result = run_app({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}"})
    assert result.returncode == 0
    assert result.stdout.splitlines() == ["{}", JOHN_JSON]
    assert_one_line_error(result.stderr, "tracing is disabled")


def test_with_the_sdk_disabled_no_exporter_is_made_and_grpc_not_even_imported() -> None:
    # Python's own account of every module the run imported (-X importtime, on stderr).
    env = {**BASE_ENV, "OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}"}
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "inprocess_grpc"], env=env,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    imported = {
        line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")
    }
    assert "opentelemetry.sdk.trace" in imported
    assert not [module for module in imported if module.split(".")[0] == "grpc" or "otlp" in module]


def test_an_unsampled_trace_is_not_exported_and_that_is_said() -> None:
    result = run_app({**NOT_SAMPLED, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}"})
    assert result.returncode == 0
    assert_one_line_error(result.stderr, "not sampled")


class _AnswersHttp1(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.recv(4096)
        self.request.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


@pytest.fixture
def plaintext_server() -> Iterator[str]:
    """A plaintext server on a free port, answering whatever it is sent with HTTP/1.1 400:
    a TLS client fails its handshake there."""
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _AnswersHttp1) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"127.0.0.1:{server.server_address[1]}"
        server.shutdown()


@pytest.mark.parametrize(("verbosity", "grpc_logs"), [(None, False), ("INFO", True)])
def test_grpcs_own_logs_of_a_failed_handshake_stay_off_stderr_unless_grpc_verbosity_asks(
    plaintext_server: str, verbosity: str | None, grpc_logs: bool
) -> None:
    # gRPC's C core writes each failed TLS handshake to stderr, several lines per attempt.
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"https://{plaintext_server}", "OTEL_EXPORTER_OTLP_TIMEOUT": "2"}
    result = run_app({**env, "GRPC_VERBOSITY": verbosity} if verbosity else env, timeout=60)
    assert result.returncode == 3, result.stderr
    assert ("Handshake failed" in result.stderr) is grpc_logs, result.stderr
    if not grpc_logs:
        assert_one_line_error(result.stderr, "export failed", "TLS client, plaintext server")
