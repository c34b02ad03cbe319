"""Counting what became of the spans, and the flush that ends: with exporters made for
the test in place of a backend (the SDK's own provider and batch processor)."""

import enum
import logging
import threading
from collections.abc import Iterator, Sequence

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from harness.servers import free_port
from inprocess_grpc import tracing
from inprocess_grpc.delivery import CountingExporter, Delivery, ExportError, ExportLog, export_timeout
from inprocess_grpc.traced_run import TracedRun

pytestmark = pytest.mark.fast


class Answers(SpanExporter):
    """Answers each export with the next result given."""

    def __init__(self, *results: SpanExportResult) -> None:
        self.results = list(results)
        self.calls = 0
        self.given: list[Sequence[ReadableSpan]] = []
        self.flushes: list[int] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.calls += 1
        self.given.append(spans)
        return self.results.pop(0)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        self.flushes.append(timeout_millis)
        return False


class Hangs(SpanExporter):
    """An export that does not return until the exporter is shut down (or 30 s pass)."""

    def __init__(self) -> None:
        self.shut = threading.Event()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.FAILURE if self.shut.wait(30) else SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.shut.set()


class RaisesOnceShut(Hangs):
    """An export that raises once the exporter is shut down, as gRPC does on a channel
    closed during a call."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.shut.wait(30)
        raise ValueError("Cannot invoke RPC on closed channel!")


SPANS = [ReadableSpan(name=f"span {n}") for n in range(5)]
TIMEOUT = 10.0


def counting_exporter(exporter: SpanExporter, timeout: float = TIMEOUT) -> CountingExporter:
    return CountingExporter(exporter, timeout)


def test_delivered_and_failed_spans_are_counted_per_span() -> None:
    ok, failed = SpanExportResult.SUCCESS, SpanExportResult.FAILURE
    inner = Answers(ok, failed, ok, failed)
    exporter = counting_exporter(inner)
    for batch in (SPANS[:3], SPANS[:2], SPANS[:1], SPANS[:4]):
        exporter.export(batch)
    assert (exporter.exported, exporter.failed) == (3 + 1, 2 + 4)
    assert inner.given == [SPANS[:3], SPANS[:2], SPANS[:1], SPANS[:4]]


def test_an_export_with_no_time_left_before_the_deadline_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.monotonic", lambda: 100.0)
    exporter = counting_exporter(Answers(SpanExportResult.SUCCESS))
    exporter.stop_at(100.0)
    assert exporter.export(SPANS) is SpanExportResult.FAILURE


def test_a_flush_is_passed_on_to_the_exporter_with_its_timeout() -> None:
    inner = Answers()
    exporter = counting_exporter(inner)
    assert exporter.force_flush(1500) is False
    exporter.force_flush()
    assert inner.flushes == [1500, 30000]  # the SDK's default for SpanExporter.force_flush


def test_after_its_deadline_an_export_fails_at_once_without_reaching_the_exporter() -> None:
    inner = Answers(SpanExportResult.SUCCESS)
    exporter = counting_exporter(inner)
    exporter.stop_at(0.0)
    assert exporter.export(SPANS) is SpanExportResult.FAILURE
    assert (inner.calls, exporter.exported, exporter.failed) == (0, 0, 5)


@pytest.mark.parametrize(
    ("variables", "seconds"),
    [
        ({}, 10.0),
        ({"OTEL_EXPORTER_OTLP_TIMEOUT": ""}, 10.0),  # empty means unset
        ({"OTEL_EXPORTER_OTLP_TIMEOUT": "7"}, 7.0),
        ({"OTEL_EXPORTER_OTLP_TIMEOUT": "7", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "2.5"}, 2.5),
        ({"OTEL_EXPORTER_OTLP_TIMEOUT": "7", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": ""}, 7.0),
    ],
)
def test_the_export_timeout_is_the_traces_variable_else_the_general_one_in_seconds_else_10(
    variables: dict[str, str], seconds: float
) -> None:
    # Seconds, as opentelemetry-python's OTLP exporter reads both (the specification says milliseconds).
    assert export_timeout(variables) == seconds


def test_dropped_spans_are_the_ended_ones_neither_exported_nor_failed() -> None:
    assert Delivery(ended=100, exported=60, failed=30).dropped == 10
    assert Delivery(ended=100).dropped is None  # the distro's exporter is not counted


EXPORTER_LOG = "opentelemetry.exporter.otlp.proto.grpc.exporter"
SDK_LOGGER = logging.getLogger("opentelemetry")


@pytest.fixture
def log() -> Iterator[ExportLog]:
    with ExportLog(shown=False) as attached:
        yield attached


def test_the_sdks_errors_and_warnings_are_kept_apart_first_line_only_with_their_status_code(log: ExportLog) -> None:
    exporter_log = logging.getLogger(EXPORTER_LOG)
    exporter_log.warning("Transient error %s, retrying in 1s.\ndetails", grpc.StatusCode.UNAVAILABLE)
    exporter_log.error("Failed to export traces\ndetails")
    exporter_log.info("not kept")
    assert (log.errors, log.warnings) == (
        [ExportError(None, "Failed to export traces")],
        [ExportError("UNAVAILABLE", "Transient error StatusCode.UNAVAILABLE, retrying in 1s.")],
    )


def test_the_status_code_is_read_from_the_otlp_exporters_own_records_of_a_failed_export(log: ExportLog) -> None:
    # A real export, to a port where nothing listens: what the exporter logs, and how.
    exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{free_port()}", timeout=1.5)
    span = TracerProvider(shutdown_on_exit=False).get_tracer("test").start_span("span")
    span.end()
    try:
        exporter.export([span])
    finally:
        exporter.shutdown()
    assert log.errors, "the exporter logged no error"
    assert {error.status for error in log.errors + log.warnings} == {"UNAVAILABLE"}


class StatusCode(enum.Enum):
    """Named as gRPC's, but not it."""

    UNAVAILABLE = 14


StatusCode.__module__ = "grpc.lookalike"


def test_only_grpcs_own_status_code_among_a_records_arguments_is_read_as_one(log: ExportLog) -> None:
    sdk_log = logging.getLogger("opentelemetry.sdk")
    sdk_log.error("Failed, error code: %s", "UNAVAILABLE")
    sdk_log.error("Failed, error code: %s", StatusCode.UNAVAILABLE)
    sdk_log.error("Failed, error details: %s, error code: %s", "details", grpc.StatusCode.UNAUTHENTICATED)
    assert [error.status for error in log.errors] == [None, None, "UNAUTHENTICATED"]


def test_only_the_sdks_records_are_kept(log: ExportLog) -> None:
    logging.getLogger("urllib3.connectionpool").error("not the SDK's")
    logging.getLogger("opentelemetry.sdk.trace").error("the SDK's")
    assert log.errors == [ExportError(None, "the SDK's")]


def test_the_sdks_records_reach_the_programs_own_log_handlers_as_without_it(caplog: pytest.LogCaptureFixture) -> None:
    # caplog's handler is on the root logger, where a program's own logging set-up is.
    with ExportLog(shown=False):
        logging.getLogger(EXPORTER_LOG).error("Failed to export traces")
    assert [record.getMessage() for record in caplog.records] == ["Failed to export traces"]


def test_the_sdks_records_reach_stderr_only_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    with ExportLog(shown=False):
        logging.getLogger("opentelemetry.sdk").error("hidden")
    assert capsys.readouterr().err == ""
    with ExportLog(shown=True):
        logging.getLogger("opentelemetry.sdk").error("shown")
    assert capsys.readouterr().err == "ERROR opentelemetry.sdk: shown\n"


def test_attached_the_log_only_adds_its_handlers_and_detached_the_sdks_logger_is_as_it_was() -> None:
    before = (list(SDK_LOGGER.handlers), SDK_LOGGER.propagate, SDK_LOGGER.level, SDK_LOGGER.disabled)
    with ExportLog(shown=True) as log:
        assert SDK_LOGGER.handlers[: len(before[0])] == before[0]
        assert SDK_LOGGER.handlers[len(before[0])] is log
        assert (SDK_LOGGER.propagate, SDK_LOGGER.level, SDK_LOGGER.disabled) == before[1:]
    assert (list(SDK_LOGGER.handlers), SDK_LOGGER.propagate, SDK_LOGGER.level, SDK_LOGGER.disabled) == before


def traced_run(exporter: SpanExporter | None, timeout: float = TIMEOUT) -> TracedRun:
    """A run on the pattern's provider (tracing.py), counting with `exporter` (None: the
    provider's own exporter, which the run does not count) whose exports may take `timeout`."""
    counting = counting_exporter(exporter, timeout) if exporter else None
    provider = tracing.tracer_provider(counting or Answers(SpanExportResult.SUCCESS))
    return TracedRun(provider, ExportLog(shown=False).attach(), counting)


def test_finish_counts_every_ended_span_and_what_the_exporter_did() -> None:
    run = traced_run(Answers(SpanExportResult.SUCCESS))
    for _ in range(3):
        run.tracer.start_span("span").end()
    assert run.finish() == Delivery(ended=3, exported=3, failed=0)


def test_finish_gives_the_sdks_errors_and_warnings_logged_while_exporting() -> None:
    run = traced_run(Answers(SpanExportResult.FAILURE))
    run.tracer.start_span("span").end()
    sdk_log = logging.getLogger(EXPORTER_LOG)
    sdk_log.warning("Transient error %s encountered, retrying in 1.00s.", grpc.StatusCode.UNAVAILABLE)
    sdk_log.error("Failed to export traces, error code: %s", grpc.StatusCode.UNAVAILABLE)
    assert run.finish() == Delivery(
        ended=1,
        exported=0,
        failed=1,
        errors=[ExportError("UNAVAILABLE", "Failed to export traces, error code: StatusCode.UNAVAILABLE")],
        retries=[ExportError("UNAVAILABLE", "Transient error StatusCode.UNAVAILABLE encountered, retrying in 1.00s.")],
    )


def test_finish_cuts_short_an_export_that_outlasts_the_timeout() -> None:
    run = traced_run(Hangs(), timeout=0.2)
    run.tracer.start_span("span").end()
    # The export in progress is aborted at the bound: the span counts as failed.
    assert run.finish() == Delivery(ended=1, exported=0, failed=1)


def test_finish_counts_the_spans_of_an_export_that_raises_when_cut_short_as_failed_not_dropped() -> None:
    run = traced_run(RaisesOnceShut(), timeout=0.2)
    for _ in range(3):
        run.tracer.start_span("span").end()
    delivery = run.finish()
    assert (delivery.ended, delivery.exported, delivery.failed, delivery.dropped) == (3, 0, 3, 0)
    assert [error.message for error in delivery.errors] == ["Exception while exporting Span."]


def test_under_a_provider_without_our_exporter_only_ended_spans_are_counted() -> None:
    run = traced_run(None)
    run.tracer.start_span("span").end()
    assert run.finish() == Delivery(ended=1)


def test_finish_detaches_the_sdks_log() -> None:
    before = list(SDK_LOGGER.handlers)
    run = traced_run(Answers(SpanExportResult.SUCCESS))
    assert list(SDK_LOGGER.handlers) != before
    run.finish()
    assert list(SDK_LOGGER.handlers) == before
