"""The smoke test (jaeger-smoke, run as `python3 scripts/smoke_test.py`, as a user's CI runs
it) against the real Jaeger 1.55 and Jaeger v2, each test on both: the app's trace and
another team's (a web request across two services, made with the OpenTelemetry SDK),
each kind of wrong expectation caught with its diff, malformed files, every exit status,
a base path, https with a CA file and a token, JUnit output, the GitHub Action, the
package installed by pip, and, through a filter that answers as Jaeger v2.21+ does,
proof that it asks only Jaeger's stable api_v3 while the old smoke test fails there.

The tests share one Jaeger of each version; each sends its traces under a service name
of its own (`--service canary-N`), so that the newest trace of a service is its own.
"""

import base64
import copy
import http.server
import itertools
import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from harness import REPO, binaries, compose, workflow
from harness.app import SPANS_PER_TRACE, exported_trace_id, run_app
from harness.native import jaeger_environment, running_jaeger_as_configured
from harness.proxies import NOT_FOUND, is_removed, running_filter, running_tls_proxy
from harness.servers import Jaeger, free_port, running_jaeger, running_jaeger_v2, wait_until
from harness.smoke import old_smoke_test, run_old_smoke_test, run_smoke_test, smoke_test_command, smoke_test_env
from jaeger_smoke.api import JaegerClient

APP_EXPECTATION = REPO / "expected-trace.json"
WEB_EXPECTATION = REPO / "smoke" / "examples" / "web-request.json"
ACTION = REPO / "smoke"
JAEGERS = {"1.55": ("compose.yaml",), "v2": ("compose.yaml", "compose.jaeger-v2.yaml")}
TOKEN = "s3cr3t-t0ken"
_services = itertools.count(1)


@dataclass
class Backend:
    version: str  # "1.55" or "v2"
    jaeger: Jaeger
    app_env: dict[str, str]  # the app's environment from compose, pointed at this Jaeger


@pytest.fixture(scope="module", params=["1.55", pytest.param("v2", marks=pytest.mark.jaeger_v2)])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """Jaeger 1.55, or Jaeger v2, as compose configures it; shared by this module's tests."""
    config = compose.resolve(*JAEGERS[request.param])
    with running_jaeger_as_configured(config, tmp_path_factory.mktemp(f"jaeger-{request.param}")) as jaeger:
        yield Backend(request.param, jaeger, compose.environment(config, "app", {"jaeger:4317": jaeger.otlp_grpc}))


@pytest.fixture
def service() -> str:
    """A service name of the test's own."""
    return f"canary-{next(_services)}"


def app_trace(backend: Backend, service: str) -> str:
    """The app's trace, sent as `service`: its id."""
    result = run_app({**backend.app_env, "OTEL_SERVICE_NAME": service})
    assert result.returncode == 0, result.stderr
    return exported_trace_id(result.stderr)


def web_trace(backend: Backend) -> str:
    """The web request of smoke/examples/web-request.json, sent by harness/web_trace.py: its id."""
    made = subprocess.run(
        [sys.executable, "-m", "harness.web_trace", backend.jaeger.otlp_grpc],
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    return made.stdout.split()[0]


def changed(path: Path, folder: Path, change) -> Path:
    """A copy of the expectation file at `path`, changed by `change` (given the JSON document)."""
    document = json.loads(path.read_text())
    change(document)
    copy_path = folder / f"changed-{path.name}"
    copy_path.write_text(json.dumps(document, indent=2))
    return copy_path


def diff_lines(stderr: str) -> list[str]:
    """The lines a diff adds or removes (not its ---/+++ header)."""
    return [
        line
        for line in stderr.splitlines()
        if line[:1] in "-+" and not line.startswith(("--- expected (", "+++ found in Jaeger ("))
    ]


# --- the right trace passes


@pytest.mark.parametrize("by", ["newest", "trace id"])
def test_the_apps_trace_passes(backend: Backend, service: str, by: str) -> None:
    trace_id = app_trace(backend, service)
    by_id = ["--trace-id", trace_id] if by == "trace id" else []
    smoke = run_smoke_test(backend.jaeger, "--service", service, *by_id, "--timeout", "20")
    assert smoke.returncode == 0, smoke.stderr
    link = f"{backend.jaeger.query_url}/trace/{trace_id}"
    assert smoke.stdout == f"ok: trace {trace_id} has the expected {SPANS_PER_TRACE} spans: {link}\n"
    assert smoke.stderr == ""


def test_the_bare_script_finds_the_apps_expectation_from_any_directory(
    backend: Backend, service: str, tmp_path: Path
) -> None:
    trace_id = app_trace(backend, service)
    smoke = run_smoke_test(backend.jaeger, "--service", service, "--timeout", "20", cwd=tmp_path)
    assert smoke.returncode == 0, smoke.stderr
    assert smoke.stdout.startswith(f"ok: trace {trace_id} has the expected {SPANS_PER_TRACE} spans")


def test_another_teams_web_request_passes_against_its_own_expectation(backend: Backend) -> None:
    trace_id = web_trace(backend)
    smoke = run_smoke_test(backend.jaeger, "--expect", str(WEB_EXPECTATION), "--timeout", "20")
    assert smoke.returncode == 0, smoke.stderr
    assert (
        smoke.stdout == f"ok: trace {trace_id} has the expected 6 spans: {backend.jaeger.query_url}/trace/{trace_id}\n"
    )


# --- each kind of wrong expectation: exit 1, and the diff names it


def _missing_span(doc: dict) -> None:
    doc["root"]["children"][1]["children"].append({"name": "GetAvatar", "attributes": {"user.id": "100"}})


def _extra_span(doc: dict) -> None:
    del doc["root"]["children"][0]["children"][1]  # GetDetail of user 1


def _wrong_attribute(doc: dict) -> None:
    doc["root"]["children"][1]["attributes"]["app.user.found"] = False


def _wrong_parent(doc: dict) -> None:
    doc["root"]["children"].append(doc["root"]["children"][1]["children"].pop())  # GetScores(100) under main


def _wrong_status(doc: dict) -> None:
    doc["root"]["children"][0]["children"][0]["status"] = "error"  # GetInfo of user 1


def _wrong_kind(doc: dict) -> None:
    doc["root"]["kind"] = "server"


def _wrong_resource(doc: dict) -> None:
    doc["resource"]["telemetry.sdk.language"] = "go"


# change, what the diff says (with SERVICE for the test's service name), spans found
WRONG = {
    "a missing span": (
        _missing_span,
        ['-    GetAvatar [SERVICE] user.id="100"'],
        f"{SPANS_PER_TRACE} spans found after 3s, {SPANS_PER_TRACE + 1} expected",
    ),
    "an extra span": (
        _extra_span,
        ['+    GetDetail [SERVICE] user.id="1"'],
        f"{SPANS_PER_TRACE} spans found, {SPANS_PER_TRACE - 1} expected",
    ),
    "a wrong attribute": (
        _wrong_attribute,
        [
            '-  GetUser [SERVICE] user.id="100" app.user.found=false',
            '+  GetUser [SERVICE] user.id="100" app.user.found=true',
        ],
        f"{SPANS_PER_TRACE} spans found, {SPANS_PER_TRACE} expected",
    ),
    "a wrong parent": (
        _wrong_parent,
        ['-  GetScores [SERVICE] user.id="100"', '+    GetScores [SERVICE] user.id="100"'],
        f"{SPANS_PER_TRACE} spans found, {SPANS_PER_TRACE} expected",
    ),
    "a wrong status": (
        _wrong_status,
        ['-    GetInfo [SERVICE] status=error user.id="1"', '+    GetInfo [SERVICE] user.id="1"'],
        f"{SPANS_PER_TRACE} spans found, {SPANS_PER_TRACE} expected",
    ),
    "a wrong kind": (
        _wrong_kind,
        ["-main [SERVICE] kind=server", "+main [SERVICE]"],
        f"{SPANS_PER_TRACE} spans found, {SPANS_PER_TRACE} expected",
    ),
}


@pytest.mark.parametrize("wrong", WRONG)
def test_a_wrong_expectation_fails_with_a_diff_that_names_it(
    backend: Backend, service: str, tmp_path: Path, wrong: str
) -> None:
    change, says, counts = WRONG[wrong]
    trace_id = app_trace(backend, service)
    expectation = changed(APP_EXPECTATION, tmp_path, change)
    smoke = run_smoke_test(backend.jaeger, "--expect", str(expectation), "--service", service, "--timeout", "3")
    assert smoke.returncode == 1, smoke.stderr
    assert smoke.stdout == ""
    first, second, third, *_ = smoke.stderr.splitlines()
    link = f"{backend.jaeger.query_url}/trace/{trace_id}"
    assert first == f"FAIL: trace {trace_id} does not have the shape {expectation} expects ({counts}): {link}"
    assert (second, third) == (f"--- expected ({expectation})", f"+++ found in Jaeger (trace {trace_id})")
    assert diff_lines(smoke.stderr) == [line.replace("SERVICE", service) for line in says]


def test_a_wrong_resource_shows_on_every_span_of_the_diff(backend: Backend, service: str, tmp_path: Path) -> None:
    app_trace(backend, service)
    expectation = changed(APP_EXPECTATION, tmp_path, _wrong_resource)
    smoke = run_smoke_test(backend.jaeger, "--expect", str(expectation), "--service", service, "--timeout", "3")
    assert smoke.returncode == 1
    found = [line for line in diff_lines(smoke.stderr) if line.startswith("+")]
    assert len(found) == SPANS_PER_TRACE
    assert found[0] == f'+main [{service}] (resource telemetry.sdk.language="python")'


def test_a_wrong_count_in_another_teams_expectation_fails_naming_the_span(backend: Backend, tmp_path: Path) -> None:
    def three_cache_lookups(doc: dict) -> None:
        doc["root"]["children"][0]["children"][0]["children"][0]["count"] = 3

    trace_id = web_trace(backend)
    expectation = changed(WEB_EXPECTATION, tmp_path, three_cache_lookups)
    smoke = run_smoke_test(backend.jaeger, "--expect", str(expectation), "--trace-id", trace_id, "--timeout", "3")
    assert smoke.returncode == 1
    assert "(6 spans found after 3s, 7 expected)" in smoke.stderr.splitlines()[0]
    assert diff_lines(smoke.stderr) == [
        '-      HGETALL [orders-api] kind=client status=error db.system.name="redis" error.type=(present)'
    ]


def test_a_complete_stable_wrong_trace_is_reported_at_once_not_at_the_timeout(
    backend: Backend, service: str, tmp_path: Path
) -> None:
    app_trace(backend, service)
    expectation = changed(APP_EXPECTATION, tmp_path, _wrong_attribute)
    # A hang guard far below the timeout asked for: the verdict comes once two polls saw the
    # same complete trace. It bounds the test, not a speed.
    smoke = run_smoke_test(
        backend.jaeger, "--expect", str(expectation), "--service", service, "--timeout", "600", timeout=120
    )
    assert smoke.returncode == 1
    assert f"({SPANS_PER_TRACE} spans found, {SPANS_PER_TRACE} expected)" in smoke.stderr.splitlines()[0]


def test_it_waits_for_the_spans_still_on_their_way(backend: Backend, tmp_path: Path) -> None:
    # orders-api holds its 4 spans until told; shop-frontend's 2 are in Jaeger meanwhile.
    sender = subprocess.Popen(
        [sys.executable, "-m", "harness.web_trace", backend.jaeger.otlp_grpc, "--hold"],
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO)},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        trace_id = sender.stdout.readline().strip()
        assert sender.stdout.readline().strip() == "held"
        client = JaegerClient(backend.jaeger.query_url)
        wait_until(lambda: (trace := client.trace(trace_id)) and len(trace.spans) == 2, 30, "the first 2 spans stored")
        with running_filter(backend.jaeger.query_url) as counter:
            smoke = subprocess.Popen(
                smoke_test_command("--expect", str(WEB_EXPECTATION), "--trace-id", trace_id, "--timeout", "120"),
                env=smoke_test_env(counter.url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            try:
                # Three polls of the same 2 spans: complete it is not, however stable.
                wait_until(lambda: smoke.poll() is not None or len(counter.asked) >= 3, 60, "three polls")
                assert smoke.poll() is None, smoke.communicate()
                sender.stdin.write("\n")
                sender.stdin.flush()
                assert sender.wait(60) == 0
                stdout, stderr = smoke.communicate(timeout=120)  # hang guard
            finally:
                smoke.kill()
    finally:
        sender.kill()
    assert smoke.returncode == 0, stderr
    assert stdout.startswith(f"ok: trace {trace_id} has the expected 6 spans")
    assert set(counter.asked) == {f"/api/v3/traces/{trace_id}"}


def test_a_streamed_answer_with_base64_ids_and_enum_names_reads_as_one_trace(tmp_path: Path) -> None:
    # Neither Jaeger here answers so (hex ids, integer enums, one JSON object), but OTLP's
    # protobuf JSON allows it and a gateway may stream one object a message: the same trace.
    trace_id, root_id, child_id = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174", "eee19b7ec3c1b173"

    def b64(hex_id: str) -> str:
        return base64.b64encode(bytes.fromhex(hex_id)).decode()

    def message(span: dict) -> str:
        resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "canary"}}]}
        return json.dumps({"result": {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span]}]}]}})

    root = {"traceId": b64(trace_id), "spanId": b64(root_id), "name": "main", "kind": "SPAN_KIND_SERVER",
            "status": {"code": "STATUS_CODE_OK"}}  # fmt: skip
    child = {"traceId": b64(trace_id), "spanId": b64(child_id), "parentSpanId": b64(root_id), "name": "work",
             "kind": "SPAN_KIND_CLIENT", "status": {"code": "STATUS_CODE_ERROR"},
             "attributes": [{"key": "retries", "value": {"intValue": "2"}}]}  # fmt: skip
    body = f"{message(root)}\n{message(child)}\n".encode()

    class Gateway(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path == f"/api/v3/traces/{trace_id}"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.end_headers()
            self.wfile.write(body if found else b"404 page not found\n")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    expectation = tmp_path / "expected-trace.json"
    work = {"name": "work", "kind": "client", "status": "error", "attributes": {"retries": 2}}
    root_span = {"name": "main", "kind": "server", "status": "ok", "children": [work]}
    expectation.write_text(json.dumps({"service": "canary", "root": root_span}))
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        smoke = run_smoke_test(url, "--trace-id", trace_id, "--expect", str(expectation), "--timeout", "20")
    finally:
        server.shutdown()
        server.server_close()
    assert smoke.returncode == 0, smoke.stderr
    assert smoke.stdout == f"ok: trace {trace_id} has the expected 2 spans: {url}/trace/{trace_id}\n"


# --- a malformed expectation file: exit 2, one line naming the file and the place

APP_LIKE = {"service": "canary", "root": {"name": "main", "children": [{"name": "GetUser"}, {"name": "GetUser"}]}}


def _with(change) -> str:
    document = copy.deepcopy(APP_LIKE)
    change(document)
    return json.dumps(document)


MALFORMED = {
    "bad JSON": (
        '{\n  "service": "canary",\n  "root": {"name": "main",}\n}\n',
        "line 3, column 27: invalid JSON: Expecting property name enclosed in double quotes",
    ),
    "an unknown key": (
        _with(lambda d: d["root"]["children"][1].update(colour="blue")),
        "root.children[1]: unknown key 'colour'; a span has the keys name, service, kind, status, attributes, count,"
        " children",
    ),
    "an unknown key at the top": (
        _with(lambda d: d.update(servce="canary")),
        "top level: unknown key 'servce'; an expectation file has the keys service, root, resource, description",
    ),
    "a wrong type": (
        _with(lambda d: d["root"].update(children={"name": "GetUser"})),
        "root.children: expected a list of spans, not an object",
    ),
    "a name that is not a string": (
        _with(lambda d: d["root"]["children"][0].update(name=5)),
        "root.children[0].name: expected a non-empty string, not a number",
    ),
    "an unknown status": (
        _with(lambda d: d["root"]["children"][0].update(status="fine")),
        "root.children[0].status: 'fine' is not a status; expected one of unset, ok, error, any",
    ),
    "an unknown kind": (
        _with(lambda d: d["root"].update(kind="Server")),
        "root.kind: 'Server' is not a span kind; expected one of internal, server, client, producer, consumer",
    ),
    "count 0": (
        _with(lambda d: d["root"]["children"][1].update(count=0)),
        "root.children[1].count: 0 is not a count; expected a whole number from 1 up (default 1)",
    ),
    "a count on the root": (
        _with(lambda d: d["root"].update(count=2)),
        "root.count: the root is one span: a count belongs to a child",
    ),
    "an attribute object": (
        _with(lambda d: d["root"].update(attributes={"user.id": {"present": False}})),
        'root.attributes["user.id"]: an object here must be {"present": true}; any other value is matched exactly',
    ),
    "a null attribute": (
        _with(lambda d: d.update(resource={"service.version": None})),
        'resource["service.version"]: null is not an attribute value; expected a string, number, boolean, list or'
        ' {"present": true}',
    ),
    "no root": (_with(lambda d: d.pop("root")), "top level: missing key 'root'"),
    "a key given twice": (
        '{"service": "a", "root": {"name": "main", "kind": "server", "kind": "client"}}',
        "root: key 'kind' given twice",
    ),
}


@pytest.mark.parametrize("malformed", MALFORMED)
def test_a_malformed_expectation_file_is_one_line_naming_the_file_and_the_place(malformed: str, tmp_path: Path) -> None:
    text, says = MALFORMED[malformed]
    path = tmp_path / "expected-trace.json"
    path.write_text(text)
    # Nothing listens at this URL: the file is refused before Jaeger is asked.
    smoke = run_smoke_test(f"http://127.0.0.1:{free_port()}", "--expect", str(path), timeout=20)
    assert smoke.returncode == 2
    assert smoke.stdout == ""
    assert smoke.stderr == f"error: {path}: {says}\n"


def test_a_missing_expectation_file_is_one_line(tmp_path: Path) -> None:
    smoke = run_smoke_test("http://127.0.0.1:9", "--expect", str(tmp_path / "nowhere.json"), timeout=20)
    assert smoke.returncode == 2
    assert smoke.stderr == f"error: {tmp_path / 'nowhere.json'}: cannot be read: No such file or directory\n"


@pytest.mark.parametrize(
    "args, env, says",
    [
        (["--trace-id", "xyz"], {}, "argument --trace-id: invalid trace id 'xyz': expected up to 32 hex digits"),
        (["--since", "-5"], {}, "argument --since: invalid --since '-5': expected seconds above 0, for example 900"),
        (["--ca-file", "/nowhere/ca.pem"], {}, "invalid CA file (--ca-file or JAEGER_CA_FILE): '/nowhere/ca.pem' is"),
        (["--header", f"Bearer {TOKEN}"], {}, "invalid --header: expected NAME=VALUE, for example authorization="),
        ([], {"JAEGER_HEADERS": f"x-tenant=a,Bearer {TOKEN}"}, "JAEGER_HEADERS entry 2 is not name=value"),
        ([], {"JAEGER_HEADERS": f"authorization=Bearer%20{TOKEN}%C3%A9"}, "JAEGER_HEADERS entry 1 is not name=value"),
        (["--header", f"authorization=Bearer {TOKEN}\u00e9"], {}, "invalid --header authorization: its value holds"),
        ([], {"JAEGER_URL": f"ftp://user:{TOKEN}@jaeger:16686"}, "'ftp://***@jaeger:16686' is not an http://"),
    ],
)
def test_a_bad_argument_is_one_line_with_status_2_and_never_shows_the_token(
    args: list[str], env: dict[str, str], says: str
) -> None:
    smoke = run_smoke_test("http://127.0.0.1:9", *args, env=env, timeout=20)
    assert smoke.returncode == 2
    [line] = smoke.stderr.splitlines()
    assert line.startswith("smoke_test.py: error: ")
    assert says in line
    assert TOKEN not in smoke.stderr


# --- the other exit statuses: 3 unreachable, 4 not Jaeger, 5 no such trace


def test_jaeger_unreachable_is_status_3_after_waiting() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    smoke = run_smoke_test(url, "--timeout", "2", timeout=60)
    assert smoke.returncode == 3
    assert smoke.stderr == f"error: {url} is unreachable: [Errno 111] Connection refused (waited 2s)\n"


def test_a_web_server_that_is_not_jaeger_is_status_4_at_once(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *args: http.server.SimpleHTTPRequestHandler(*args, directory=str(tmp_path))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        smoke = run_smoke_test(url, "--timeout", "600", timeout=60)  # at once: far below the timeout
    finally:
        server.shutdown()
        server.server_close()
    assert smoke.returncode == 4
    assert smoke.stderr == (
        f"error: {url}/api/v3/traces answered HTTP 404: is {url} Jaeger's query service (1.55 or later)?\n"
    )


def test_no_such_trace_is_status_5_saying_what_jaeger_has(backend: Backend, service: str) -> None:
    app_trace(backend, service)
    smoke = run_smoke_test(backend.jaeger, "--service", "no-such-service", "--timeout", "2")
    assert smoke.returncode == 5
    [line] = smoke.stderr.splitlines()
    assert line.startswith(
        "FAIL: no trace of service 'no-such-service' with root span 'main' that started in the last 900s in Jaeger"
        f" at {backend.jaeger.query_url} after 2s; Jaeger has no spans of 'no-such-service', only of: "
    )
    assert service in line.split("only of: ")[1].split(", ")


def test_no_trace_with_that_id_is_status_5(backend: Backend) -> None:
    smoke = run_smoke_test(backend.jaeger, "--trace-id", "1", "--timeout", "2")
    assert smoke.returncode == 5
    assert smoke.stderr == (
        f"FAIL: no trace 00000000000000000000000000000001 in Jaeger at {backend.jaeger.query_url} after 2s\n"
    )


# --- a base path


@pytest.fixture(params=["1.55", pytest.param("v2", marks=pytest.mark.jaeger_v2)])
def jaeger_under_base_path(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Jaeger serving its UI and API under /jaeger: 1.55 by --query.base-path (its
    environment), v2 by jaeger_query.base_path in a copy of the project's config."""
    config = compose.resolve(*JAEGERS[request.param])
    env, log = jaeger_environment(config, tmp_path), tmp_path / "jaeger.log"
    if request.param == "1.55":
        running = running_jaeger(binaries.ensure(binaries.JAEGER), {**env, "QUERY_BASE_PATH": "/jaeger"}, log)
    else:
        settings = yaml.safe_load((REPO / "jaeger-v2-config.yaml").read_text())
        settings["extensions"]["jaeger_query"]["base_path"] = "/jaeger"
        (tmp_path / "config.yaml").write_text(yaml.safe_dump(settings))
        running = running_jaeger_v2(binaries.ensure(binaries.JAEGER_V2), [f"--config={tmp_path / 'config.yaml'}"],
                                    env, log)  # fmt: skip
    with running as jaeger:
        yield Backend(request.param, jaeger, compose.environment(config, "app", {"jaeger:4317": jaeger.otlp_grpc}))


def test_a_base_path_is_part_of_the_jaeger_url(jaeger_under_base_path: Backend, service: str) -> None:
    trace_id = app_trace(jaeger_under_base_path, service)
    url = f"{jaeger_under_base_path.jaeger.query_url}/jaeger"
    smoke = run_smoke_test(url, "--service", service, "--timeout", "20")
    assert smoke.returncode == 0, smoke.stderr
    assert smoke.stdout == f"ok: trace {trace_id} has the expected {SPANS_PER_TRACE} spans: {url}/trace/{trace_id}\n"

    without = run_smoke_test(jaeger_under_base_path.jaeger, "--service", service, "--timeout", "20")
    assert without.returncode == 4
    assert without.stderr == (
        f"error: {jaeger_under_base_path.jaeger.query_url}/api/v3/traces answered Jaeger's UI page, not its API: is"
        " the base path right? The page names '/jaeger/'\n"
    )


# --- https with a CA file, and a token for a proxy: the token never shown


def test_https_with_a_ca_file_and_a_token_from_the_environment(backend: Backend, service: str, certs: Path) -> None:
    trace_id = app_trace(backend, service)
    with running_tls_proxy(backend.jaeger.query_url, certs, TOKEN) as proxy:
        env = {"JAEGER_HEADERS": f"authorization=Bearer%20{TOKEN}", "JAEGER_CA_FILE": str(certs / "client" / "ca.pem")}
        smoke = run_smoke_test(proxy.url, "--service", service, "--timeout", "20", env=env)
    assert smoke.returncode == 0, smoke.stderr
    assert (
        smoke.stdout == f"ok: trace {trace_id} has the expected {SPANS_PER_TRACE} spans: {proxy.url}/trace/{trace_id}\n"
    )
    assert TOKEN not in smoke.stdout + smoke.stderr


def test_a_token_given_as_a_header_option_is_never_printed(backend: Backend, service: str, certs: Path) -> None:
    app_trace(backend, service)
    with running_tls_proxy(backend.jaeger.query_url, certs, TOKEN) as proxy:
        smoke = run_smoke_test(
            proxy.url, "--service", service, "--timeout", "20", "--ca-file", str(certs / "client" / "ca.pem"),
            "--header", f"authorization=Bearer {TOKEN}",
        )  # fmt: skip
    assert smoke.returncode == 0, smoke.stderr
    assert TOKEN not in smoke.stdout + smoke.stderr


@pytest.mark.parametrize("credentials", ["a wrong token", "a password in the URL"])
def test_refused_credentials_are_status_4_and_never_printed(
    backend: Backend, certs: Path, tmp_path: Path, credentials: str
) -> None:
    with running_tls_proxy(backend.jaeger.query_url, certs, TOKEN) as proxy:
        if credentials == "a wrong token":
            url, env = proxy.url, {"JAEGER_HEADERS": f"authorization=Bearer%20{TOKEN}-wrong"}
        else:
            url, env = proxy.url.replace("https://", f"https://user:{TOKEN}-wrong@"), {}
        env["JAEGER_CA_FILE"] = str(certs / "client" / "ca.pem")
        report = tmp_path / "report.xml"
        smoke = run_smoke_test(url, "--timeout", "20", "--junit", str(report), env=env)
    assert smoke.returncode == 4
    assert smoke.stderr == (
        f"error: {proxy.url}/api/v3/traces answered HTTP 401: the credentials were refused; check the headers"
        " (--header, JAEGER_HEADERS) or the URL's user and password\n"
    )
    assert TOKEN not in smoke.stdout + smoke.stderr + report.read_text()


def test_https_without_the_ca_is_status_3_at_once_saying_which_option(backend: Backend, certs: Path) -> None:
    with running_tls_proxy(backend.jaeger.query_url, certs, TOKEN) as proxy:
        smoke = run_smoke_test(proxy.url, "--timeout", "600", timeout=60)  # at once: far below the timeout
    assert smoke.returncode == 3
    assert smoke.stderr == (
        f"error: TLS with {proxy.url} failed: unable to get local issuer certificate; give the CA that signed its"
        " certificate with --ca-file or JAEGER_CA_FILE\n"
    )


# --- only Jaeger's stable API: through a filter that answers as Jaeger v2.21+ does


def test_the_filter_answers_the_removed_endpoints_as_current_jaeger_and_passes_the_rest(
    backend: Backend, service: str
) -> None:
    trace_id = app_trace(backend, service)
    removed = [
        "/api/services",
        "/api/operations",
        f"/api/services/{service}/operations",
        f"/api/traces?service={service}",
    ]
    kept = [f"/api/traces/{trace_id}", "/api/v3/services", f"/api/v3/traces/{trace_id}", "/api/traces?limit=1"]
    # Jaeger v2 stores through its exporter's queue: the trace is there a moment after the export.
    wait_until(lambda: _get(f"{backend.jaeger.query_url}/api/traces/{trace_id}")[0] == 200, 30, "the trace in Jaeger")
    with running_filter(backend.jaeger.query_url) as current:
        for path in removed:
            assert _get(current.url + path) == (404, NOT_FOUND), path
        for path in kept:
            assert _get(current.url + path)[0] != 404, path
    assert [is_removed(path) for path in removed + kept] == [True] * 4 + [False] * 4


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_the_smoke_test_asks_only_api_v3_and_passes_where_the_old_one_fails(
    backend: Backend, service: str, tmp_path: Path
) -> None:
    trace_id = app_trace(backend, service)
    old = old_smoke_test(tmp_path)
    with running_filter(backend.jaeger.query_url) as current:
        smoke = run_smoke_test(current.url, "--service", service, "--timeout", "20")
        asked_by_new = list(current.asked)
        old_there = run_old_smoke_test(old, current.url, "--service", service, "--timeout", "20")
    assert smoke.returncode == 0, smoke.stderr
    assert smoke.stdout.startswith(f"ok: trace {trace_id} has the expected {SPANS_PER_TRACE} spans")
    assert asked_by_new and all(path.startswith("/api/v3/traces?") for path in asked_by_new)
    assert not any(is_removed(path) for path in asked_by_new)

    assert old_there.returncode == 3
    assert old_there.stderr == (
        f"error: {current.url}/api/services answered HTTP 404: is {current.url} Jaeger's query service?\n"
    )
    # The same old script, straight to the same Jaeger (1.55, or v2.13, which still has them): passes.
    assert run_old_smoke_test(old, backend.jaeger, "--service", service, "--timeout", "20").returncode == 0


# --- JUnit XML for a CI's test report


def _junit(path: Path) -> list[tuple[str, str, str]]:
    """(test case, outcome, its text) for each case of the report's one suite."""
    suite = ET.parse(path).getroot()
    assert suite.tag == "testsuite"
    cases = []
    for case in suite.iter("testcase"):
        outcome = next(iter(case), None)
        cases.append(
            (
                case.get("name"),
                outcome.tag if outcome is not None else "passed",
                (outcome.text or "") if outcome is not None else "",
            )
        )
    assert suite.get("tests") == str(len(cases))
    return cases


def test_junit_says_each_check_passed(backend: Backend, service: str, tmp_path: Path) -> None:
    trace_id = app_trace(backend, service)
    report = tmp_path / "report.xml"
    smoke = run_smoke_test(backend.jaeger, "--service", service, "--trace-id", trace_id, "--junit", str(report))
    assert smoke.returncode == 0, smoke.stderr
    assert _junit(report) == [
        (f"expectation file {APP_EXPECTATION}", "passed", ""),
        (f"Jaeger's API at {backend.jaeger.query_url}", "passed", ""),
        (f"trace {trace_id}", "passed", ""),
        (f"the trace matches {APP_EXPECTATION}", "passed", ""),
    ]


def test_junit_carries_the_diff_of_a_wrong_trace(backend: Backend, service: str, tmp_path: Path) -> None:
    app_trace(backend, service)
    expectation = changed(APP_EXPECTATION, tmp_path, _wrong_attribute)
    report = tmp_path / "report.xml"
    smoke = run_smoke_test(backend.jaeger, "--service", service, "--expect", str(expectation), "--junit", str(report))
    assert smoke.returncode == 1
    *passed, (name, outcome, text) = _junit(report)
    assert [case[1] for case in passed] == ["passed"] * 3
    assert (name, outcome) == (f"the trace matches {expectation}", "failure")
    assert f'+  GetUser [{service}] user.id="100" app.user.found=true' in text.splitlines()


def test_junit_says_jaeger_was_unreachable_as_an_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    report = tmp_path / "report.xml"
    smoke = run_smoke_test(url, "--timeout", "1", "--junit", str(report))
    assert smoke.returncode == 3
    assert [case[:2] for case in _junit(report)] == [
        (f"expectation file {APP_EXPECTATION}", "passed"),
        (f"Jaeger's API at {url}", "error"),
        ("trace (not run)", "skipped"),
        ("the trace matches (not run)", "skipped"),
    ]


# --- for any team: the package installed by pip, and the GitHub Action


def test_pip_installs_a_working_jaeger_smoke_command(backend: Backend, service: str, tmp_path: Path) -> None:
    shutil.copytree(REPO / "smoke", tmp_path / "source", ignore=shutil.ignore_patterns("build", "*.egg-info"))
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--no-build-isolation", "--target", str(tmp_path / "target"), str(tmp_path / "source")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    command = tmp_path / "target" / "bin" / "jaeger-smoke"
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(tmp_path / "target"), "JAEGER_URL": backend.jaeger.query_url}

    shown = subprocess.run([str(command), "--help"], env=env, capture_output=True, text=True, timeout=30)
    assert shown.returncode == 0
    assert shown.stdout.startswith("usage: jaeger-smoke [-h] [--expect FILE]")

    # The console command reads expected-trace.json in the current directory by default.
    shutil.copy(APP_EXPECTATION, tmp_path / "expected-trace.json")
    trace_id = app_trace(backend, service)
    checked = subprocess.run([str(command), "--service", service, "--timeout", "20"], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith(f"ok: trace {trace_id} has the expected {SPANS_PER_TRACE} spans")


def _action(inputs: dict[str, str], workspace: Path, env: dict[str, str] | None = None) -> workflow.Result:
    shutil.copy(APP_EXPECTATION, workspace / "expected-trace.json")
    return workflow.execute_action(ACTION, inputs, workspace, {"PATH": os.environ["PATH"], **(env or {})})


def test_the_action_checks_the_trace_and_writes_junit(backend: Backend, service: str, tmp_path: Path) -> None:
    trace_id = app_trace(backend, service)
    inputs = {"jaeger-url": backend.jaeger.query_url, "service": service, "timeout": "20", "junit-file": "smoke.xml"}
    result = _action(inputs, tmp_path)
    assert result.passed, result.report()
    [step] = result.steps
    assert step.output.startswith(f"ok: trace {trace_id} has the expected {SPANS_PER_TRACE} spans")
    assert [case[1] for case in _junit(tmp_path / "smoke.xml")] == ["passed"] * 4


def test_the_action_fails_its_step_on_a_wrong_trace(backend: Backend, service: str, tmp_path: Path) -> None:
    app_trace(backend, service)
    expectation = changed(APP_EXPECTATION, tmp_path, _wrong_parent)
    inputs = {"expectation-file": expectation.name, "jaeger-url": backend.jaeger.query_url, "service": service}
    result = _action(inputs, tmp_path)
    assert not result.passed
    [step] = result.steps
    assert step.returncode == 1
    assert f'+    GetScores [{service}] user.id="100"' in step.output.splitlines()


def test_the_action_takes_its_token_from_the_environment_never_printing_it(
    backend: Backend, service: str, tmp_path: Path, certs: Path
) -> None:
    app_trace(backend, service)
    with running_tls_proxy(backend.jaeger.query_url, certs, TOKEN) as proxy:
        env = {"JAEGER_HEADERS": f"authorization=Bearer%20{TOKEN}", "JAEGER_CA_FILE": str(certs / "client" / "ca.pem")}
        result = _action({"jaeger-url": proxy.url, "service": service, "timeout": "20"}, tmp_path, env)
    assert result.passed, result.report()
    assert TOKEN not in result.report()


def test_an_action_input_stays_data_in_its_script(backend: Backend, tmp_path: Path) -> None:
    # Were the input pasted into the script, bash would run the command substitution.
    result = _action({"jaeger-url": backend.jaeger.query_url, "service": "$(touch pwned)", "timeout": "1"}, tmp_path)
    [step] = result.steps
    assert step.returncode == 5
    assert "FAIL: no trace of service '$(touch pwned)'" in step.output
    assert not (tmp_path / "pwned").exists()


def test_the_action_runner_refuses_an_input_pasted_into_a_script(tmp_path: Path) -> None:
    (tmp_path / "action.yml").write_text(
        "inputs: {who: {default: x}}\nruns:\n  using: composite\n  steps:\n"
        "    - shell: bash\n      run: echo ${{ inputs.who }}\n"
    )
    with pytest.raises(ValueError, match="an input pasted into the script"):
        workflow.execute_action(tmp_path, {}, tmp_path, {"PATH": os.environ["PATH"]})
