"""One run's tracing: the set-up of `tracing`, with the app's extras around it.

Before it: the OTEL_* values checked (`env_checks`), a default service name, the SDK's
log records kept (`delivery.ExportLog`). Around it: the OTLP exporter wrapped to count
what it delivered, and the spans ended counted. After it: the flush that ends, and
what became of the spans (`delivery`), for the outcome's line (`outcome`).

Under `opentelemetry-instrument` the distro's provider and exporter are used as they
are: only the ended spans and the logged errors are known then.
"""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.sdk.environment_variables import OTEL_SDK_DISABLED
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from inprocess_grpc.delivery import CountingExporter, Delivery, EndedSpans, ExportLog, export_timeout, flush_within
from inprocess_grpc.env_checks import ConfigError, check

DEFAULT_SERVICE_NAME = "inprocess-grpc"
INSTRUMENTATION_SCOPE = "inprocess_grpc"


class TracedRun:
    """A run's tracer provider and tracer, and what became of its spans when it ends."""

    def __init__(self, provider: TracerProvider, log: ExportLog, exporter: CountingExporter | None = None) -> None:
        """`exporter` None: the distro's exporter, or none at all (the SDK disabled)."""
        self.provider = provider
        self.tracer = provider.get_tracer(INSTRUMENTATION_SCOPE)
        self._log = log
        self._exporter = exporter
        self._ended = EndedSpans()
        provider.add_span_processor(self._ended)

    def finish(self) -> Delivery:
        """Flush every span, within the exporter's timeout where the exporter is ours
        (delivery.flush_within), and say what became of them. The SDK's logger is left
        as it was found."""
        try:
            if self._exporter is None:
                self.provider.force_flush()
                exported = failed = None
            else:
                flush_within(self.provider, self._exporter)
                exported, failed = self._exporter.exported, self._exporter.failed
        finally:
            self._log.detach()
        return Delivery(self._ended.count, exported, failed, list(self._log.errors), list(self._log.warnings))


def start(
    *, sdk_logs: bool = False, exporter: SpanExporter | None = None, provider: TracerProvider | None = None
) -> TracedRun:
    """Check the OTEL_* values, then set tracing up the way `tracing` does, with the
    app's accounting around it. Raises ConfigError, before anything runs, for a value
    that cannot work. The SDK's own log records reach stderr only with `sdk_logs`.

    `exporter` stands in for the OTLP exporter; `provider` for one set up
    already: given either, nothing of the process's global state changes. Otherwise the
    provider is installed for the whole program, as the pattern does, unless the distro
    (`opentelemetry-instrument`) installed one first: then that one is used.
    """
    check(os.environ)
    if provider is None and exporter is None and isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = trace.get_tracer_provider()  # the distro's: one provider, one export
    log = ExportLog(shown=sdk_logs).attach()
    if provider is not None:
        return TracedRun(provider, log)

    resource = _resource()
    if sdk_disabled():
        # No spans: no exporter, and gRPC is not even imported (about half of the
        # start-up time; docs/project/performance.md).
        disabled = TracerProvider(resource=resource, shutdown_on_exit=False)
        if exporter is None:
            trace.set_tracer_provider(disabled)
        return TracedRun(disabled, log)

    with _grpc_core_quiet():
        from inprocess_grpc import tracing  # the pattern, made only now (it imports gRPC)
    timeout = export_timeout(os.environ)
    counting = CountingExporter(exporter or _otlp_exporter(log, timeout), timeout)
    try:
        made = tracing.tracer_provider(counting, resource)
    except ValueError as error:  # the batch processor's own check of OTEL_BSP_*
        log.detach()
        variables = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE / OTEL_BSP_MAX_QUEUE_SIZE"
        raise ConfigError(f"{variables} refused by the SDK's batch span processor: {error}") from None
    if exporter is None:
        trace.set_tracer_provider(made)
    return TracedRun(made, log, counting)


def _resource() -> Resource:
    # Without OTEL_SERVICE_NAME the SDK names the service "unknown_service:python3".
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    return resource


def sdk_disabled() -> bool:
    """OTEL_SDK_DISABLED, as the SDK's TracerProvider reads it: "true" in any case,
    spaces around allowed; anything else is not (env_checks refuses what is neither)."""
    return os.environ.get(OTEL_SDK_DISABLED, "").strip().lower() == "true"


@contextmanager
def _grpc_core_quiet() -> Iterator[None]:
    """gRPC's C core writes each failed TLS handshake to stderr, several lines per export
    attempt; the failure is reported in one line instead (`outcome`). The core reads
    GRPC_VERBOSITY once, when gRPC is first imported: it is "NONE" for that import only,
    unless the user set it (to see gRPC's own logs) or gRPC was imported already."""
    if "grpc" in sys.modules or "GRPC_VERBOSITY" in os.environ:
        yield
        return
    os.environ["GRPC_VERBOSITY"] = "NONE"
    try:
        yield
    finally:
        del os.environ["GRPC_VERBOSITY"]


def _otlp_exporter(log: ExportLog, timeout: float) -> SpanExporter:
    """The OTLP/gRPC exporter, as the SDK builds it from OTEL_EXPORTER_OTLP_*, given the
    timeout the final flush keeps to (delivery.export_timeout)."""
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    try:
        return OTLPSpanExporter(timeout=timeout)
    except Exception as error:  # the SDK's checks beyond ours: one line, not a traceback
        log.detach()
        raise ConfigError(f"the OTLP exporter rejects its OTEL_EXPORTER_OTLP_* settings: {error}") from None
