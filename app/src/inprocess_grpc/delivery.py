"""What became of the spans, and a flush that ends: the extras around the canonical
set-up of `telemetry`, for a short-lived program that must not lose spans silently.

- `CountingExporter` wraps the OTLP exporter and counts what it delivered and what it
  failed to; a processor counts the spans the program ended. Spans ended but neither
  delivered nor failed were dropped by the batch processor's full queue
  (OTEL_BSP_MAX_QUEUE_SIZE), with a warning the user would not see.
- `SdkLog` keeps the errors the SDK logs while exporting: the exporter does not raise.
- `Tracing.finish` flushes within the exporter's own timeout, even when the backend is
  down, and returns the `Delivery`.
- Under `opentelemetry-instrument` the distro's provider and exporter are used as they
  are: only the ended spans and the logged errors are known then.
"""

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult


@dataclass
class Delivery:
    """What became of the spans the program ended. Under the distro only `ended` and
    the messages are known."""

    ended: int
    exported: int | None = None
    failed: int | None = None
    errors: list[str] = field(default_factory=list)  # the SDK's export errors, first line each
    retries: list[str] = field(default_factory=list)  # its warnings, such as a transient error retried

    @property
    def dropped(self) -> int | None:
        """Spans the SDK's queue dropped because it was full."""
        if self.exported is None or self.failed is None:
            return None
        return self.ended - self.exported - self.failed


class SdkLog(logging.Handler):
    """The SDK's log records while the program runs: errors and warnings kept for the
    verdict, and shown on stderr only when asked for (`--sdk-logs`).

    Without this, a retry warning per attempt and multi-line details would reach
    stderr through Python's last-resort handler; with `shown`, they do in one format.
    """

    def __init__(self, *, shown: bool) -> None:
        super().__init__(level=logging.WARNING)
        self.errors: list[str] = []
        self.warnings: list[str] = []
        sdk_logger = logging.getLogger("opentelemetry")
        sdk_logger.addHandler(self)
        # A logger with a handler of its own hides the last-resort output: the records
        # reach stderr only through a handler given here.
        sdk_logger.propagate = False
        if shown:
            stream = logging.StreamHandler()
            stream.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
            sdk_logger.addHandler(stream)

    def emit(self, record: logging.LogRecord) -> None:
        kept = self.errors if record.levelno >= logging.ERROR else self.warnings
        kept.append(record.getMessage().splitlines()[0])


class _EndedSpans(SpanProcessor):
    """Counts the spans the program ended: what it asked the SDK to deliver."""

    def __init__(self) -> None:
        self.count = 0

    def on_end(self, span: ReadableSpan) -> None:
        self.count += 1  # one += under the GIL per span; spans end in the app's threads


class CountingExporter(SpanExporter):
    """An exporter, counting what it delivered and what it failed to. After `stop_at`,
    exports fail at once: the final flush keeps to its bound."""

    def __init__(self, exporter: SpanExporter) -> None:
        self._exporter = exporter
        self._deadline = float("inf")
        self.exported = 0
        self.failed = 0

    @property
    def timeout(self) -> float:
        """Seconds one export may take, retries included: the OTLP exporter's own reading
        of OTEL_EXPORTER_OTLP_TRACES_TIMEOUT or OTEL_EXPORTER_OTLP_TIMEOUT (default 10).
        A test pins this private attribute, so an SDK upgrade that moves it fails there."""
        return float(self._exporter._timeout)  # type: ignore[attr-defined]

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        late = time.monotonic() >= self._deadline
        result = SpanExportResult.FAILURE if late else self._exporter.export(spans)
        if result is SpanExportResult.SUCCESS:
            self.exported += len(spans)
        else:
            self.failed += len(spans)
        return result

    def stop_at(self, deadline: float) -> None:
        self._deadline = deadline

    def abort(self) -> None:
        """Cut short an export in progress: its retries stop and its channel closes."""
        self._exporter.shutdown()

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.force_flush(timeout_millis)


class Tracing:
    """The provider in use and what to know about its spans when the program ends."""

    def __init__(self, provider: TracerProvider, log: SdkLog, exporter: CountingExporter | None = None) -> None:
        """`exporter` None: the distro's exporter, or none at all (SDK disabled)."""
        self.provider = provider
        self._log = log
        self._exporter = exporter
        self._ended = _EndedSpans()
        provider.add_span_processor(self._ended)

    def finish(self) -> Delivery:
        """Flush every span, shut down our own provider, and say what was delivered.

        The flush is bounded by the exporter's timeout (retries included), so this
        returns even when the backend is down, however many spans are still queued:
        at the bound the export in progress is cut short and the spans not yet sent
        count as failed.
        """
        if self._exporter is None:
            self.provider.force_flush()
            return self._delivery()

        bound = self._exporter.timeout
        self._exporter.stop_at(time.monotonic() + bound)
        watchdog = threading.Timer(bound, self._exporter.abort)
        watchdog.daemon = True
        watchdog.start()
        try:
            self.provider.force_flush()
        finally:
            watchdog.cancel()
        self.provider.shutdown()
        return self._delivery(self._exporter.exported, self._exporter.failed)

    def _delivery(self, exported: int | None = None, failed: int | None = None) -> Delivery:
        return Delivery(self._ended.count, exported, failed, list(self._log.errors), list(self._log.warnings))
