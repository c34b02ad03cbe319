"""The command, `python3 -m jaeger_smoke`, against answers in each spelling of Jaeger's
api_v3 served on 127.0.0.1 by this test: its exit statuses and lines, --record,
--version, GitHub annotations. Its main() runs in this process, with an environment of
the test's own, for speed; one test runs it as a process, as CI does. (The same command
against the real Jaeger 1.55 and v2 is checked in the repository that holds this folder.)"""

import contextlib
import http.server
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
from pathlib import Path
from unittest import mock

import jaeger_smoke
from jaeger_smoke.__main__ import main

from .otlp_answers import Span, answer, flatten, node

PACKAGE_PATH = str(Path(jaeger_smoke.__file__).resolve().parent.parent)
TOKEN = "s3cr3t-t0ken"
NOT_FOUND = json.dumps({"error": {"httpCode": 404, "message": "trace not found"}}).encode()
ORDER = node(
    "GET /orders/{id}",
    node("SELECT orders", kind="client", attributes={"db.system": "postgresql", "net.peer.port": 5432}),
    node("http send", duration_ms=30),
    node("http send", duration_ms=30),
    kind="server",
    attributes={"http.route": "/orders/{id}", "http.response.status_code": 200},
    duration_ms=120,
)
EXPECTED = {
    "service": "shop",
    "root": {
        "name": {"regex": "GET /orders/.*"},
        "kind": "server",
        "attributes": {"http.response.status_code": {"min": 200, "max": 299}},
        "extra_children": "allowed",
        "children": [{"name": "SELECT orders", "kind": "client", "duration_ms": {"max": 1000}}],
    },
}


class FakeJaeger:
    """api_v3's three paths over `traces`, in `spelling`: what the client asks, answered as Jaeger does."""

    def __init__(self, traces: list[list[Span]], spelling: str) -> None:
        self.traces, self.spelling, self.asked = traces, spelling, list[str]()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.asked.append(self.path)
                status, body = outer.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", "text/html" if body.startswith(b"<html>") else "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, path: str) -> tuple[int, bytes]:
        parts = urllib.parse.urlsplit(path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        if parts.path == "/api/v3/services":
            services = sorted({span.node.service for trace in self.traces for span in trace})
            return 200, json.dumps({"services": services}).encode()
        if parts.path.startswith("/api/v3/traces/"):
            found = [trace for trace in self.traces if trace[0].trace_id == parts.path.rsplit("/", 1)[1]]
        elif parts.path == "/api/v3/traces":
            found = [
                trace
                for trace in self.traces
                if any(
                    span.node.service == query["query.service_name"]
                    and query.get("query.operation_name", span.node.name) == span.node.name
                    for span in trace
                )
            ]
        else:
            return 404, b"<html><body>404: no such page</body></html>\n"
        return (200, answer(found, self.spelling)) if found else (404, NOT_FOUND)

    def __enter__(self) -> "FakeJaeger":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def smoke(url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """jaeger-smoke ARGS against `url`, in this process, with only JAEGER_URL and `env` in
    its environment (not a CI's GITHUB_ACTIONS, say): its status and output. Nothing comes
    late from a server in this process: the settle is short unless ARGS give one."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, {"JAEGER_URL": url, **(env or {})}, clear=True),
        contextlib.redirect_stdout(stdout),
        contextlib.redirect_stderr(stderr),
    ):
        try:
            status = main(["--settle", "0.01", *args])
        except SystemExit as exit:  # argparse's errors, --version
            status = exit.code
    return subprocess.CompletedProcess(args, status, stdout.getvalue(), stderr.getvalue())


def smoke_process(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python3 -m jaeger_smoke ARGS` against `url`; nothing of this process's environment but PATH."""
    environment = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": PACKAGE_PATH, "JAEGER_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "jaeger_smoke", *args], env=environment, capture_output=True, text=True, timeout=60
    )


def unused_url() -> str:
    with socket.socket() as probe:  # a port the system gave, then let go: nothing listens there
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


class Case(unittest.TestCase):
    def setUp(self) -> None:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.folder = Path(folder.name)

    def file(self, name: str, data: object) -> str:
        path = self.folder / name
        path.write_text(data if isinstance(data, str) else json.dumps(data))
        return str(path)


class Verdicts(Case):
    def test_the_right_trace_passes_in_every_spelling_newest_and_by_id(self) -> None:
        expect = self.file("expected.json", EXPECTED)
        for spelling in ("1.55", "v2", "protobuf"):
            older, newest = flatten(ORDER), flatten(ORDER)
            with self.subTest(spelling), FakeJaeger([older, newest], spelling) as jaeger:
                found = smoke(jaeger.url, "--expect", expect, "--timeout", "10")
                self.assertEqual(found.returncode, 0, found.stderr)
                link = f"{jaeger.url}/trace/{newest[0].trace_id}"
                self.assertEqual(
                    found.stdout, f"ok: trace {newest[0].trace_id} has the expected shape (4 spans): {link}\n"
                )
                by_id = smoke(jaeger.url, "--expect", expect, "--trace-id", older[0].trace_id.lstrip("0"))
                self.assertEqual(by_id.returncode, 0, by_id.stderr)
                self.assertIn(f"ok: trace {older[0].trace_id} ", by_id.stdout)

    def test_an_exact_file_says_how_many_spans(self) -> None:
        trace = flatten(node("main", node("work"), node("work")))
        expect = self.file(
            "exact.json", {"service": "shop", "root": {"name": "main", "children": [{"name": "work", "count": 2}]}}
        )
        with FakeJaeger([trace], "protobuf") as jaeger:
            found = smoke(jaeger.url, "--expect", expect, "--trace-id", trace[0].trace_id)
        self.assertEqual(
            found.stdout,
            f"ok: trace {trace[0].trace_id} has the expected 3 spans: {jaeger.url}/trace/{trace[0].trace_id}\n",
        )

    def test_a_too_slow_span_is_a_wrong_shape_with_its_duration_in_the_diff(self) -> None:
        slow = flatten(node("GET /orders/7", node("SELECT orders", kind="client", duration_ms=1500), kind="server",
                            attributes={"http.response.status_code": 200}))  # fmt: skip
        expect = self.file("expected.json", EXPECTED)
        with FakeJaeger([slow], "v2") as jaeger:
            found = smoke(jaeger.url, "--expect", expect, "--timeout", "10")
        self.assertEqual(found.returncode, 1, found.stderr)
        self.assertEqual(found.stdout, "")
        first, *_ = found.stderr.splitlines()
        self.assertTrue(
            first.startswith(
                f"FAIL: trace {slow[0].trace_id} does not have the shape {expect} expects"
                " (2 spans found, 2 or more expected)"
            )
        )
        self.assertIn("-  SELECT orders [shop] kind=client duration_ms=..1000", found.stderr.splitlines())
        self.assertIn("+  SELECT orders [shop] kind=client duration_ms=1500.000", found.stderr.splitlines())

    def test_under_github_actions_a_failure_is_an_annotation_with_the_diff_in_a_group(self) -> None:
        slow = flatten(node("GET /orders/7", node("SELECT orders", kind="client", duration_ms=1500), kind="server",
                            attributes={"http.response.status_code": 200}))  # fmt: skip
        expect = self.file("expected.json", EXPECTED)
        with FakeJaeger([slow], "v2") as jaeger:
            found = smoke(jaeger.url, "--expect", expect, "--timeout", "10", env={"GITHUB_ACTIONS": "true"})
        self.assertEqual(found.returncode, 1)
        verdict = found.stderr.splitlines()[0]
        lines = found.stdout.splitlines()
        self.assertEqual(lines[0], f"::error title=jaeger-smoke::{verdict}")
        self.assertEqual(lines[1], "::group::the diff: expected (-) and found in Jaeger (+)")
        self.assertEqual(lines[-1], "::endgroup::")
        self.assertIn("+  SELECT orders [shop] kind=client duration_ms=1500.000", lines)
        self.assertEqual(found.stderr, verdict + "\n")  # the diff once, in the group

    def test_under_github_actions_an_error_is_an_annotation_too(self) -> None:
        url = unused_url()
        found = smoke(
            url, "--expect", self.file("e.json", EXPECTED), "--timeout", "0.5", env={"GITHUB_ACTIONS": "true"}
        )
        self.assertEqual(found.returncode, 3)
        self.assertEqual(found.stdout, f"::error title=jaeger-smoke::{found.stderr.strip()}\n")

    def test_a_streamed_answer_with_base64_ids_and_enum_names_reads_as_one_trace(self) -> None:
        trace = flatten(node("main", node("work", kind="client", status="error", attributes={"retries": 2}),
                             kind="server", status="ok"))  # fmt: skip
        work = {"name": "work", "kind": "client", "status": "error", "attributes": {"retries": 2}}
        expect = self.file(
            "e.json",
            {"service": "shop", "root": {"name": "main", "kind": "server", "status": "ok", "children": [work]}},
        )
        with FakeJaeger([trace], "protobuf") as jaeger:
            found = smoke(jaeger.url, "--trace-id", trace[0].trace_id, "--expect", expect)
        self.assertEqual(found.returncode, 0, found.stderr)


class Record(Case):
    def test_record_writes_a_file_that_passes_against_the_trace(self) -> None:
        for spelling in ("1.55", "v2"):
            older, trace = flatten(ORDER), flatten(ORDER)
            recorded = self.folder / f"recorded-{spelling}.json"
            with self.subTest(spelling), FakeJaeger([trace, older], spelling) as jaeger:
                made = smoke(jaeger.url, "--record", str(recorded), "--service", "shop", "--timeout", "10")
                self.assertEqual(made.returncode, 0, made.stderr)
                self.assertEqual(
                    made.stdout,
                    f"recorded: trace {trace[0].trace_id} (4 spans) as {recorded}; check with --expect {recorded}:"
                    f" {jaeger.url}/trace/{trace[0].trace_id}\n",
                )
                data = json.loads(recorded.read_text())
                self.assertNotIn("net.peer.port", recorded.read_text())
                self.assertEqual(data["root"]["children"][1], {"name": "http send", "kind": "internal", "count": 2})
                checked = smoke(jaeger.url, "--expect", str(recorded), "--trace-id", trace[0].trace_id)
                self.assertEqual(checked.returncode, 0, checked.stderr)
                self.assertIn("has the expected 4 spans", checked.stdout)

    def test_record_by_trace_id_with_more_attribute_keys(self) -> None:
        trace = flatten(ORDER)
        recorded = self.folder / "recorded.json"
        with FakeJaeger([trace], "protobuf") as jaeger:
            made = smoke(jaeger.url, "--record", str(recorded), "--trace-id", trace[0].trace_id,
                         "--record-attributes", "net.peer.port")  # fmt: skip
        self.assertEqual(made.returncode, 0, made.stderr)
        self.assertEqual(json.loads(recorded.read_text())["root"]["children"][0]["attributes"]["net.peer.port"], 5432)

    def test_record_refuses_bad_input_in_one_line(self) -> None:
        cases = {
            "no folder": (["--record", str(self.folder / "nowhere" / "x.json"), "--service", "shop"],
                          "is in a directory that does not exist"),
            "a folder": (["--record", str(self.folder), "--service", "shop"], "is a directory"),
            "which trace": (["--record", str(self.folder / "x.json")], "--record needs --service or --trace-id"),
            "keys alone": (["--record-attributes", "a"], "--record-attributes goes with --record"),
            "empty key": (["--record", str(self.folder / "x.json"), "--service", "s", "--record-attributes", "a,,b"],
                          "invalid --record-attributes 'a,,b'"),
        }  # fmt: skip
        for case, (args, says) in cases.items():
            with self.subTest(case):
                found = smoke(unused_url(), *args)
                self.assertEqual(found.returncode, 2)
                [line] = found.stderr.splitlines()
                self.assertIn(says, line)
                self.assertTrue(line.startswith("jaeger-smoke: error: "), line)

    def test_record_of_no_trace_is_status_5(self) -> None:
        with FakeJaeger([flatten(ORDER)], "v2") as jaeger:
            # Seconds enough for one answer on a loaded machine: with none, it is status 3.
            found = smoke(jaeger.url, "--record", str(self.folder / "x.json"), "--service", "nobody", "--timeout", "3")
        self.assertEqual(found.returncode, 5)
        self.assertTrue(found.stderr.startswith("FAIL: no trace of service 'nobody' that started in the last 900s"))
        self.assertFalse((self.folder / "x.json").exists())


class Statuses(Case):
    def test_the_command_runs_as_a_process(self) -> None:
        trace = flatten(ORDER)
        with FakeJaeger([trace], "v2") as jaeger:
            found = smoke_process(jaeger.url, "--expect", self.file("e.json", EXPECTED), "--timeout", "10")
        self.assertEqual(found.returncode, 0, found.stderr)
        self.assertTrue(found.stdout.startswith(f"ok: trace {trace[0].trace_id} has the expected shape (4 spans)"))
        version = smoke_process(unused_url(), "--version")
        self.assertEqual((version.returncode, version.stdout), (0, f"jaeger-smoke {jaeger_smoke.__version__}\n"))

    def test_version_is_the_packages(self) -> None:
        found = smoke(unused_url(), "--version")
        self.assertEqual((found.returncode, found.stdout), (0, f"jaeger-smoke {jaeger_smoke.__version__}\n"))

    def test_a_malformed_file_is_status_2_before_jaeger_is_asked(self) -> None:
        path = self.file("bad.json", '{"service": "s", "root": {"name": "r", "count": 2}}')
        found = smoke(unused_url(), "--expect", path)
        self.assertEqual((found.returncode, found.stdout), (2, ""))
        self.assertEqual(found.stderr, f"error: {path}: root.count: the root is one span: a count belongs to a child\n")

    def test_a_bad_argument_is_one_line_with_status_2_and_never_shows_the_token(self) -> None:
        cases = [
            (["--trace-id", "xyz"], {}, "argument --trace-id: invalid trace id 'xyz': expected up to 32 hex digits"),
            (
                ["--since", "-5"],
                {},
                "argument --since: invalid --since '-5': expected seconds above 0, for example 900",
            ),
            (["--settle", "0"], {}, "argument --settle: invalid --settle '0': expected seconds above 0"),
            (
                ["--ca-file", "/nowhere/ca.pem"],
                {},
                "invalid CA file (--ca-file or JAEGER_CA_FILE): '/nowhere/ca.pem' is",
            ),
            (["--header", f"Bearer {TOKEN}"], {}, "invalid --header: expected NAME=VALUE, for example authorization="),
            ([], {"JAEGER_HEADERS": f"x-tenant=a,Bearer {TOKEN}"}, "JAEGER_HEADERS entry 2 is not name=value"),
            (
                [],
                {"JAEGER_HEADERS": f"authorization=Bearer%20{TOKEN}%C3%A9"},
                "JAEGER_HEADERS entry 1 is not name=value",
            ),
            (
                ["--header", f"authorization=Bearer {TOKEN}\u00e9"],
                {},
                "invalid --header authorization: its value holds",
            ),
            ([], {"JAEGER_URL": f"ftp://user:{TOKEN}@jaeger:16686"}, "'ftp://***@jaeger:16686' is not an http://"),
        ]
        for args, env, says in cases:
            with self.subTest(says):
                found = smoke(unused_url(), *args, env=env)
                self.assertEqual(found.returncode, 2)
                [line] = found.stderr.splitlines()
                self.assertTrue(line.startswith("jaeger-smoke: error: "), line)
                self.assertIn(says, line)
                self.assertNotIn(TOKEN, found.stderr)

    def test_jaeger_unreachable_is_status_3_after_waiting(self) -> None:
        url = unused_url()
        found = smoke(url, "--expect", self.file("e.json", EXPECTED), "--timeout", "1")
        self.assertEqual(found.returncode, 3)
        self.assertEqual(found.stderr, f"error: {url} is unreachable: [Errno 111] Connection refused (waited 1s)\n")

    def test_a_web_server_that_is_not_jaeger_is_status_4_at_once(self) -> None:
        with FakeJaeger([], "v2") as other:
            url = f"{other.url}/elsewhere"
            found = smoke(url, "--expect", self.file("e.json", EXPECTED), "--timeout", "600")
        self.assertEqual(found.returncode, 4)
        self.assertEqual(
            found.stderr,
            f"error: {url}/api/v3/traces answered HTTP 404: is {url} Jaeger's query service (1.55 or later)?\n",
        )

    def test_a_junit_report_that_cannot_be_written_is_status_2_after_the_verdict(self) -> None:
        trace = flatten(ORDER)
        report = self.folder / "no-such-folder" / "smoke.xml"
        with FakeJaeger([trace], "v2") as jaeger:
            found = smoke(jaeger.url, "--expect", self.file("e.json", EXPECTED), "--junit", str(report))
        self.assertEqual(found.returncode, 2)
        self.assertTrue(found.stdout.startswith(f"ok: trace {trace[0].trace_id} has the expected shape"))
        self.assertEqual(found.stderr, f"error: cannot write the JUnit report {report}: No such file or directory\n")

    def test_ctrl_c_while_it_waits_is_status_130_in_one_line(self) -> None:
        environment = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": PACKAGE_PATH}
        with FakeJaeger([], "v2") as jaeger:
            command = [sys.executable, "-m", "jaeger_smoke", "--jaeger-url", jaeger.url, "--timeout", "600"]
            process = subprocess.Popen(
                [*command, "--expect", self.file("e.json", EXPECTED)],
                env=environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            self.addCleanup(process.kill)
            deadline = time.monotonic() + 60
            while not jaeger.asked and time.monotonic() < deadline:  # waiting for the trace
                time.sleep(0.05)
            self.assertTrue(jaeger.asked, "it never asked Jaeger")
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=60)
        self.assertEqual((process.returncode, stdout, stderr), (130, "", "error: interrupted\n"))


if __name__ == "__main__":
    unittest.main()
