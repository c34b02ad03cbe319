"""What became of the spans, and a flush that ends: the accounting a short-lived program
needs around the set-up of `tracing`, so that it never loses spans silently.

- `CountingExporter` wraps the OTLP exporter and counts what it delivered and what it
  failed to; `EndedSpans` counts the spans the program ended. Spans ended but neither
  delivered nor failed were dropped by the batch processor's full queue
  (OTEL_BSP_MAX_QUEUE_SIZE), with a warning the user would not see.
- `ExportLog` keeps the errors the SDK logs while exporting (the exporter logs them, it
  does not raise), each with its gRPC status code, for the outcome's hint.
- `flush_within` flushes within the export timeout (`export_timeout`), even when the
  backend is down, however many spans are queued.
"""

import logging
import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType

from opentelemetry.sdk.environment_variables import OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_EXPORTER_OTLP_TRACES_TIMEOUT
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

DEFAULT_EXPORT_TIMEOUT = 10.0


def export_timeout(environ: Mapping[str, str] = os.environ) -> float:
    """Seconds one OTLP export may take, retries included: OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
    else OTEL_EXPORTER_OTLP_TIMEOUT, else 10. Seconds, as opentelemetry-python reads them
    (the specification says milliseconds); the app gives this value to its exporter, so
    the exporter and the flush keep to the same bound."""
    for name in (OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, OTEL_EXPORTER_OTLP_TIMEOUT):
        if value := environ.get(name, "").strip():  # empty means unset (env_checks refuses the rest)
            return float(value)
    return DEFAULT_EXPORT_TIMEOUT


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
    through Python's last-resort handler, which logging uses only when no handler is
    found: with it, they reach stderr only with `shown`, in one format, and the program's
    own handlers as the program set them. Detached, the SDK's logger is as it was.
    """

    def __init__(self, *, shown: bool) -> None:
        super().__init__(level=logging.WARNING)
        self.errors: list[ExportError] = []
        self.warnings: list[ExportError] = []
        self._shown = logging.StreamHandler() if shown else None
        if self._shown:
            self._shown.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self._logger = logging.getLogger("opentelemetry")

    def attach(self) -> "ExportLog":
        self._logger.addHandler(self)
        if self._shown:
            self._logger.addHandler(self._shown)
        return self

    def detach(self) -> None:
        self._logger.removeHandler(self)
        if self._shown:
            self._logger.removeHandler(self._shown)

    def __enter__(self) -> "ExportLog":
        return self.attach()

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.detach()

    def emit(self, record: logging.LogRecord) -> None:
        kept = self.errors if record.levelno >= logging.ERROR else self.warnings
        kept.append(ExportError(_grpc_status(record), record.getMessage().splitlines()[0]))


def _grpc_status(record: logging.LogRecord) -> str | None:
    """The name of the gRPC status code among a record's arguments ("UNAVAILABLE"): the OTLP
    exporter logs a failed export and each retry with the call's `code()`. None for any
    other record."""
    # A record holds a StatusCode only once gRPC is imported: it is not imported here,
    # where a run with the SDK disabled never needs it.
    grpc = sys.modules.get("grpc")
    arguments = record.args if isinstance(record.args, tuple) else ()
    codes = [argument for argument in arguments if grpc and isinstance(argument, grpc.StatusCode)]
    return codes[0].name if codes else None


class EndedSpans(SpanProcessor):
    """Counts the spans the program ended: what it asked the SDK to deliver."""

    def __init__(self) -> None:
        self.count = 0

    def on_end(self, span: ReadableSpan) -> None:
        self.count += 1  # one += under the GIL per span; spans end in the app's threads


class CountingExporter(SpanExporter):
    """An exporter, counting what it delivered and what it failed to. `timeout`: the
    seconds one of its exports may take, retries included (`export_timeout`). After
    `stop_at`, exports fail at once: the final flush keeps to its bound."""

    def __init__(self, exporter: SpanExporter, timeout: float) -> None:
        self._exporter = exporter
        self.timeout = timeout
        self._deadline = float("inf")
        self.exported = 0
        self.failed = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        late = time.monotonic() >= self._deadline
        try:
            result = SpanExportResult.FAILURE if late else self._exporter.export(spans)
        except Exception:
            # An export cut short by `abort` can raise (gRPC's closed channel): the SDK
            # logs it, and its spans failed, as much as those of an export that returned.
            self.failed += len(spans)
            raise
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
    (`CountingExporter.timeout`, retries included), even when the backend is down, however many spans are queued:
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
