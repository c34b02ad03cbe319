"""Tracing set-up in one place: a tracer provider that exports over OTLP/gRPC.

Everything is configured by the standard OTEL_* environment variables, and the SDK
reads them itself: the exporter reads OTEL_EXPORTER_OTLP_*, the batch processor
OTEL_BSP_*, the provider OTEL_TRACES_SAMPLER and OTEL_SDK_DISABLED, the resource
OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES. This module adds only what the SDK
does not do for a short-lived program:

- a default service name, `inprocess-grpc`, where the environment gives none;
- a check of the OTEL_* values before anything runs (`env_checks`), because the SDK
  logs most malformed values and carries on with a default;
- a flush before exit, bounded by the exporter's timeout, that tells the caller how
  many spans were delivered, failed, or dropped by a full queue, so that a lost span
  is reported instead of passing silently.

Under `opentelemetry-instrument` the distro has already installed a tracer provider:
it is used as it is, so there is one provider and one export.
"""

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

# gRPC's C core writes each failed TLS handshake to stderr, several lines per export
# attempt; the failure is reported in one line instead (see `explain`). A user who
# wants gRPC's own logs sets GRPC_VERBOSITY. Must be set before grpc is first imported.
os.environ.setdefault("GRPC_VERBOSITY", "NONE")

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from inprocess_grpc.env_checks import ConfigError, check

__all__ = ["ConfigError", "Delivery", "Tracing", "explain", "start_tracing"]

DEFAULT_SERVICE_NAME = "inprocess-grpc"

# The SDK's own name for a resource without a service name ("unknown_service:python3").
_SDK_FALLBACK_SERVICE_NAME = "unknown_service"

# The exporter's default timeout in seconds, retries included (OTEL_EXPORTER_OTLP_TIMEOUT).
_DEFAULT_EXPORT_TIMEOUT = 10.0


# Marks in the exporter's error message, and what they usually mean for the user.
_NO_SUCH_HOST = "the endpoint's host is unknown here: check OTEL_EXPORTER_OTLP_ENDPOINT; is it on this network?"
_HINTS = (
    ("UNAUTHENTICATED", "the server rejected the credentials: check the token in OTEL_EXPORTER_OTLP_HEADERS"),
    ("WRONG_VERSION_NUMBER", "TLS client, plaintext server: use an http:// endpoint (no scheme means TLS)"),
    (
        "CERTIFICATE_VERIFY_FAILED",
        "the server's certificate is not signed by the CA in OTEL_EXPORTER_OTLP_CERTIFICATE, or does not name the host",
    ),
    (
        "TSI_DATA_CORRUPTED",
        "the server wants a client certificate (mTLS): set OTEL_EXPORTER_OTLP_CLIENT_KEY and _CLIENT_CERTIFICATE",
    ),
    ("http1.x server", "that port speaks HTTP/1.x, not gRPC: OTLP/gRPC is usually 4317 (4318 is OTLP/HTTP)"),
    ("Socket closed", "the server closed the connection: if it uses TLS, use an https:// endpoint"),
    ("Connection refused", "nothing listens there: is the backend running, and is the port right?"),
    # gRPC's resolvers word it either way.
    ("errors resolving", _NO_SUCH_HOST),
    ("DNS resolution failed", _NO_SUCH_HOST),
)


def explain(message: str) -> str:
    """The exporter's error message, preceded by what it most likely means."""
    for mark, hint in _HINTS:
        if mark in message:
            return f"{hint} ({message})"
    return message


class _ExportErrors(logging.Handler):
    """Keeps the errors the SDK logs while exporting, to report them in one line.

    The exporter does not raise: on failure it logs (a warning per retry, then an
    error) and drops the batch. Listening to those records is how a program learns
    that its spans were lost, whichever provider - ours or the distro's - exported.
    """

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage().splitlines()[0])


class _EndedSpans(SpanProcessor):
    """Counts the spans the program ended: what it asked the SDK to deliver."""

    def __init__(self) -> None:
        self.count = 0

    def on_end(self, span: ReadableSpan) -> None:
        self.count += 1  # one += under the GIL per span; spans end in the app's threads


class _CountingExporter(SpanExporter):
    """The OTLP exporter, counting what it delivered and what it failed to.

    Spans that were ended but neither delivered nor failed never reached the exporter:
    the batch processor's queue (OTEL_BSP_MAX_QUEUE_SIZE) was full and dropped them,
    with a warning the user would not see. Counting makes that loss visible.
    After `stop_at`, exports fail at once: the final flush keeps to its bound.
    """

    def __init__(self, exporter: SpanExporter) -> None:
        self._exporter = exporter
        self._deadline = float("inf")
        self.exported = 0
        self.failed = 0

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


@dataclass
class Delivery:
    """What became of the spans the program ended. Under the distro only `ended` is known."""

    ended: int
    exported: int | None = None
    failed: int | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def dropped(self) -> int | None:
        """Spans the SDK's queue dropped because it was full."""
        if self.exported is None or self.failed is None:
            return None
        return self.ended - self.exported - self.failed


@dataclass
class Tracing:
    """The provider in use, and what went wrong while it exported."""

    provider: TracerProvider
    _ended: _EndedSpans
    _errors: _ExportErrors
    _exporter: _CountingExporter | None = None  # None: the distro's exporter, or none (SDK disabled)

    def finish(self) -> Delivery:
        """Flush every span, shut down our own provider, and say what was delivered.

        The flush is bounded by the exporter's timeout (OTEL_EXPORTER_OTLP_TIMEOUT,
        retries included), so this returns even when the backend is down, however
        many spans are still queued: at the bound the export in progress is cut
        short and the spans not yet sent count as failed.
        """
        if self._exporter is None:
            self.provider.force_flush()
            return Delivery(self._ended.count, errors=list(self._errors.messages))

        bound = _export_timeout()
        self._exporter.stop_at(time.monotonic() + bound)
        watchdog = threading.Timer(bound, self._exporter.abort)
        watchdog.daemon = True
        watchdog.start()
        try:
            self.provider.force_flush()
        finally:
            watchdog.cancel()
        self.provider.shutdown()
        return Delivery(self._ended.count, self._exporter.exported, self._exporter.failed, list(self._errors.messages))


def _export_timeout() -> float:
    # The exporter read and checked the same variables; the traces one wins.
    for name in ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"):
        if os.environ.get(name):
            return float(os.environ[name])
    return _DEFAULT_EXPORT_TIMEOUT


def _resource() -> Resource:
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith(_SDK_FALLBACK_SERVICE_NAME):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    return resource


def start_tracing(*, sdk_logs: bool = False) -> Tracing:
    """Install the global tracer provider (unless the distro did) and return it.

    Raises ConfigError, before anything runs, when an OTEL_* value cannot work. With
    `sdk_logs` false, the SDK's own log records (a warning per export retry, multi-line
    details) are kept off stderr; the errors among them are in `Tracing.finish`'s
    answer instead.
    """
    check(os.environ)
    errors = _ExportErrors()
    sdk_logger = logging.getLogger("opentelemetry")
    sdk_logger.addHandler(errors)
    # A logger with a handler of its own hides Python's last-resort output: the SDK's
    # records reach stderr only through a handler given here.
    sdk_logger.propagate = False
    if sdk_logs:
        shown = logging.StreamHandler()
        shown.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        sdk_logger.addHandler(shown)

    ended = _EndedSpans()
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        current.add_span_processor(ended)
        return Tracing(current, ended, errors)

    # The provider is shut down by Tracing.finish, in the order the program chooses,
    # not by an atexit hook that would run after the exit status is decided.
    provider = TracerProvider(resource=_resource(), shutdown_on_exit=False)
    provider.add_span_processor(ended)
    if isinstance(provider.get_tracer(__name__), trace.NoOpTracer):
        # OTEL_SDK_DISABLED, as the SDK read it: no spans, so no exporter, and gRPC is
        # not even imported (about half of the start-up time; README, "Performance").
        trace.set_tracer_provider(provider)
        return Tracing(provider, ended, errors)

    # Imported only now: importing the exporter's package builds a Resource from
    # OTEL_RESOURCE_ATTRIBUTES, which would warn about a malformed value before `check`.
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    try:
        exporter = _CountingExporter(OTLPSpanExporter())
    except Exception as error:  # the SDK's checks beyond ours: one line, not a traceback
        raise ConfigError(f"the OTLP exporter rejects its OTEL_EXPORTER_OTLP_* settings: {error}") from None
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return Tracing(provider, ended, errors, exporter)
