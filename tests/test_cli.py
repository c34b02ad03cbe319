"""The app as a process, without a backend: output, exit status, one-line errors, bounds."""

import subprocess
import sys

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
