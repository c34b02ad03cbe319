"""Bad input, case by case: each mistake a user can make on the command line, in an
OTEL_* variable, in a certificate path or in the smoke test's Jaeger URL gets one line
naming what is wrong and what would be right, its own exit status, no traceback, and
no hang (every run here is bounded, and none waits for a backend)."""

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.app import assert_one_line_error, run_app
from harness.smoke import run_smoke_test

EXIT_USAGE, EXIT_CONFIG = 2, 4
SMOKE_NOT_JAEGER = 4
# A backend that would answer nothing: a config error must stop the run before it matters.
UNUSED_ENDPOINT = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_EXPORTER_OTLP_TIMEOUT": "1"}
TOKEN = "s3cr3t-t0ken"


@pytest.mark.parametrize("bad_id", ["abc", "1.5", "", "-1", "0", "9223372036854775808", "0x10", "1e3"])
def test_a_bad_user_id_is_a_usage_error_saying_what_an_id_is(bad_id: str) -> None:
    result = run_app(UNUSED_ENDPOINT, "1", bad_id, timeout=10)
    assert result.returncode == EXIT_USAGE
    assert_one_line_error(result.stderr, "invalid user id", repr(bad_id), "expected a whole number from 1 to 2^63-1")
    assert result.stdout == ""  # not even user 1: the command line is checked first


@pytest.mark.parametrize(
    "args, says",
    [
        (["--bogus"], "unrecognized arguments: --bogus"),
        # Load options belong to `python -m inprocess_grpc.load` (tests/test_load.py).
        (["--repeat", "10"], "unrecognized arguments: --repeat"),
    ],
)
def test_a_bad_option_is_a_usage_error(args: list[str], says: str) -> None:
    result = run_app(UNUSED_ENDPOINT, *args, timeout=10)
    assert result.returncode == EXIT_USAGE
    assert_one_line_error(result.stderr, says)


# variable, value, what the line must say besides the variable's name
BAD_OTEL_VALUES = [
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4317", "has no http:// or https:// scheme; expected a URL"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:43x7", "port that is not a number"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:70000", "port that is not a number from 0 to 65535"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "grpc://jaeger:4317", "has no http:// or https:// scheme"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://:4317", "has no host"),
    ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "jaeger", "expected a URL with a scheme: http://jaeger:4317"),
    ("OTEL_EXPORTER_OTLP_COMPRESSION", "zip", "expected gzip, deflate or none"),
    ("OTEL_EXPORTER_OTLP_TIMEOUT", "abc", "is not a number; expected seconds above 0"),
    ("OTEL_EXPORTER_OTLP_TIMEOUT", "-1", "is not above 0"),
    ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "10s", "expected seconds above 0, for example 10"),
    ("OTEL_EXPORTER_OTLP_INSECURE", "yes", "expected true or false"),
    ("OTEL_SDK_DISABLED", "1", "expected true or false"),
    ("OTEL_TRACES_SAMPLER", "always-on", "expected always_on, always_off, parentbased_always_on"),
    ("OTEL_TRACES_SAMPLER_ARG", "half", "expected the sampled fraction, from 0 to 1"),
    ("OTEL_TRACES_SAMPLER_ARG", "1.5", "is not from 0 to 1"),
    ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1k", "is not a whole number; expected spans"),
    ("OTEL_BSP_MAX_QUEUE_SIZE", "0", "is not above 0"),
    ("OTEL_BSP_SCHEDULE_DELAY", "5s", "expected milliseconds"),
    ("OTEL_BSP_EXPORT_TIMEOUT", "30.5", "is not a whole number; expected milliseconds"),
    ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4096", "max_export_batch_size must be less than or equal to max_queue_size"),
    ("OTEL_RESOURCE_ATTRIBUTES", "team", "entry 1 is not key=value"),
]


@pytest.mark.parametrize("variable, value, says", BAD_OTEL_VALUES)
def test_a_malformed_otel_value_stops_the_run_before_it_starts(variable: str, value: str, says: str) -> None:
    result = run_app({**UNUSED_ENDPOINT, variable: value}, timeout=10)
    assert result.returncode == EXIT_CONFIG
    assert_one_line_error(result.stderr, f"error: {variable}", says)
    assert result.stdout == ""


@pytest.mark.parametrize("variable", ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"])
def test_a_header_without_equals_sign_is_refused_without_showing_the_token(variable: str) -> None:
    result = run_app({**UNUSED_ENDPOINT, variable: f"x-tenant=a,Bearer {TOKEN}"}, timeout=10)
    assert result.returncode == EXIT_CONFIG
    assert_one_line_error(result.stderr, variable, "entry 2 is not key=value", "authorization=Bearer%20<token>")
    assert TOKEN not in result.stderr


@pytest.mark.parametrize(
    "value", [f'authorization="{TOKEN}"', f"authorization={TOKEN};x", f"authorization={TOKEN}\u00e9"]
)
@pytest.mark.parametrize("sdk_logs", [(), ("--sdk-logs",)], ids=["quiet", "sdk-logs"])
def test_a_header_value_the_sdk_would_refuse_is_refused_up_front_and_never_logged(
    value: str, sdk_logs: tuple[str, ...]
) -> None:
    # The SDK drops such an entry and logs it whole, token included: the app stops first.
    result = run_app({**UNUSED_ENDPOINT, "OTEL_EXPORTER_OTLP_HEADERS": value}, *sdk_logs, timeout=10)
    assert result.returncode == EXIT_CONFIG
    assert_one_line_error(
        result.stderr,
        "error: OTEL_EXPORTER_OTLP_HEADERS entry 1 is not key=value with a percent-encoded value",
        "expected comma-separated key=value pairs, values percent-encoded: authorization=Bearer%20<token>",
    )
    assert TOKEN not in result.stderr + result.stdout


def test_sdk_logs_shows_the_sdks_own_records_and_never_the_token() -> None:
    env = {**UNUSED_ENDPOINT, "OTEL_EXPORTER_OTLP_HEADERS": f"authorization=Bearer%20{TOKEN}"}
    quiet, shown = run_app(env, "1", timeout=30), run_app(env, "--sdk-logs", "1", timeout=30)
    assert quiet.returncode == shown.returncode == 3
    assert "ERROR opentelemetry" not in quiet.stderr
    # The exporter's own record of the failure, as the SDK words it.
    assert (
        "ERROR opentelemetry.exporter.otlp.proto.grpc.exporter: Failed to export traces to 127.0.0.1:9" in shown.stderr
    )
    assert TOKEN not in shown.stderr + quiet.stderr


def _garbage(tmp_path: Path) -> str:
    (tmp_path / "garbage.pem").write_text("not a certificate\n")
    return str(tmp_path / "garbage.pem")


@pytest.mark.parametrize(
    "variable, path, says",
    [
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", lambda tmp: str(tmp / "missing.pem"), "is not an existing file"),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", _garbage, "holds no PEM data"),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", lambda tmp: str(tmp / "missing.key"), "is not an existing file"),
        ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", str, "cannot be read (Is a directory)"),
        ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", _garbage, "holds no PEM data"),
    ],
)
def test_a_certificate_path_that_holds_no_certificate_is_refused(variable: str, path, says: str, tmp_path) -> None:
    # The SDK would log a missing file and fall back to the system's CAs; garbage
    # would fail in the TLS handshake, far from its cause.
    value = path(tmp_path)
    env = {**UNUSED_ENDPOINT, "OTEL_EXPORTER_OTLP_ENDPOINT": "https://127.0.0.1:9", variable: value}
    result = run_app(env, timeout=10)
    assert result.returncode == EXIT_CONFIG
    assert_one_line_error(result.stderr, f"{variable}={value!r}", says, "expected the path of a PEM file")


# --- the smoke test


@pytest.fixture
def web_server_that_is_not_jaeger(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "index.html").write_text("<html>hello</html>")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_smoke_test_says_when_the_url_is_not_jaeger_without_waiting(web_server_that_is_not_jaeger: str) -> None:
    result = run_smoke_test(web_server_that_is_not_jaeger, "--timeout", "60", timeout=20)  # fails long before
    assert result.returncode == SMOKE_NOT_JAEGER
    assert_one_line_error(
        result.stderr,
        f"error: {web_server_that_is_not_jaeger}/api/v3/traces answered HTTP 404: is {web_server_that_is_not_jaeger}"
        " Jaeger's query service (1.55 or later)?",
    )


@pytest.mark.parametrize("url", ["localhost:16686", "http://[::1", "http://:16686", "ftp://localhost:16686"])
def test_the_smoke_test_refuses_a_jaeger_url_that_is_not_a_url(url: str) -> None:
    result = run_smoke_test(url, timeout=20)
    assert result.returncode == EXIT_USAGE
    assert_one_line_error(result.stderr, "JAEGER_URL", repr(url), "expected http://localhost:16686")


def test_the_smoke_test_refuses_a_bad_timeout() -> None:
    result = run_smoke_test("http://localhost:16686", "--timeout", "soon", timeout=20)
    assert result.returncode == EXIT_USAGE
    assert_one_line_error(result.stderr, "invalid timeout 'soon'", "expected seconds above 0")
