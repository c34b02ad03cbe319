"""End to end against a real Jaeger all-in-one 1.55, with the configuration compose gives
the containers: the app's environment and Jaeger's come from `docker compose config`.

Each test that proves the stack works is paired with tests that prove the checks can
fail: a broken span tree, a broken compose environment, a weakened shape check.
"""

import copy
import signal
import subprocess
from pathlib import Path

import pytest

import smoke_test
from harness import REPO, compose
from harness.app import BASE_ENV, app_command, exported_trace_id, run_app, trace_link
from harness.servers import Jaeger
from harness.smoke import run_smoke_test
from jaeger_api import JaegerAPI


def test_the_compose_environment_delivers_the_trace_the_smoke_test_expects(jaeger: Jaeger, app_env: dict) -> None:
    result = run_app(app_env)
    assert result.returncode == 0, result.stderr
    trace_id = exported_trace_id(result.stderr)
    assert trace_link("http://localhost:16686", trace_id) in result.stderr

    smoke = run_smoke_test(jaeger, "--timeout", "20")
    assert smoke.returncode == 0, smoke.stderr
    assert f"ok: trace {trace_id} has the expected 9 spans" in smoke.stdout


def test_the_link_to_the_trace_follows_jaeger_url(jaeger: Jaeger, app_env: dict) -> None:
    result = run_app({**app_env, "JAEGER_URL": "https://jaeger.example.com/"})
    trace_id = exported_trace_id(result.stderr)
    assert trace_link("https://jaeger.example.com/", trace_id) in result.stderr


# A user id of 100 blocks in GetScores until the process is signalled; "blocked" on
# stderr says it is there.
BLOCK_IN_GET_SCORES = """
import sys, threading, inprocess_grpc.users as users
class Blocking(dict):
    def get(self, key, default=None):
        if key == 100:
            print("blocked", file=sys.stderr, flush=True)
            threading.Event().wait()
        return super().get(key, default)
users._SCORES = Blocking(users._SCORES)
"""


def test_sigterm_ends_the_run_and_flushes_every_span(jaeger: Jaeger, app_env: dict) -> None:
    process = subprocess.Popen(
        app_command(setup=BLOCK_IN_GET_SCORES),
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
    trace = JaegerAPI(jaeger.query_url).trace(exported_trace_id(stderr))
    expected = smoke_test.expected_outline("inprocess-grpc", [1, 100])
    # The spans the signal cut short end as errors: GetScores(100) and its ancestors.
    for line in (0, 5, 8):  # main, GetUser(100), GetScores(100)
        expected[line] += " (error)"
    assert smoke_test.outline(trace) == expected


# --- the checks can fail: a broken app, a broken compose file, a weakened shape check


APP_BREAKAGES = {
    "GetScores not traced": (
        "import inprocess_grpc.users as u\nu.get_scores = lambda i: dict(u._SCORES.get(i, {}))",
        "-    GetScores [inprocess-grpc] user.id=1",
    ),
    "lookups outside GetUser": (
        "import inprocess_grpc.users as u\n"
        "def get_user(i):\n"
        "    with u.tracer.start_as_current_span('GetUser') as span:\n"
        "        span.set_attribute(u.USER_ID, str(i))\n"
        "    return {**u.get_info(i), **u.get_detail(i), **u.get_scores(i)}\n"
        "u.get_user = get_user\n"
        "import inprocess_grpc.__main__ as m\nm.get_user = get_user",
        "+  GetInfo [inprocess-grpc] user.id=1",
    ),
}


@pytest.mark.parametrize("breakage", APP_BREAKAGES)
def test_a_broken_span_tree_fails_the_smoke_test_with_a_diff(jaeger: Jaeger, app_env: dict, breakage: str) -> None:
    setup, diff_line = APP_BREAKAGES[breakage]
    result = run_app(app_env, setup=setup)
    assert result.returncode == 0, result.stderr  # the app still runs and exports
    smoke = run_smoke_test(jaeger, "--timeout", "3")
    assert smoke.returncode == 1
    assert "does not have the expected shape" in smoke.stderr
    assert diff_line in smoke.stderr.splitlines()


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
    (tmp_path / "compose.yaml").write_text(text.replace(good, bad))
    (tmp_path / "app").mkdir()  # compose checks that the build context exists
    config = compose.resolve("compose.yaml", project_dir=tmp_path)
    # The OTLP/HTTP port of the test's Jaeger is not published: 4318 reaches nothing.
    env = compose.environment(config, "app", {"jaeger:4317": jaeger.otlp_grpc})
    env["OTEL_EXPORTER_OTLP_TIMEOUT"] = "3"
    result = run_app(env, timeout=15)
    smoke = run_smoke_test(jaeger, "--timeout", "3")
    assert smoke.returncode == 1, smoke.stdout
    assert "FAIL: no trace of service 'inprocess-grpc'" in smoke.stderr
    if "service name" not in breakage:
        assert result.returncode in (3, 4)  # refused before running, or the export failed
        [line] = result.stderr.splitlines()
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" in line or "export failed" in line


@pytest.fixture
def real_trace(jaeger: Jaeger, app_env: dict) -> dict:
    """A trace the app really sent, as Jaeger returns it."""
    result = run_app(app_env)
    api = JaegerAPI(jaeger.query_url)
    trace = api.trace(exported_trace_id(result.stderr))
    assert smoke_test.outline(trace) == smoke_test.expected_outline("inprocess-grpc", [1, 100])
    return trace


def _span(trace: dict, name: str, user_id: str = "100") -> dict:
    return next(
        span
        for span in trace["spans"]
        if span["operationName"] == name and {"key": "user.id", "type": "string", "value": user_id} in span["tags"]
    )


def _drop(trace: dict) -> None:
    trace["spans"].remove(_span(trace, "GetDetail"))


def _follows_from(trace: dict) -> None:
    _span(trace, "GetInfo")["references"][0]["refType"] = "FOLLOWS_FROM"


def _reparent_to_root(trace: dict) -> None:
    root = next(span for span in trace["spans"] if span["operationName"] == "main")
    _span(trace, "GetScores")["references"][0]["spanID"] = root["spanID"]


def _orphan(trace: dict) -> None:
    _span(trace, "GetScores")["references"][0]["spanID"] = "00000000deadbeef"


def _duplicate(trace: dict) -> None:
    twin = copy.deepcopy(_span(trace, "GetInfo"))
    twin["spanID"] = "00000000feedf00d"
    trace["spans"].append(twin)


def _other_service(trace: dict) -> None:
    trace["processes"]["p9"] = {"serviceName": "intruder", "tags": []}
    _span(trace, "GetUser")["processID"] = "p9"


def _no_user_id(trace: dict) -> None:
    span = _span(trace, "GetInfo")
    span["tags"] = [tag for tag in span["tags"] if tag["key"] != "user.id"]


def _wrong_user_id(trace: dict) -> None:
    next(tag for tag in _span(trace, "GetUser")["tags"] if tag["key"] == "user.id")["value"] = "101"


def _error(trace: dict) -> None:
    _span(trace, "GetScores")["tags"].append({"key": "error", "type": "bool", "value": True})


def _renamed(trace: dict) -> None:
    _span(trace, "GetInfo")["operationName"] = "getInfo"


@pytest.mark.parametrize(
    "mutate",
    [
        _drop,
        _follows_from,
        _reparent_to_root,
        _orphan,
        _duplicate,
        _other_service,
        _no_user_id,
        _wrong_user_id,
        _error,
        _renamed,
    ],
)
def test_the_shape_check_rejects_every_kind_of_wrong_trace(real_trace: dict, mutate) -> None:
    mutate(real_trace)
    assert smoke_test.outline(real_trace) != smoke_test.expected_outline("inprocess-grpc", [1, 100])
