"""The two commands, `python -m inprocess_grpc` and `python -m inprocess_grpc.load`, run in
process from their `main` with the real set-up (`traced_run.start`), given a stand-in
for the OTLP exporter in place of a backend (their `exporter` argument; nothing global
is changed): what they print, the line they say, the exit status, and the spans the
backend is given."""

import io
import json
import logging
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator, Sequence

import grpc
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import inprocess_grpc.__main__ as one_trace
from harness.app import SPANS_PER_TRACE, span_names
from inprocess_grpc import load, traced_run, users
from inprocess_grpc.env_checks import ConfigError

pytestmark = pytest.mark.fast

JOHN_JSON = (
    '{"id":100,"name":"john","gender":1,"site":"https://goframe.org",'
    '"email":"john@goframe.org","math":100,"english":60,"chinese":50}'
)
# The span names of one trace of users 1 and 100, sorted, as expected-trace.json declares them.
ONE_TRACE = span_names()
# The stand-in logs as the OTLP exporter does, under a logger of the SDK's tree.
BACKEND_LOG = "opentelemetry.exporter.stand_in"


class Backend(SpanExporter):
    """Stands in for the OTLP exporter: keeps what it is given, answers `result`, and
    logs what the OTLP exporter logs when an export fails (its message, with the gRPC
    status code among the arguments)."""

    _timeout = 10.0  # where the OTLP exporter keeps its timeout (sdk_compat.export_timeout)

    def __init__(self, result: SpanExportResult = SpanExportResult.SUCCESS) -> None:
        self.result = result
        self.error: tuple[grpc.StatusCode, str] | None = None  # the code and details logged
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self.error:
            logging.getLogger(BACKEND_LOG).error(
                "Failed to export %s to %s, error code: %s, error details: %s", "traces", "127.0.0.1:4317", *self.error
            )
        if self.result is SpanExportResult.SUCCESS:
            self.spans.extend(spans)
        return self.result


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """What a new process starts with: no OTEL_* variable, and the signal handlers as
    Python leaves them (restored afterwards)."""
    for name in list(os.environ):
        if name.startswith("OTEL_") or name == "JAEGER_URL":
            monkeypatch.delenv(name)
    signals = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in signals.items():
        signal.signal(signum, handler)


@pytest.fixture
def backend() -> Backend:
    """The backend the commands export to, in place of the OTLP exporter."""
    return Backend()


def names(spans: Sequence[ReadableSpan]) -> list[str]:
    return sorted(span.name for span in spans)


def exported_trace_line(err: str) -> str:
    """The trace id from the line the one-trace command says when its trace is exported."""
    match = re.fullmatch(r"inprocess-grpc: trace ([0-9a-f]{32}) exported: http://localhost:16686/trace/\1\n", err)
    assert match, err
    return match.group(1)


# python -m inprocess_grpc


def test_the_lookups_are_printed_and_exported_as_one_trace_under_main(
    backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    assert one_trace.main([], exporter=backend) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == ["{}", JOHN_JSON]
    trace_id = exported_trace_line(err)
    assert names(backend.spans) == ONE_TRACE
    assert {f"{span.context.trace_id:032x}" for span in backend.spans} == {trace_id}
    [root] = [span for span in backend.spans if span.parent is None]
    assert root.name == "main"
    assert {span.resource.attributes["service.name"] for span in backend.spans} == {"inprocess-grpc"}


def test_the_ids_given_are_looked_up_in_their_order(backend: Backend, capsys: pytest.CaptureFixture[str]) -> None:
    assert one_trace.main(["100", "7"], exporter=backend) == 0
    assert capsys.readouterr().out.splitlines() == [JOHN_JSON, "{}"]
    assert [span.attributes["user.id"] for span in backend.spans if span.name == "GetUser"] == ["100", "7"]


def test_each_users_json_is_written_out_before_the_next_lookup(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # stdout block-buffered, as when it is a pipe: a run cut short still shows what it did.
    written = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(written, encoding="utf-8"))
    seen_at_each_lookup = []

    def get_user(user_id: int, tracer: trace.Tracer) -> dict:
        seen_at_each_lookup.append(written.getvalue().decode())
        return users.get_user(user_id, tracer)

    monkeypatch.setattr(one_trace, "get_user", get_user)
    one_trace.main(["1", "100", "5"], exporter=backend)
    assert seen_at_each_lookup == ["", "{}\n", "{}\n" + JOHN_JSON + "\n"]


def test_a_backend_that_fails_every_export_is_exit_status_3_with_the_spans_counted(
    backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    backend.result = SpanExportResult.FAILURE
    assert one_trace.main([], exporter=backend) == 3
    out, err = capsys.readouterr()
    assert out.splitlines() == ["{}", JOHN_JSON]
    assert err == (
        f"inprocess-grpc: export failed, {SPANS_PER_TRACE} of {SPANS_PER_TRACE} spans not delivered: "
        "the backend did not take them within OTEL_EXPORTER_OTLP_TIMEOUT\n"
    )


@pytest.mark.parametrize("sdk_logs", [False, True])
def test_the_exporters_logged_error_becomes_the_hint_and_reaches_stderr_only_with_sdk_logs(
    sdk_logs: bool, backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    details = (
        "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:4317: Failed to connect to "
        "remote host: Connection refused"
    )
    backend.result, backend.error = SpanExportResult.FAILURE, (grpc.StatusCode.UNAVAILABLE, details)
    error = f"Failed to export traces to 127.0.0.1:4317, error code: StatusCode.UNAVAILABLE, error details: {details}"
    said = (
        f"inprocess-grpc: export failed, {SPANS_PER_TRACE} of {SPANS_PER_TRACE} spans not delivered: "
        f"nothing listens there: is the backend running, and is the port right? ({error})\n"
    )
    assert one_trace.main(["--sdk-logs"] if sdk_logs else [], exporter=backend) == 3
    shown = f"ERROR {BACKEND_LOG}: {error}\n" if sdk_logs else ""
    assert capsys.readouterr().err == shown + said


def test_a_bad_otel_value_stops_the_run_before_any_lookup_with_status_4(
    backend: Backend, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always-on")
    assert one_trace.main([], exporter=backend) == 4
    assert capsys.readouterr() == (
        "",
        "inprocess-grpc: error: OTEL_TRACES_SAMPLER='always-on' is not a known value; expected always_on, "
        "always_off, parentbased_always_on, parentbased_always_off, traceidratio, parentbased_traceidratio\n",
    )
    assert backend.spans == []  # nothing was run


def test_the_console_script_exits_with_mains_status(
    backend: Backend, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "maybe")
    monkeypatch.setattr(sys, "argv", ["inprocess-grpc"])
    with pytest.raises(SystemExit) as exited:
        one_trace.run()
    assert exited.value.code == 4
    assert capsys.readouterr().err.startswith("inprocess-grpc: error: OTEL_SDK_DISABLED='maybe' is neither")


def test_with_the_sdk_disabled_nothing_is_exported_and_that_is_said(
    backend: Backend, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # That no exporter is even made (gRPC not imported): tests/test_cli.py, in a process of its own.
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert one_trace.main([], exporter=backend) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == ["{}", JOHN_JSON]
    assert err == "inprocess-grpc: tracing is disabled (OTEL_SDK_DISABLED), no trace recorded\n"
    assert backend.spans == []


def test_an_unsampled_trace_exports_nothing_and_that_is_said(
    backend: Backend, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    assert one_trace.main(["100"], exporter=backend) == 0
    err = capsys.readouterr().err
    assert re.fullmatch(
        r"inprocess-grpc: trace [0-9a-f]{32} not sampled \(OTEL_TRACES_SAMPLER\), nothing exported\n", err
    )
    assert backend.spans == []


def test_with_a_provider_set_up_already_its_exporter_is_used_and_ours_is_not_made(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # What opentelemetry-instrument leaves: an SDK provider with its own exporter (the
    # app finds it as the global provider: tests/test_distro.py).
    distro_exporter = InMemorySpanExporter()
    distro = TracerProvider()
    distro.add_span_processor(SimpleSpanProcessor(distro_exporter))
    assert one_trace.main([], provider=distro) == 0
    trace_id = exported_trace_line(capsys.readouterr().err)
    assert names(distro_exporter.get_finished_spans()) == ONE_TRACE
    assert {f"{span.context.trace_id:032x}" for span in distro_exporter.get_finished_spans()} == {trace_id}


def stop_at_lookup(module: object, number: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM to the process as the command starts its `number`th lookup."""
    calls = []

    def get_user(user_id: int, tracer: trace.Tracer) -> dict:
        calls.append(user_id)
        if len(calls) == number:
            os.kill(os.getpid(), signal.SIGTERM)
        return users.get_user(user_id, tracer)

    monkeypatch.setattr(module, "get_user", get_user)


def test_sigterm_ends_the_run_with_what_was_done_exported_and_status_143(
    backend: Backend, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stop_at_lookup(one_trace, 2, monkeypatch)
    assert one_trace.main(["1", "100"], exporter=backend) == 128 + 15
    out, err = capsys.readouterr()
    assert out.splitlines() == ["{}"]
    trace_id = exported_trace_line(err.splitlines(keepends=True)[0])
    assert err.splitlines()[1] == "inprocess-grpc: stopped by SIGTERM, spans flushed"
    assert names(backend.spans) == ["GetDetail", "GetInfo", "GetScores", "GetUser", "main"]
    assert {f"{span.context.trace_id:032x}" for span in backend.spans} == {trace_id}
    # The root span, open when the signal came, records it as the exception that ended it.
    [root] = [span for span in backend.spans if span.name == "main"]
    assert [event.attributes["exception.message"] for event in root.events] == ["SIGTERM"]


def test_a_run_keeps_the_sdks_logs_off_stderr_and_leaves_no_handler_nor_exit_hook_behind(
    backend: Backend, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The benchmarks run it so. The provider is shut down by finish, when the program
    # chooses, not by an exit hook that would run after the exit status is decided.
    hooks: list[Callable] = []
    monkeypatch.setattr("atexit.register", lambda hook: hooks.append(hook) or hook)
    monkeypatch.setattr("atexit.unregister", hooks.remove)
    sdk_logger = logging.getLogger("opentelemetry")
    before = (list(sdk_logger.handlers), sdk_logger.propagate)
    run = traced_run.start(exporter=backend)
    logging.getLogger("opentelemetry.sdk").error("not shown")
    assert capsys.readouterr().err == ""
    assert [error.message for error in run.finish().errors] == ["not shown"]
    assert (list(sdk_logger.handlers), sdk_logger.propagate) == before
    assert hooks == []


def test_an_exporter_setting_the_otlp_exporter_refuses_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Past our checks: the exporter's own variable of retryable gRPC codes.
    monkeypatch.setenv("OTEL_PYTHON_EXPORTER_OTLP_GRPC_RETRYABLE_ERROR_CODES", "UNAVAILABLE,SOMETIMES")
    with pytest.raises(ConfigError) as refused:
        traced_run.start()
    assert str(refused.value) == "the OTLP exporter rejects its OTEL_EXPORTER_OTLP_* settings: 'SOMETIMES'"


def test_a_batch_larger_than_the_queue_is_refused_by_the_sdks_own_check_with_status_4(
    backend: Backend, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4096")
    assert one_trace.main([], exporter=backend) == 4
    assert capsys.readouterr().err == (
        "inprocess-grpc: error: OTEL_BSP_MAX_EXPORT_BATCH_SIZE / OTEL_BSP_MAX_QUEUE_SIZE refused by the SDK's"
        " batch span processor: max_export_batch_size must be less than or equal to max_queue_size.\n"
    )


def test_the_help_names_the_command_its_arguments_and_what_each_does(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as exited:
        one_trace.main(["--help"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    assert shown.startswith("usage: inprocess-grpc [-h] [--sdk-logs] [USER_ID ...]\n\n")
    assert "\nLook up users inside one trace exported over OTLP/gRPC.\n" in shown
    assert re.search(r"\n  USER_ID +users to look up \(default: 1 100\); user 100 exists\n", shown)
    assert re.search(
        r"\n  --sdk-logs +let the OpenTelemetry SDK's own log records through to stderr \(retries, details\)\n", shown
    )


# python -m inprocess_grpc.load


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """time.monotonic for the test, moved only by time.sleep; and the CPU time used."""
    now = [1000.0]
    monkeypatch.setattr("time.monotonic", lambda: now[0])
    monkeypatch.setattr("time.sleep", lambda seconds: now.__setitem__(0, now[0] + seconds))
    monkeypatch.setattr("time.process_time", lambda: 0.25)
    return now


def test_a_load_run_with_a_provider_set_up_already_sends_its_spans_to_that_providers_exporter(
    clock: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    distro_exporter = InMemorySpanExporter()  # as opentelemetry-instrument leaves it
    distro = TracerProvider()
    distro.add_span_processor(SimpleSpanProcessor(distro_exporter))
    assert load.main(["--repeat", "2", "100"], provider=distro) == 0
    assert names(distro_exporter.get_finished_spans()) == sorted(
        ["main", "GetUser", "GetInfo", "GetDetail", "GetScores"] * 2
    )
    assert json.loads(capsys.readouterr().out)["spans"]["ended"] == 10


def test_a_load_run_makes_the_traces_asked_for_and_prints_what_became_of_their_spans(
    backend: Backend, clock: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    assert load.main(["--repeat", "3", "100"], exporter=backend) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {
        "traces": 3,
        "seconds": 0.0,
        "cpu_seconds": 0.25,
        "spans": {"ended": 15, "exported": 15, "failed": 0, "dropped": 0},
    }
    assert err == "inprocess-grpc: 3 traces, 15 spans delivered\n"
    assert names(backend.spans) == sorted(["main", "GetUser", "GetInfo", "GetDetail", "GetScores"] * 3)
    roots = [span for span in backend.spans if span.parent is None]
    assert [span.name for span in roots] == ["main"] * 3
    assert len({span.context.trace_id for span in roots}) == 3


def test_a_load_run_without_repeat_or_duration_makes_one_trace_of_users_1_and_100(
    backend: Backend, clock: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    assert load.main([], exporter=backend) == 0
    assert json.loads(capsys.readouterr().out)["traces"] == 1
    assert names(backend.spans) == ONE_TRACE
    assert sorted(span.attributes["user.id"] for span in backend.spans if span.name == "GetUser") == ["1", "100"]


def test_a_load_run_with_a_rate_and_a_duration_makes_rate_times_duration_traces(
    backend: Backend, clock: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    # Due at 0, 0.25, 0.5 and 0.75 s; the run ends when the last is done, 0.75 s in.
    assert load.main(["--rate", "4", "--duration", "1", "100"], exporter=backend) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["traces"], summary["seconds"], summary["spans"]["ended"]) == (4, 0.75, 20)


def test_a_load_run_whose_exports_fail_counts_them_and_exits_3(
    backend: Backend, clock: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    backend.result = SpanExportResult.FAILURE
    assert load.main(["--repeat", "2"], exporter=backend) == 3
    out, err = capsys.readouterr()
    assert json.loads(out)["spans"] == {"ended": 18, "exported": 0, "failed": 18, "dropped": 0}
    assert err == (
        "inprocess-grpc: export failed, 18 of 18 spans not delivered: the backend did not take them within "
        "OTEL_EXPORTER_OTLP_TIMEOUT\n"
    )


def test_a_load_run_shows_the_sdks_logs_with_sdk_logs(
    backend: Backend, clock: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    backend.result, backend.error = SpanExportResult.FAILURE, (grpc.StatusCode.INTERNAL, "boom")
    error = "Failed to export traces to 127.0.0.1:4317, error code: StatusCode.INTERNAL, error details: boom"
    assert load.main(["--sdk-logs"], exporter=backend) == 3
    assert capsys.readouterr().err == (
        f"ERROR {BACKEND_LOG}: {error}\n"
        f"inprocess-grpc: export failed, {SPANS_PER_TRACE} of {SPANS_PER_TRACE} spans not delivered: {error}\n"
    )


def test_a_load_run_with_a_bad_otel_value_makes_nothing_and_exits_4(
    backend: Backend, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "1k")
    assert load.main(["--repeat", "2"], exporter=backend) == 4
    assert capsys.readouterr() == (
        "",
        "inprocess-grpc: error: OTEL_BSP_MAX_QUEUE_SIZE='1k' is not a whole number; expected spans, a whole number "
        "above 0, for example 2048\n",
    )


def test_sigterm_ends_a_load_run_with_the_traces_done_counted_and_status_143(
    backend: Backend, clock: list[float], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stopped at the first lookup of the third trace: two traces done, and its root span.
    stop_at_lookup(load, 5, monkeypatch)
    assert load.main(["--repeat", "5"], exporter=backend) == 128 + 15
    out, err = capsys.readouterr()
    assert json.loads(out)["traces"] == 2
    assert json.loads(out)["spans"] == {"ended": 19, "exported": 19, "failed": 0, "dropped": 0}
    assert err == "inprocess-grpc: 2 traces, 19 spans delivered\ninprocess-grpc: stopped by SIGTERM, spans flushed\n"


def test_the_load_summary_comes_before_the_verdict_when_both_go_to_one_file(
    backend: Backend, clock: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `2>&1` into a file or pipe: stdout block-buffered, stderr line-buffered, one file.
    both = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(both, encoding="utf-8"))
    monkeypatch.setattr(sys, "stderr", io.TextIOWrapper(both, encoding="utf-8", line_buffering=True))
    load.main(["--repeat", "1"], exporter=backend)
    first, second = both.getvalue().decode().splitlines()
    assert json.loads(first)["traces"] == 1
    assert second == f"inprocess-grpc: 1 traces, {SPANS_PER_TRACE} spans delivered"


def test_the_load_help_says_what_each_option_does(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as exited:
        load.main(["--help"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    assert "\nMake many traces of the lookups, then print a JSON summary of what was delivered.\n" in shown
    for option, does in [
        ("--repeat REPEAT", "traces to make (default: 1, or no limit with --duration)"),
        ("--rate RATE", "traces per second (default: as fast as it can)"),
        ("--duration DURATION", "seconds to keep making traces"),
    ]:
        assert re.search(rf"\n  {option} +{re.escape(does)}\n", shown), option
