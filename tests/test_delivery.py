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

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.calls += 1
        return self.results.pop(0)


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
    exporter = CountingExporter(Answers(SpanExportResult.SUCCESS, SpanExportResult.FAILURE, SpanExportResult.SUCCESS))
    exporter.export(SPANS[:3])
    exporter.export(SPANS[:2])
    exporter.export(SPANS[:1])
    assert (exporter.exported, exporter.failed) == (4, 2)


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
