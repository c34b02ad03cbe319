"""The two commands, `python -m inprocess_grpc` and `python -m inprocess_grpc.load`, run in
process from their `main` with the real set-up (`telemetry.start_tracing`), a stand-in
for the OTLP exporter in place of a backend: what they print, the line they say, the
exit status, and the spans the backend is given."""

import io
import json
import logging
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator, Sequence

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once

import inprocess_grpc.__main__ as one_trace
from inprocess_grpc import load, telemetry, users
from inprocess_grpc.env_checks import ConfigError

pytestmark = pytest.mark.fast

JOHN_JSON = (
    '{"id":100,"name":"john","gender":1,"site":"https://goframe.org",'
    '"email":"john@goframe.org","math":100,"english":60,"chinese":50}'
)
# The span names of one trace of users 1 and 100, sorted.
ONE_TRACE = ["GetDetail", "GetDetail", "GetInfo", "GetInfo", "GetScores", "GetScores", "GetUser", "GetUser", "main"]
EXPORTER_LOG = "opentelemetry.exporter.otlp.proto.grpc.exporter"


class Backend(SpanExporter):
    """Stands in for the OTLP exporter: keeps what it is given, answers `result`, and
    logs what the OTLP exporter logs when an export fails."""

    _timeout = 10.0  # where the OTLP exporter keeps its timeout

    def __init__(self, result: SpanExportResult = SpanExportResult.SUCCESS, error: str | None = None) -> None:
        self.result = result
        self.error = error
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self.error:
            logging.getLogger(EXPORTER_LOG).error(self.error)
        if self.result is SpanExportResult.SUCCESS:
            self.spans.extend(spans)
        return self.result


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """What a new process starts with: no OTEL_* variable, no global tracer provider, the
    SDK's logger and the signal handlers as Python leaves them. Restored afterwards."""
    for name in list(os.environ):
        if name.startswith("OTEL_") or name == "JAEGER_URL":
            monkeypatch.delenv(name)
    monkeypatch.setattr(trace, "_TRACER_PROVIDER_SET_ONCE", Once())
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", None)
    # The app's tracer is bound to the first global provider it sees; a fresh one here.
    fresh_tracer = trace.get_tracer("inprocess_grpc")
    for module in (users, one_trace, load):
        monkeypatch.setattr(module, "tracer", fresh_tracer)
    # The exporter's logger drops a message repeated within 20 s: it starts with none seen.
    for seen in logging.getLogger(EXPORTER_LOG).filters:
        if hasattr(seen, "last_log"):
            monkeypatch.delattr(seen, "last_log")
    sdk_logger = logging.getLogger("opentelemetry")
    handlers, propagate = list(sdk_logger.handlers), sdk_logger.propagate
    signals = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    sdk_logger.handlers[:], sdk_logger.propagate = handlers, propagate
    for signum, handler in signals.items():
        signal.signal(signum, handler)


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> Backend:
    """The backend the commands export to, in place of the OTLP exporter."""
    stand_in = Backend()
    monkeypatch.setattr(telemetry, "_otlp_exporter", lambda: stand_in)
    return stand_in


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
    assert one_trace.main([]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == ["{}", JOHN_JSON]
    trace_id = exported_trace_line(err)
    assert names(backend.spans) == ONE_TRACE
    assert {f"{span.context.trace_id:032x}" for span in backend.spans} == {trace_id}
    [root] = [span for span in backend.spans if span.parent is None]
    assert root.name == "main"
    assert {span.resource.attributes["service.name"] for span in backend.spans} == {"inprocess-grpc"}


def test_the_ids_given_are_looked_up_in_their_order(backend: Backend, capsys: pytest.CaptureFixture[str]) -> None:
    assert one_trace.main(["100", "7"]) == 0
    assert capsys.readouterr().out.splitlines() == [JOHN_JSON, "{}"]
    assert [span.attributes["user.id"] for span in backend.spans if span.name == "GetUser"] == ["100", "7"]


def test_each_users_json_is_written_out_before_the_next_lookup(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # stdout block-buffered, as when it is a pipe: a run cut short still shows what it did.
    written = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(written, encoding="utf-8"))
    seen_at_each_lookup = []

    def get_user(user_id: int) -> dict:
        seen_at_each_lookup.append(written.getvalue().decode())
        return users.get_user(user_id)

    monkeypatch.setattr(one_trace, "get_user", get_user)
    one_trace.main(["1", "100", "5"])
    assert seen_at_each_lookup == ["", "{}\n", "{}\n" + JOHN_JSON + "\n"]


def test_a_backend_that_fails_every_export_is_exit_status_3_with_the_spans_counted(
    backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    backend.result = SpanExportResult.FAILURE
    assert one_trace.main([]) == 3
    out, err = capsys.readouterr()
    assert out.splitlines() == ["{}", JOHN_JSON]
    assert err == (
        "inprocess-grpc: export failed, 9 of 9 spans not delivered: the backend did not take them within "
        "OTEL_EXPORTER_OTLP_TIMEOUT\n"
    )


@pytest.mark.parametrize("sdk_logs", [False, True])
def test_the_exporters_logged_error_becomes_the_hint_and_reaches_stderr_only_with_sdk_logs(
    sdk_logs: bool, backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    error = (
        "Failed to export traces to 127.0.0.1:4317, error code: StatusCode.UNAVAILABLE, error details: "
        "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:4317: Failed to connect to "
        "remote host: Connection refused"
    )
    backend.result, backend.error = SpanExportResult.FAILURE, error
    verdict = (
        "inprocess-grpc: export failed, 9 of 9 spans not delivered: nothing listens there: is the backend "
        f"running, and is the port right? ({error})\n"
    )
    assert one_trace.main(["--sdk-logs"] if sdk_logs else []) == 3
    shown = f"ERROR {EXPORTER_LOG}: {error}\n" if sdk_logs else ""
    assert capsys.readouterr().err == shown + verdict


def test_a_bad_otel_value_stops_the_run_before_any_lookup_with_status_4(
    backend: Backend, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always-on")
    assert one_trace.main([]) == 4
    assert capsys.readouterr() == (
        "",
        "inprocess-grpc: error: OTEL_TRACES_SAMPLER='always-on' is not a known value; expected always_on, "
        "always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio\n",
    )
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)  # nothing was set up


def test_the_console_script_exits_with_mains_status(
    backend: Backend, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "maybe")
    monkeypatch.setattr(sys, "argv", ["inprocess-grpc"])
    with pytest.raises(SystemExit) as exited:
        one_trace.run()
    assert exited.value.code == 4
    assert capsys.readouterr().err.startswith("inprocess-grpc: error: OTEL_SDK_DISABLED='maybe' is neither")


def test_with_the_sdk_disabled_there_is_no_exporter_and_that_is_said(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")

    def no_exporter() -> None:
        raise AssertionError("an exporter was made with the SDK disabled")

    monkeypatch.setattr(telemetry, "_otlp_exporter", no_exporter)
    assert one_trace.main([]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == ["{}", JOHN_JSON]
    assert err == "inprocess-grpc: tracing is disabled (OTEL_SDK_DISABLED), no trace recorded\n"
    assert isinstance(trace.get_tracer_provider(), TracerProvider)


def test_an_unsampled_trace_through_the_real_otlp_exporter_exports_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    assert one_trace.main(["100"]) == 0
    err = capsys.readouterr().err
    assert re.fullmatch(
        r"inprocess-grpc: trace [0-9a-f]{32} not sampled \(OTEL_TRACES_SAMPLER\), nothing exported\n", err
    )


def test_under_the_distro_its_provider_and_exporter_are_used_and_ours_is_not_made(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # What opentelemetry-instrument leaves: a global SDK provider with its own exporter.
    distro_exporter = InMemorySpanExporter()
    distro = TracerProvider()
    distro.add_span_processor(SimpleSpanProcessor(distro_exporter))
    trace.set_tracer_provider(distro)

    def no_exporter() -> None:
        raise AssertionError("a second exporter was made under the distro")

    monkeypatch.setattr(telemetry, "_otlp_exporter", no_exporter)
    assert one_trace.main([]) == 0
    trace_id = exported_trace_line(capsys.readouterr().err)
    assert names(distro_exporter.get_finished_spans()) == ONE_TRACE
    assert {f"{span.context.trace_id:032x}" for span in distro_exporter.get_finished_spans()} == {trace_id}
    assert trace.get_tracer_provider() is distro


def stop_at_lookup(module: object, number: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM to the process as the command starts its `number`th lookup."""
    calls = []

    def get_user(user_id: int) -> dict:
        calls.append(user_id)
        if len(calls) == number:
            os.kill(os.getpid(), signal.SIGTERM)
        return users.get_user(user_id)

    monkeypatch.setattr(module, "get_user", get_user)


def test_sigterm_ends_the_run_with_what_was_done_exported_and_status_143(
    backend: Backend, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stop_at_lookup(one_trace, 2, monkeypatch)
    assert one_trace.main(["1", "100"]) == 128 + 15
    out, err = capsys.readouterr()
    assert out.splitlines() == ["{}"]
    trace_id = exported_trace_line(err.splitlines(keepends=True)[0])
    assert err.splitlines()[1] == "inprocess-grpc: stopped by SIGTERM, spans flushed"
    assert names(backend.spans) == ["GetDetail", "GetInfo", "GetScores", "GetUser", "main"]
    assert {f"{span.context.trace_id:032x}" for span in backend.spans} == {trace_id}
    # The root span, open when the signal came, records it as the exception that ended it.
    [root] = [span for span in backend.spans if span.name == "main"]
    assert [event.attributes["exception.message"] for event in root.events] == ["SIGTERM"]


def test_start_tracing_alone_keeps_the_sdks_logs_off_stderr_and_registers_no_exit_hook(
    backend: Backend, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The benchmarks call it so. The provider is shut down by finish, when the program
    # chooses, not by an exit hook that would run after the exit status is decided.
    hooks: list[Callable] = []
    monkeypatch.setattr("atexit.register", hooks.append)
    tracing = telemetry.start_tracing()
    logging.getLogger("opentelemetry.sdk").error("not shown")
    assert capsys.readouterr().err == ""
    assert hooks == []
    assert tracing.finish().errors == ["not shown"]


def test_an_exporter_setting_the_otlp_exporter_refuses_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Past our checks: the exporter's own variable of retryable gRPC codes.
    monkeypatch.setenv("OTEL_PYTHON_EXPORTER_OTLP_GRPC_RETRYABLE_ERROR_CODES", "UNAVAILABLE,SOMETIMES")
    with pytest.raises(ConfigError) as refused:
        telemetry._otlp_exporter()
    assert str(refused.value) == "the OTLP exporter rejects its OTEL_EXPORTER_OTLP_* settings: 'SOMETIMES'"


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


def test_a_load_run_makes_the_traces_asked_for_and_prints_what_became_of_their_spans(
    backend: Backend, clock: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    assert load.main(["--repeat", "3", "100"]) == 0
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
    assert load.main([]) == 0
    assert json.loads(capsys.readouterr().out)["traces"] == 1
    assert names(backend.spans) == ONE_TRACE
    assert sorted(span.attributes["user.id"] for span in backend.spans if span.name == "GetUser") == ["1", "100"]


def test_a_load_run_with_a_rate_and_a_duration_makes_rate_times_duration_traces(
    backend: Backend, clock: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    # Due at 0, 0.25, 0.5 and 0.75 s; the run ends when the last is done, 0.75 s in.
    assert load.main(["--rate", "4", "--duration", "1", "100"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["traces"], summary["seconds"], summary["spans"]["ended"]) == (4, 0.75, 20)


def test_a_load_run_whose_exports_fail_counts_them_and_exits_3(
    backend: Backend, clock: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    backend.result = SpanExportResult.FAILURE
    assert load.main(["--repeat", "2"]) == 3
    out, err = capsys.readouterr()
    assert json.loads(out)["spans"] == {"ended": 18, "exported": 0, "failed": 18, "dropped": 0}
    assert err == (
        "inprocess-grpc: export failed, 18 of 18 spans not delivered: the backend did not take them within "
        "OTEL_EXPORTER_OTLP_TIMEOUT\n"
    )


def test_a_load_run_shows_the_sdks_logs_with_sdk_logs(
    backend: Backend, clock: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    backend.result, backend.error = SpanExportResult.FAILURE, "Failed to export traces to 127.0.0.1:9"
    assert load.main(["--sdk-logs"]) == 3
    assert capsys.readouterr().err == (
        f"ERROR {EXPORTER_LOG}: Failed to export traces to 127.0.0.1:9\n"
        "inprocess-grpc: export failed, 9 of 9 spans not delivered: Failed to export traces to 127.0.0.1:9\n"
    )


def test_a_load_run_with_a_bad_otel_value_makes_nothing_and_exits_4(
    backend: Backend, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "1k")
    assert load.main(["--repeat", "2"]) == 4
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
    assert load.main(["--repeat", "5"]) == 128 + 15
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
    load.main(["--repeat", "1"])
    first, second = both.getvalue().decode().splitlines()
    assert json.loads(first)["traces"] == 1
    assert second == "inprocess-grpc: 1 traces, 9 spans delivered"


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
