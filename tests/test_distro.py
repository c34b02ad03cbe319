"""The zero-code path (compose.distro.yaml): the same app under `opentelemetry-instrument`,
which sets tracing up before the app runs. The trace, the exit status and the bounded
flush stay what they are with the explicit set-up, against the real servers."""

import json
from pathlib import Path

import pytest

from harness import compose
from harness.app import SPANS_PER_TRACE, exported_trace_id, launcher, run_app, run_app_timing_its_end, run_load
from harness.native import running_natively
from harness.servers import free_port
from harness.smoke import run_smoke_test
from harness.user_scripts import collector_token

DISTRO = "compose.distro.yaml"
PATHS = {
    "direct plaintext": ("compose.yaml", DISTRO),
    "collector plaintext + token": ("compose.yaml", "compose.collector.yaml", DISTRO),
}


def test_the_overlay_starts_the_app_under_opentelemetry_instrument_exporting_otlp_over_grpc() -> None:
    app = compose.resolve("compose.yaml", DISTRO)["services"]["app"]
    assert app["entrypoint"] == ["python", "-m", "inprocess_grpc.instrument", "python", "-m", "inprocess_grpc"]
    env = app["environment"]
    assert (env["OTEL_TRACES_EXPORTER"], env["OTEL_EXPORTER_OTLP_PROTOCOL"]) == ("otlp", "grpc")
    assert (env["OTEL_METRICS_EXPORTER"], env["OTEL_LOGS_EXPORTER"]) == ("none", "none")
    assert env["OTEL_SERVICE_NAME"] == "inprocess-grpc"


@pytest.mark.parametrize("path", PATHS)
def test_under_the_distro_the_trace_is_the_same_and_exported_once(path: str, tmp_path: Path) -> None:
    config = compose.resolve(*PATHS[path], variables=collector_token(tmp_path / "token"))
    with running_natively(config, tmp_path) as stack:
        result = run_app(stack.app_env, launcher=launcher(config))
        assert result.returncode == 0, result.stderr
        trace_id = exported_trace_id(result.stderr)
        # The smoke test's shape is exact: a second provider or a second export would
        # show as extra spans or a second root.
        smoke = run_smoke_test(stack.jaeger, "--trace-id", trace_id, "--timeout", "20")
        assert smoke.returncode == 0, smoke.stderr
        assert f"ok: trace {trace_id} has the expected {SPANS_PER_TRACE} spans" in smoke.stdout


def test_under_the_distro_a_wrong_token_still_fails_the_run_with_its_hint(tmp_path: Path) -> None:
    config = compose.resolve(*PATHS["collector plaintext + token"], variables=collector_token(tmp_path / "token"))
    with running_natively(config, tmp_path) as stack:
        wrong = {**stack.app_env, "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20wrong"}
        result = run_app(wrong, launcher=launcher(config))
    assert result.returncode == 3
    [line] = result.stderr.splitlines()
    assert line.startswith(
        "inprocess-grpc: export failed, spans not delivered: the server rejected the credentials: "
        "check the token in OTEL_EXPORTER_OTLP_HEADERS ("
    )


def _backend_down(config: compose.Config) -> dict[str, str]:
    env = compose.environment(config, "app", {"jaeger:4317": f"127.0.0.1:{free_port()}"})
    return {**env, "OTEL_EXPORTER_OTLP_TIMEOUT": "2"}


def test_under_the_distro_a_backend_down_ends_a_default_run_within_the_export_timeout_plus_two_seconds() -> None:
    config = compose.resolve("compose.yaml", DISTRO)
    # The default run's spans (one trace) are one batch: the SDK's flush takes one export, bounded
    # by the exporter's timeout (retries included). Timed from the end of the lookups: the
    # distro's start-up, slower still on a loaded machine, is no part of the promise.
    result, flush_and_exit = run_app_timing_its_end(_backend_down(config), launcher=launcher(config))
    assert result.returncode == 3
    [line] = result.stderr.splitlines()
    assert "export failed, spans not delivered: nothing listens there" in line
    assert flush_and_exit <= 2 + 2


def test_under_the_distro_a_load_run_knows_only_the_spans_it_ended_and_any_export_error() -> None:
    config = compose.resolve("compose.yaml", DISTRO)
    env = {**_backend_down(config), "OTEL_BSP_MAX_QUEUE_SIZE": "2048", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "512"}
    # Up to 4500 spans in 1 s, 2048 queued at most: the distro's flush exports the queue
    # batch by batch, each up to the exporter's timeout; nothing here cuts it short.
    result = run_load(env, "--rate", "500", "--duration", "1", timeout=60, launcher=launcher(config))
    assert result.returncode == 3
    summary = json.loads(result.stdout)
    assert summary["spans"] == {"ended": summary["traces"] * 9, "exported": None, "failed": None, "dropped": None}
    # The bound docs/export-paths.md states for the zero-code path: the queue's batches
    # (4 of 512) times the timeout, after the 1 s of traces, plus 2 s. `seconds` runs from
    # the first trace to the end of the flush, without the distro's start-up.
    assert summary["seconds"] <= 1 + 4 * 2 + 2
