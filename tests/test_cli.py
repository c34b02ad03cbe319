"""The app as a process, without a backend: output, exit status, one-line errors, bounds."""

import pytest

from tests.conftest import run_app
from tests.servers import free_port

JOHN_JSON = (
    '{"id":100,"name":"john","gender":1,"site":"https://goframe.org",'
    '"email":"john@goframe.org","math":100,"english":60,"chinese":50}'
)
# Every run here that is not about exporting keeps its spans to itself.
NOT_SAMPLED = {"OTEL_TRACES_SAMPLER": "always_off"}


def assert_one_line_error(stderr: str, *fragments: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_without_ids_it_looks_up_users_1_and_100_and_prints_one_json_per_line() -> None:
    result = run_app(NOT_SAMPLED)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["{}", JOHN_JSON]


def test_ids_are_looked_up_in_the_order_given() -> None:
    result = run_app(NOT_SAMPLED, "100", "7", "100")
    assert result.stdout.splitlines() == [JOHN_JSON, "{}", JOHN_JSON]


@pytest.mark.parametrize("bad_id", ["abc", "1.5", "", "-1", "0", "9223372036854775808", "0x10", "1e3"])
def test_a_bad_user_id_is_a_one_line_usage_error_with_status_2(bad_id: str) -> None:
    result = run_app(NOT_SAMPLED, "1", bad_id)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "invalid user id", repr(bad_id))
    assert result.stdout == ""


def test_an_unknown_option_is_a_usage_error_too() -> None:
    result = run_app(NOT_SAMPLED, "--bogus")
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "--bogus")


def test_backend_down_prints_the_data_then_one_line_and_status_3_within_the_timeout() -> None:
    timeout_s = 2
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}",
        "OTEL_EXPORTER_OTLP_TIMEOUT": str(timeout_s),
    }
    # The run's own bound: the exporter's timeout (retries included) plus start-up.
    result = run_app(env, timeout=timeout_s + 5)
    assert result.returncode == 3
    assert result.stdout.splitlines() == ["{}", JOHN_JSON]
    assert_one_line_error(result.stderr, "export failed", "UNAVAILABLE")


def test_a_missing_certificate_file_stops_before_running_with_status_4(tmp_path) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "https://127.0.0.1:4317",
        "OTEL_EXPORTER_OTLP_CERTIFICATE": str(tmp_path / "ca.pem"),
    }
    result = run_app(env)
    assert result.returncode == 4
    assert_one_line_error(result.stderr, "OTEL_EXPORTER_OTLP_CERTIFICATE", "no such file")
    assert result.stdout == ""


def test_with_the_sdk_disabled_it_runs_and_says_no_trace_was_recorded() -> None:
    result = run_app({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}"})
    assert result.returncode == 0
    assert result.stdout.splitlines() == ["{}", JOHN_JSON]
    assert_one_line_error(result.stderr, "tracing is disabled")


def test_an_unsampled_trace_is_not_exported_and_that_is_said() -> None:
    result = run_app({**NOT_SAMPLED, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}"})
    assert result.returncode == 0
    assert_one_line_error(result.stderr, "not sampled")
