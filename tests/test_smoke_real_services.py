"""The trace check (jaeger-smoke, run as `python3 scripts/smoke_test.py`) on traces that real
instrumentation made: a Flask front calling a FastAPI service through requests, both
started by `opentelemetry-instrument` (harness/web_services/), exporting over OTLP/gRPC to
the real Jaeger 1.55 and Jaeger v2, each test on both.

Such traces vary from request to request: a name carries an id, a streamed answer makes
one `… http send` span per chunk, instrumentation adds spans a team may not care about,
a request may become slow. Each case is shown passing, and, beside it, the same kind of
file failing where the trace is outside what the file allows.

The services and one Jaeger of each version are shared by the module's tests; each test
checks the traces of its own requests, by id (`--trace-id`), which the front answers with.
"""

import json
import re
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness import compose
from harness.native import JAEGER_CONFIGS, running_jaeger_as_configured
from harness.servers import Jaeger
from harness.smoke import run_smoke_test
from harness.web_services import FRONT_SERVICE, ITEMS_SERVICE, WebServices, running_web_services


@dataclass
class Stack:
    jaeger: Jaeger
    services: WebServices
    # Each service exports its spans in batches every OTEL_BSP_SCHEDULE_DELAY ms, on a
    # timer of its own: the front's spans may be in Jaeger a whole period before those of
    # the service it called. The check waits for the spans its file expects; a recording
    # expects none, so it waits until two periods pass with no new span.
    record_settle: float


@pytest.fixture(scope="module", params=["1.55", pytest.param("v2", marks=pytest.mark.jaeger_v2)])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Jaeger 1.55, or Jaeger v2, as compose configures it, and the two services sending
    to it with the app's OTEL_* environment; shared by this module's tests."""
    config = compose.resolve(*JAEGER_CONFIGS[request.param])
    folder = tmp_path_factory.mktemp(f"web-services-{request.param}")
    with running_jaeger_as_configured(config, folder) as jaeger:
        app_env = compose.environment(config, "app", {"jaeger:4317": jaeger.otlp_grpc})
        with running_web_services(app_env, folder) as services:
            yield Stack(jaeger, services, 2 * int(app_env["OTEL_BSP_SCHEDULE_DELAY"]) / 1000)


def expectation_file(folder: Path, document: Mapping[str, Any], name: str = "expected.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(document, indent=2))
    return path


def check(
    stack: Stack, expectation: Path, trace_id: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The trace check of trace `trace_id` against the file `expectation`."""
    return run_smoke_test(
        stack.jaeger, "--expect", str(expectation), "--trace-id", trace_id, "--timeout", "30", env=env
    )


def passed_on(front_name: Any, items_span: Mapping[str, Any]) -> dict[str, Any]:
    """The expectation for a request to the front (its server span named `front_name`),
    which it passes on with requests (a client span) to the FastAPI service, whose server
    span is `items_span` (its name and what else the file says of it)."""
    return {
        "service": FRONT_SERVICE,
        "root": {
            "name": front_name,
            "kind": "server",
            "attributes": {"http.method": "GET", "http.status_code": 200},
            "children": [
                {
                    "name": "GET",
                    "kind": "client",
                    "attributes": {"http.method": "GET", "http.status_code": 200},
                    "children": [{"service": ITEMS_SERVICE, "kind": "server", **items_span}],
                }
            ],
        },
    }


def sent(route: str, count: Any) -> dict[str, Any]:
    """The FastAPI service's `… http send` spans under the server span of `route`: one per
    ASGI message of the answer."""
    return {"name": f"GET {route} http send", "service": ITEMS_SERVICE, "count": count}


def received(route: str, count: Any) -> dict[str, Any]:
    """Its `… http receive` spans (a streamed answer listens for the client going away)."""
    return {"name": f"GET {route} http receive", "service": ITEMS_SERVICE, "count": count}


def diff_lines(output: str) -> list[str]:
    """The lines a diff adds or removes (not its ---/+++ header)."""
    return [line for line in output.splitlines() if line[:1] in "-+" and not line.startswith(("--- ", "+++ "))]


def ok_line(trace_id: str) -> str:
    return f"ok: trace {trace_id} has the expected"


# --- record, then check: the recorded file is the expectation of the next same request


def record(stack: Stack, path: str, folder: Path) -> Path:
    """GET `path` from the front, and record its trace (`--record`): the file."""
    recorded = folder / "recorded.json"
    trace_id = stack.services.get(path)
    settle = str(stack.record_settle)
    made = run_smoke_test(
        stack.jaeger, "--record", str(recorded), "--trace-id", trace_id, "--settle", settle, "--timeout", "30"
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"recorded: trace {trace_id} ")
    return recorded


def test_a_trace_recorded_from_one_request_passes_for_the_next_request_of_the_same_kind(
    stack: Stack, tmp_path: Path
) -> None:
    recorded = record(stack, "/items/7", tmp_path)
    second = stack.services.get("/items/7")
    smoke = check(stack, recorded, second)
    assert smoke.returncode == 0, smoke.stderr
    assert smoke.stdout.startswith(ok_line(second))


def test_a_recorded_trace_holds_the_tree_with_only_the_attributes_that_stay_the_same(
    stack: Stack, tmp_path: Path
) -> None:
    recorded = record(stack, "/items/7", tmp_path)
    document = json.loads(recorded.read_text())
    root = document["root"]
    assert (document["service"], root["name"], root["kind"]) == (FRONT_SERVICE, "GET /items/7", "server")
    assert root["attributes"] == {"http.method": "GET", "http.status_code": 200}
    [client] = root["children"]
    assert (client["name"], client["kind"], client["attributes"]) == (
        "GET",
        "client",
        {"http.method": "GET", "http.status_code": 200},
    )
    [items] = client["children"]
    assert (items["name"], items["service"], items["kind"]) == ("GET /items/{item_id}", ITEMS_SERVICE, "server")
    assert items["attributes"] == {"http.route": "/items/{item_id}", "http.method": "GET", "http.status_code": 200}
    # Nothing that changes from run to run: no port, host, address, URL or id.
    text = recorded.read_text()
    for changing in ("port", "host", "http.url", "peer", "127.0.0.1", "user_agent"):
        assert changing not in text


def test_a_recorded_trace_folds_identical_sibling_spans_into_one_entry_with_a_count(
    stack: Stack, tmp_path: Path
) -> None:
    recorded = record(stack, "/stream?chunks=2", tmp_path)
    [client] = json.loads(recorded.read_text())["root"]["children"]
    [items] = client["children"]
    children = sorted((child["name"], child.get("count", 1), child.get("attributes")) for child in items["children"])
    assert children == [
        ("GET /stream http receive", 2, None),
        # The start of the answer, which carries its status code, then 2 chunks and the end.
        ("GET /stream http send", 1, {"http.status_code": 200}),
        ("GET /stream http send", 3, None),
    ]


def test_a_recorded_stream_edited_to_a_count_range_passes_a_longer_stream(stack: Stack, tmp_path: Path) -> None:
    recorded = record(stack, "/stream?chunks=2", tmp_path)
    longer = stack.services.get("/stream?chunks=4")
    assert check(stack, recorded, longer).returncode == 1

    document = json.loads(recorded.read_text())
    [items] = document["root"]["children"][0]["children"]
    for child in items["children"]:
        if child.get("count") == 3:
            child["count"] = {"min": 1}
    edited = expectation_file(tmp_path, document, "edited.json")
    smoke = check(stack, edited, longer)
    assert smoke.returncode == 0, smoke.stderr
    assert smoke.stdout.startswith(ok_line(longer))


def test_a_recorded_trace_fails_for_a_request_of_another_item_whose_id_is_in_the_span_name(
    stack: Stack, tmp_path: Path
) -> None:
    recorded = record(stack, "/items/7", tmp_path)
    smoke = check(stack, recorded, stack.services.get("/items/8"))
    assert smoke.returncode == 1, smoke.stderr
    changed = diff_lines(smoke.stderr)
    assert any(line.startswith("-GET /items/7 [shop-front]") for line in changed), smoke.stderr
    assert any(line.startswith("+GET /items/8 [shop-front]") for line in changed), smoke.stderr


# --- a streamed answer: one `http send` span per chunk, and a count range


def streamed(send_count: Any) -> dict[str, Any]:
    return passed_on(
        "GET /stream",
        {"name": "GET /stream", "children": [sent("/stream", send_count), received("/stream", 2)]},
    )


@pytest.mark.parametrize("chunks", [1, 4])
def test_streamed_answers_of_1_and_of_4_chunks_pass_one_file_with_a_count_range(
    stack: Stack, tmp_path: Path, chunks: int
) -> None:
    # n chunks: the start of the answer, n bodies and the closing empty body, n + 2 sends.
    expected = expectation_file(tmp_path, streamed({"min": 3}))
    trace_id = stack.services.get(f"/stream?chunks={chunks}")
    smoke = check(stack, expected, trace_id)
    assert smoke.returncode == 0, smoke.stderr
    assert smoke.stdout.startswith(ok_line(trace_id))


def test_a_streamed_answer_with_more_send_spans_than_the_count_range_allows_fails(stack: Stack, tmp_path: Path) -> None:
    expected = expectation_file(tmp_path, streamed({"min": 3, "max": 5}))
    smoke = check(stack, expected, stack.services.get("/stream?chunks=4"))  # 6 sends
    assert smoke.returncode == 1, smoke.stderr
    assert any(line.startswith("+      GET /stream http send [items-api]") for line in diff_lines(smoke.stderr))


# --- a span name with an id in it, matched by a regex


def item_by_pattern(pattern: str) -> dict[str, Any]:
    document = passed_on(
        {"regex": pattern}, {"name": "GET /items/{item_id}", "children": [sent("/items/{item_id}", 2)]}
    )
    document["root"]["attributes"]["http.target"] = {"regex": "/items/[0-9]+"}
    return document


@pytest.mark.parametrize("item", [7, 12345])
def test_the_front_span_named_after_the_requested_item_matches_a_regex(stack: Stack, tmp_path: Path, item: int) -> None:
    expected = expectation_file(tmp_path, item_by_pattern("GET /items/[0-9]+"))
    trace_id = stack.services.get(f"/items/{item}")
    smoke = check(stack, expected, trace_id)
    assert smoke.returncode == 0, smoke.stderr
    assert smoke.stdout.startswith(ok_line(trace_id))


def test_a_regex_must_match_the_whole_span_name_not_its_beginning(stack: Stack, tmp_path: Path) -> None:
    expected = expectation_file(tmp_path, item_by_pattern("GET /items/[0-9]"))  # one digit
    smoke = check(stack, expected, stack.services.get("/items/12345"))
    assert smoke.returncode == 1, smoke.stderr
    assert any(line.startswith("+GET /items/12345 [shop-front]") for line in diff_lines(smoke.stderr))


# --- spans the file does not list: the ASGI send spans under the FastAPI route


def item_route(**items_span: Any) -> dict[str, Any]:
    return passed_on("GET /items/7", {"name": "GET /items/{item_id}", **items_span})


def test_with_extra_children_allowed_the_unlisted_asgi_send_spans_are_ignored(stack: Stack, tmp_path: Path) -> None:
    expected = expectation_file(tmp_path, item_route(extra_children="allowed"))
    trace_id = stack.services.get("/items/7")
    smoke = check(stack, expected, trace_id)
    assert smoke.returncode == 0, smoke.stderr
    assert smoke.stdout.startswith(ok_line(trace_id))


def test_without_extra_children_the_same_file_fails_on_the_unlisted_send_spans(stack: Stack, tmp_path: Path) -> None:
    expected = expectation_file(tmp_path, item_route())
    smoke = check(stack, expected, stack.services.get("/items/7"))
    assert smoke.returncode == 1, smoke.stderr
    extra = [line for line in diff_lines(smoke.stderr) if line.startswith("+")]
    assert extra == ["+      GET /items/{item_id} http send [items-api]"] * 2, smoke.stderr


def test_listing_the_send_spans_exactly_passes_without_extra_children(stack: Stack, tmp_path: Path) -> None:
    expected = expectation_file(tmp_path, item_route(children=[sent("/items/{item_id}", 2)]))
    trace_id = stack.services.get("/items/7")
    smoke = check(stack, expected, trace_id)
    assert smoke.returncode == 0, smoke.stderr


# --- a slow endpoint and a duration bound

SLOW = "/slow?seconds=0.3"


def slow_route(duration_ms: Mapping[str, float]) -> dict[str, Any]:
    return passed_on("GET /slow", {"name": "GET /slow", "duration_ms": duration_ms, "extra_children": "allowed"})


def measured_durations(output: str) -> list[float]:
    """The durations the diff shows for spans found in Jaeger (ms)."""
    return [
        float(found)
        for line in diff_lines(output)
        if line.startswith("+")
        for found in re.findall(r"duration_ms=([0-9.]+)", line)
    ]


def test_a_slow_endpoint_fails_a_tight_duration_bound_and_the_diff_shows_its_duration(
    stack: Stack, tmp_path: Path
) -> None:
    expected = expectation_file(tmp_path, slow_route({"max": 100}))
    smoke = check(stack, expected, stack.services.get(SLOW))
    assert smoke.returncode == 1, smoke.stderr
    assert "-    GET /slow [items-api] kind=server duration_ms=..100" in diff_lines(smoke.stderr)
    [measured] = measured_durations(smoke.stderr)
    assert measured > 100
    # The send spans extra_children lets be: context, on both sides, not a difference.
    assert smoke.stderr.splitlines().count("       GET /slow http send [items-api] (ignored)") == 2
    assert "::error" not in smoke.stdout + smoke.stderr


def test_a_slow_endpoint_passes_a_looser_duration_bound(stack: Stack, tmp_path: Path) -> None:
    expected = expectation_file(tmp_path, slow_route({"min": 250, "max": 60000}))
    trace_id = stack.services.get(SLOW)
    smoke = check(stack, expected, trace_id)
    assert smoke.returncode == 0, smoke.stderr
    assert smoke.stdout.startswith(ok_line(trace_id))


def test_under_github_actions_a_failure_is_an_error_annotation_with_the_diff_in_a_group(
    stack: Stack, tmp_path: Path
) -> None:
    expected = expectation_file(tmp_path, slow_route({"max": 100}))
    trace_id = stack.services.get(SLOW)
    smoke = check(stack, expected, trace_id, env={"GITHUB_ACTIONS": "true"})
    assert smoke.returncode == 1, smoke.stderr
    lines = smoke.stdout.splitlines()
    assert lines[0].startswith(f"::error title=jaeger-smoke::FAIL: trace {trace_id}"), smoke.stdout
    assert lines[1].startswith("::group::") and lines[-1] == "::endgroup::", smoke.stdout
    [measured] = measured_durations("\n".join(lines[2:-1]))
    assert measured > 100
