"""Counting what became of the spans, and the flush that ends: with exporters made for
the test in place of a backend (the SDK's own provider and batch processor)."""

import logging
import threading
from collections.abc import Iterator, Sequence

import grpc
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from inprocess_grpc import tracing
from inprocess_grpc.delivery import CountingExporter, Delivery, ExportError, ExportLog
from inprocess_grpc.traced_run import TracedRun

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


def test_the_flush_bound_is_the_exporters_own_timeout() -> None:
    # The OTLP exporter's, as it reads its variables: tests/test_sdk_compat.py.
    assert CountingExporter(Answers()).timeout == 10.0
    assert CountingExporter(Hangs()).timeout == 0.2


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


def test_only_the_sdks_records_are_kept(log: ExportLog) -> None:
    logging.getLogger("urllib3.connectionpool").error("not the SDK's")
    logging.getLogger("opentelemetry.sdk.trace").error("the SDK's")
    assert log.errors == [ExportError(None, "the SDK's")]


def test_the_sdks_records_never_reach_the_programs_own_log_handlers(caplog: pytest.LogCaptureFixture) -> None:
    # caplog's handler is on the root logger, where a program's own logging set-up is.
    with ExportLog(shown=False):
        logging.getLogger(EXPORTER_LOG).error("Failed to export traces")
    assert caplog.records == []


def test_the_sdks_records_reach_stderr_only_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    with ExportLog(shown=False):
        logging.getLogger("opentelemetry.sdk").error("hidden")
    assert capsys.readouterr().err == ""
    with ExportLog(shown=True):
        logging.getLogger("opentelemetry.sdk").error("shown")
    assert capsys.readouterr().err == "ERROR opentelemetry.sdk: shown\n"


def test_detached_the_sdks_logger_is_as_it_was() -> None:
    before = (list(SDK_LOGGER.handlers), SDK_LOGGER.propagate)
    with ExportLog(shown=True):
        assert (list(SDK_LOGGER.handlers), SDK_LOGGER.propagate) != before
    assert (list(SDK_LOGGER.handlers), SDK_LOGGER.propagate) == before


def traced_run(exporter: SpanExporter | None) -> TracedRun:
    """A run on the pattern's provider (tracing.py), counting with `exporter` (None: the
    provider's own exporter, which the run does not count)."""
    counting = CountingExporter(exporter) if exporter else None
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
    run = traced_run(Hangs())
    run.tracer.start_span("span").end()
    # The export in progress is aborted at the bound: the span counts as failed.
    assert run.finish() == Delivery(ended=1, exported=0, failed=1)


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
