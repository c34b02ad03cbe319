"""End to end against a real Jaeger all-in-one 1.55, with the configuration compose gives
the containers: the app's environment and Jaeger's come from `docker compose config`.

Each test that proves the stack works is paired with tests that prove the checks can
fail: a broken span tree, a broken compose environment, a weakened shape check.
"""

import dataclasses
import json
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from harness import REPO, compose, workflow
from harness.app import BASE_ENV, SPANS_PER_TRACE, app_command, exported_trace_id, run_app, trace_link
from harness.servers import Jaeger
from harness.smoke import run_smoke_test
from jaeger_smoke.api import JaegerClient
from jaeger_smoke.compare import compare
from jaeger_smoke.expectation import load
from jaeger_smoke.otlp import Span, Trace

# The app's expectation: the span tree it must produce (the smoke test's default).
EXPECTED_TRACE = REPO / "expected-trace.json"


def test_the_compose_environment_delivers_the_trace_the_smoke_test_expects(jaeger: Jaeger, app_env: dict) -> None:
    result = run_app(app_env)
    assert result.returncode == 0, result.stderr
    trace_id = exported_trace_id(result.stderr)
    assert trace_link("http://localhost:16686", trace_id) in result.stderr

    smoke = run_smoke_test(jaeger, "--timeout", "20")
    assert smoke.returncode == 0, smoke.stderr
    assert f"ok: trace {trace_id} has the expected {SPANS_PER_TRACE} spans" in smoke.stdout


def test_the_link_to_the_trace_follows_jaeger_url(jaeger: Jaeger, app_env: dict) -> None:
    result = run_app({**app_env, "JAEGER_URL": "https://jaeger.example.com/"})
    trace_id = exported_trace_id(result.stderr)
    assert trace_link("https://jaeger.example.com/", trace_id) in result.stderr


def test_sigterm_ends_the_run_and_flushes_every_span(jaeger: Jaeger, app_env: dict, tmp_path: Path) -> None:
    process = subprocess.Popen(
        app_command(fault="block-in-get-scores"),  # user 100's GetScores waits for the signal
        env={**BASE_ENV, **app_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr.readline().strip() == "blocked"
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGTERM
    assert stdout.splitlines() == ["{}"]
    assert "stopped by SIGTERM, spans flushed" in stderr
    # The whole tree, and the spans the signal cut short end as errors: GetScores(100)
    # and its ancestors; GetUser(100) never learnt whether the user was found.
    expected = json.loads(EXPECTED_TRACE.read_text())
    user_100 = expected["root"]["children"][1]
    expected["root"]["status"] = user_100["status"] = user_100["children"][2]["status"] = "error"
    del user_100["attributes"]["app.user.found"]
    (tmp_path / "cut-short.json").write_text(json.dumps(expected))
    trace_id = exported_trace_id(stderr)
    smoke = run_smoke_test(jaeger, "--trace-id", trace_id, "--expect", str(tmp_path / "cut-short.json"))
    assert smoke.returncode == 0, smoke.stderr
    assert smoke.stdout.startswith(f"ok: trace {trace_id} has the expected {SPANS_PER_TRACE} spans")


# --- the checks can fail: a broken app, a broken compose file, a weakened shape check


# Each a fault of harness/broken_app.py, and the diff lines that must name it.
APP_BREAKAGES = {
    "GetScores not traced": (
        "get-scores-not-traced",
        ['-    GetScores [inprocess-grpc] user.id="1"', '-    GetScores [inprocess-grpc] user.id="100"'],
    ),
    "lookups outside GetUser": (
        "lookups-outside-get-user",
        [
            '-  GetUser [inprocess-grpc] user.id="1" app.user.found=false',
            '+  GetUser [inprocess-grpc] user.id="1" app.user.found=(absent)',
            '-    GetInfo [inprocess-grpc] user.id="1"',
            '+  GetInfo [inprocess-grpc] user.id="1"',
        ],
    ),
}


@pytest.mark.parametrize("breakage", APP_BREAKAGES)
def test_a_broken_span_tree_fails_the_smoke_test_with_a_diff(jaeger: Jaeger, app_env: dict, breakage: str) -> None:
    fault, diff_lines = APP_BREAKAGES[breakage]
    result = run_app(app_env, fault=fault)
    assert result.returncode == 0, result.stderr  # the app still runs and exports
    trace_id = exported_trace_id(result.stderr)
    smoke = run_smoke_test(jaeger, "--timeout", "3")
    assert smoke.returncode == 1, smoke.stderr
    first, *diff = smoke.stderr.splitlines()
    assert first.startswith(f"FAIL: trace {trace_id} does not have the shape {EXPECTED_TRACE} expects (")
    for line in diff_lines:
        assert line in diff


COMPOSE_BREAKAGES = {
    "endpoint without a scheme (TLS against plaintext)": ("http://jaeger:4317", "jaeger:4317"),
    "OTLP/HTTP port for the gRPC exporter": ("http://jaeger:4317", "http://jaeger:4318"),
    "another service name": ("OTEL_SERVICE_NAME: inprocess-grpc", "OTEL_SERVICE_NAME: other"),
}


@pytest.mark.parametrize("breakage", COMPOSE_BREAKAGES)
def test_a_broken_compose_environment_fails_the_end_to_end_run(jaeger: Jaeger, tmp_path: Path, breakage: str) -> None:
    good, bad = COMPOSE_BREAKAGES[breakage]
    text = (REPO / "compose.yaml").read_text()
    assert good in text
    project = workflow.checkout(tmp_path)  # with what compose.yaml extends and builds
    (project / "compose.yaml").write_text(text.replace(good, bad))
    config = compose.resolve("compose.yaml", project_dir=project)
    # The OTLP/HTTP port of the test's Jaeger is not published: 4318 reaches nothing.
    env = compose.environment(config, "app", {"jaeger:4317": jaeger.otlp_grpc})
    env["OTEL_EXPORTER_OTLP_TIMEOUT"] = "3"
    result = run_app(env, timeout=15)
    smoke = run_smoke_test(jaeger, "--timeout", "3")
    assert smoke.returncode == 5, smoke.stdout
    assert "FAIL: no trace of service 'inprocess-grpc' with root span 'main'" in smoke.stderr
    if "service name" not in breakage:
        assert result.returncode in (3, 4)  # refused before running, or the export failed
        [line] = result.stderr.splitlines()
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" in line or "export failed" in line


@pytest.fixture
def real_trace(jaeger: Jaeger, app_env: dict) -> Trace:
    """A trace the app really sent, as Jaeger's api_v3 returns it."""
    result = run_app(app_env)
    trace = JaegerClient(jaeger.query_url).trace(exported_trace_id(result.stderr))
    assert trace is not None and compare(load(EXPECTED_TRACE), trace).matches
    return trace


def _span(trace: Trace, name: str, user_id: str = "100") -> Span:
    return next(span for span in trace.spans if span.name == name and span.attributes.get("user.id") == user_id)


def _change(trace: Trace, span: Span, **changes: object) -> None:
    trace.spans[trace.spans.index(span)] = dataclasses.replace(span, **changes)


def _drop(trace: Trace) -> None:
    trace.spans.remove(_span(trace, "GetDetail"))


def _server_kind(trace: Trace) -> None:
    _change(trace, _span(trace, "GetInfo"), kind="server")


def _reparent_to_root(trace: Trace) -> None:
    root = next(span for span in trace.spans if span.name == "main")
    _change(trace, _span(trace, "GetScores"), parent_id=root.span_id)


def _orphan(trace: Trace) -> None:
    _change(trace, _span(trace, "GetScores"), parent_id="00000000deadbeef")


def _duplicate(trace: Trace) -> None:
    trace.spans.append(dataclasses.replace(_span(trace, "GetInfo"), span_id="00000000feedf00d"))


def _other_service(trace: Trace) -> None:
    _change(trace, _span(trace, "GetUser"), service="intruder")


def _no_user_id(trace: Trace) -> None:
    span = _span(trace, "GetInfo")
    _change(trace, span, attributes={key: value for key, value in span.attributes.items() if key != "user.id"})


def _wrong_user_id(trace: Trace) -> None:
    span = _span(trace, "GetUser")
    _change(trace, span, attributes={**span.attributes, "user.id": "101"})


def _error(trace: Trace) -> None:
    _change(trace, _span(trace, "GetScores"), status="error")


def _renamed(trace: Trace) -> None:
    _change(trace, _span(trace, "GetInfo"), name="getInfo")


def _other_language(trace: Trace) -> None:
    span = _span(trace, "GetDetail")
    _change(trace, span, resource={**span.resource, "telemetry.sdk.language": "go"})


@pytest.mark.parametrize(
    "mutate",
    [
        _drop,
        _server_kind,
        _reparent_to_root,
        _orphan,
        _duplicate,
        _other_service,
        _no_user_id,
        _wrong_user_id,
        _error,
        _renamed,
        _other_language,
    ],
)
def test_the_shape_check_rejects_every_kind_of_wrong_trace(real_trace: Trace, mutate: Callable[[Trace], None]) -> None:
    mutate(real_trace)
    comparison = compare(load(EXPECTED_TRACE), real_trace)
    assert not comparison.matches
    assert comparison.expected != comparison.found  # the diff shows it
