"""What became of the spans, and a flush that ends: the accounting a short-lived program
needs around the set-up of `tracing`, so that it never loses spans silently.

- `CountingExporter` wraps the OTLP exporter and counts what it delivered and what it
  failed to; `EndedSpans` counts the spans the program ended. Spans ended but neither
  delivered nor failed were dropped by the batch processor's full queue
  (OTEL_BSP_MAX_QUEUE_SIZE), with a warning the user would not see.
- `ExportLog` keeps the errors the SDK logs while exporting (the exporter logs them, it
  does not raise), each with its gRPC status code, for the outcome's hint.
- `flush_within` flushes within the exporter's own timeout, even when the backend is
  down, however many spans are queued.
"""

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from inprocess_grpc import sdk_compat


@dataclass(frozen=True)
class ExportError:
    """One error or retry the SDK logged: the gRPC status code, where the record has one,
    and the message's first line."""

    status: str | None
    message: str


@dataclass
class Delivery:
    """What became of the spans the program ended. Under a provider that is not the app's
    (the distro's), only `ended` and the logged errors are known."""

    ended: int
    exported: int | None = None
    failed: int | None = None
    errors: list[ExportError] = field(default_factory=list)  # the SDK's export errors
    retries: list[ExportError] = field(default_factory=list)  # its warnings: transient errors retried

    @property
    def dropped(self) -> int | None:
        """Spans the SDK's queue dropped because it was full."""
        if self.exported is None or self.failed is None:
            return None
        return self.ended - self.exported - self.failed


class ExportLog(logging.Handler):
    """The SDK's log records while the program runs, from `attach()` to `detach()` (or
    the two ends of a `with` block): errors and warnings kept, and shown on stderr only
    when asked for (`shown`).

    Without it, a retry warning per attempt and multi-line details would reach stderr
    through Python's last-resort handler; with `shown`, they do in one format. Detached,
    the SDK's logger is as it was.
    """

    def __init__(self, *, shown: bool) -> None:
        super().__init__(level=logging.WARNING)
        self.errors: list[ExportError] = []
        self.warnings: list[ExportError] = []
        self._shown = logging.StreamHandler() if shown else None
        if self._shown:
            self._shown.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self._logger = logging.getLogger("opentelemetry")
        self._propagate = self._logger.propagate

    def attach(self) -> "ExportLog":
        self._logger.addHandler(self)
        if self._shown:
            self._logger.addHandler(self._shown)
        # A logger with a handler of its own hides the last-resort output: the records
        # reach stderr only through the handler given here, and never the program's own
        # handlers on the root logger.
        self._logger.propagate = False
        return self

    def detach(self) -> None:
        self._logger.removeHandler(self)
        if self._shown:
            self._logger.removeHandler(self._shown)
        self._logger.propagate = self._propagate

    def __enter__(self) -> "ExportLog":
        return self.attach()

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.detach()

    def emit(self, record: logging.LogRecord) -> None:
        kept = self.errors if record.levelno >= logging.ERROR else self.warnings
        kept.append(ExportError(sdk_compat.grpc_status(record), record.getMessage().splitlines()[0]))


class EndedSpans(SpanProcessor):
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
        """Seconds one export may take, retries included: the wrapped exporter's own."""
        return sdk_compat.export_timeout(self._exporter)

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


def flush_within(provider: TracerProvider, exporter: CountingExporter) -> None:
    """Flush every span and shut the provider down, within the exporter's timeout
    (retries included), even when the backend is down, however many spans are queued:
    at the bound the export in progress is cut short, and the spans not yet sent count
    as failed."""
    bound = exporter.timeout
    exporter.stop_at(time.monotonic() + bound)
    watchdog = threading.Timer(bound, exporter.abort)
    watchdog.daemon = True
    watchdog.start()
    try:
        provider.force_flush()
    finally:
        watchdog.cancel()
    provider.shutdown()
