"""Counting what became of the spans, and the flush that ends: with exporters made for
the test in place of a backend (the SDK's own provider and batch processor)."""

import logging
import threading
from collections.abc import Iterator, Sequence

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from inprocess_grpc.delivery import CountingExporter, Delivery, SdkLog, Tracing

pytestmark = pytest.mark.fast


class Answers(SpanExporter):
    """Answers each export with the next result given."""

    _timeout = 10.0  # where the OTLP exporter keeps its timeout

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

    _timeout = 0.2  # where the OTLP exporter keeps its timeout

    def __init__(self) -> None:
        self.shut = threading.Event()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.FAILURE if self.shut.wait(30) else SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.shut.set()


SPANS = [ReadableSpan(name=f"span {n}") for n in range(5)]


def test_delivered_and_failed_spans_are_counted_per_span() -> None:
    ok, failed = SpanExportResult.SUCCESS, SpanExportResult.FAILURE
    inner = Answers(ok, failed, ok, failed)
    exporter = CountingExporter(inner)
    for batch in (SPANS[:3], SPANS[:2], SPANS[:1], SPANS[:4]):
        exporter.export(batch)
    assert (exporter.exported, exporter.failed) == (3 + 1, 2 + 4)
    assert inner.given == [SPANS[:3], SPANS[:2], SPANS[:1], SPANS[:4]]


def test_an_export_with_no_time_left_before_the_deadline_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.monotonic", lambda: 100.0)
    exporter = CountingExporter(Answers(SpanExportResult.SUCCESS))
    exporter.stop_at(100.0)
    assert exporter.export(SPANS) is SpanExportResult.FAILURE


def test_a_flush_is_passed_on_to_the_exporter_with_its_timeout() -> None:
    inner = Answers()
    exporter = CountingExporter(inner)
    assert exporter.force_flush(1500) is False
    exporter.force_flush()
    assert inner.flushes == [1500, 30000]  # the SDK's default for SpanExporter.force_flush


def test_after_its_deadline_an_export_fails_at_once_without_reaching_the_exporter() -> None:
    inner = Answers(SpanExportResult.SUCCESS)
    exporter = CountingExporter(inner)
    exporter.stop_at(0.0)
    assert exporter.export(SPANS) is SpanExportResult.FAILURE
    assert (inner.calls, exporter.exported, exporter.failed) == (0, 0, 5)


@pytest.mark.parametrize(
    ("variables", "seconds"),
    [
        ({}, 10.0),
        ({"OTEL_EXPORTER_OTLP_TIMEOUT": "7"}, 7.0),
        ({"OTEL_EXPORTER_OTLP_TIMEOUT": "7", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "3"}, 3.0),
    ],
)
def test_the_flush_bound_is_the_otlp_exporters_own_timeout(
    variables: dict[str, str], seconds: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert CountingExporter(OTLPSpanExporter(endpoint="http://127.0.0.1:9")).timeout == seconds


def test_dropped_spans_are_the_ended_ones_neither_exported_nor_failed() -> None:
    assert Delivery(ended=100, exported=60, failed=30).dropped == 10
    assert Delivery(ended=100).dropped is None  # the distro's exporter is not counted


@pytest.fixture
def sdk_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("opentelemetry")
    handlers, propagate = list(logger.handlers), logger.propagate
    yield logger
    logger.handlers[:], logger.propagate = handlers, propagate


def test_the_sdks_errors_and_warnings_are_kept_apart_first_line_only(sdk_logger: logging.Logger) -> None:
    log = SdkLog(shown=False)
    exporter_log = logging.getLogger("opentelemetry.exporter.otlp.proto.grpc.exporter")
    exporter_log.warning("Transient error, retrying in 1s.\ndetails")
    exporter_log.error("Failed to export traces\ndetails")
    exporter_log.info("not kept")
    assert (log.errors, log.warnings) == (["Failed to export traces"], ["Transient error, retrying in 1s."])


def test_only_the_sdks_records_are_kept(sdk_logger: logging.Logger) -> None:
    log = SdkLog(shown=False)
    logging.getLogger("urllib3.connectionpool").error("not the SDK's")
    logging.getLogger("opentelemetry.sdk.trace").error("the SDK's")
    assert log.errors == ["the SDK's"]


def test_the_sdks_records_never_reach_the_programs_own_log_handlers(
    sdk_logger: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    # caplog's handler is on the root logger, where a program's own logging set-up is.
    SdkLog(shown=False)
    logging.getLogger("opentelemetry.exporter.otlp.proto.grpc.exporter").error("Failed to export traces")
    assert caplog.records == []


def test_the_sdks_records_reach_stderr_only_when_asked(
    sdk_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    SdkLog(shown=False)
    logging.getLogger("opentelemetry.sdk").error("hidden")
    assert capsys.readouterr().err == ""
    SdkLog(shown=True)
    logging.getLogger("opentelemetry.sdk").error("shown")
    assert capsys.readouterr().err == "ERROR opentelemetry.sdk: shown\n"


def test_finish_counts_every_ended_span_and_what_the_exporter_did(sdk_logger: logging.Logger) -> None:
    provider = TracerProvider(shutdown_on_exit=False)
    exporter = CountingExporter(Answers(SpanExportResult.SUCCESS))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracing = Tracing(provider, SdkLog(shown=False), exporter)
    for _ in range(3):
        provider.get_tracer("test").start_span("span").end()
    assert tracing.finish() == Delivery(ended=3, exported=3, failed=0)


def test_finish_gives_the_sdks_errors_and_warnings_logged_while_exporting(sdk_logger: logging.Logger) -> None:
    provider = TracerProvider(shutdown_on_exit=False)
    exporter = CountingExporter(Answers(SpanExportResult.FAILURE))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracing = Tracing(provider, SdkLog(shown=False), exporter)
    provider.get_tracer("test").start_span("span").end()
    sdk_log = logging.getLogger("opentelemetry.sdk.trace.export")
    sdk_log.warning("Transient error StatusCode.UNAVAILABLE encountered, retrying in 1.00s.")
    sdk_log.error("Failed to export traces, error code: StatusCode.UNAVAILABLE")
    assert tracing.finish() == Delivery(
        ended=1,
        exported=0,
        failed=1,
        errors=["Failed to export traces, error code: StatusCode.UNAVAILABLE"],
        retries=["Transient error StatusCode.UNAVAILABLE encountered, retrying in 1.00s."],
    )


def test_finish_cuts_short_an_export_that_outlasts_the_timeout(sdk_logger: logging.Logger) -> None:
    provider = TracerProvider(shutdown_on_exit=False)
    exporter = CountingExporter(Hangs())
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracing = Tracing(provider, SdkLog(shown=False), exporter)
    provider.get_tracer("test").start_span("span").end()
    # The export in progress is aborted at the bound: the span counts as failed.
    assert tracing.finish() == Delivery(ended=1, exported=0, failed=1)


def test_under_a_provider_without_our_exporter_only_ended_spans_are_counted(sdk_logger: logging.Logger) -> None:
    provider = TracerProvider(shutdown_on_exit=False)
    tracing = Tracing(provider, SdkLog(shown=False))
    provider.get_tracer("test").start_span("span").end()
    assert tracing.finish() == Delivery(ended=1)
