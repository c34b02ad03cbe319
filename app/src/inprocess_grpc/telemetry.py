"""Tracing set-up in one place: a tracer provider that exports over OTLP/gRPC.

The pattern is the OpenTelemetry SDK's own, and every setting comes from the standard
OTEL_* variables, which the SDK reads itself: the exporter OTEL_EXPORTER_OTLP_*, the
batch processor OTEL_BSP_*, the provider OTEL_TRACES_SAMPLER and OTEL_SDK_DISABLED,
the resource OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES:

    provider = TracerProvider(resource=Resource.create())
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)

`start_tracing` is that, plus what a short-lived program needs: the OTEL_* values
checked before anything runs (`env_checks`), a default service name, and the
exporter wrapped so that the program learns what was delivered (`delivery`).
"""

import os

# gRPC's C core writes each failed TLS handshake to stderr, several lines per export
# attempt; the failure is reported in one line instead (`verdict`). A user who wants
# gRPC's own logs sets GRPC_VERBOSITY. Must be set before grpc is first imported.
os.environ.setdefault("GRPC_VERBOSITY", "NONE")

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from inprocess_grpc.delivery import CountingExporter, SdkLog, Tracing
from inprocess_grpc.env_checks import ConfigError, check

DEFAULT_SERVICE_NAME = "inprocess-grpc"


def start_tracing(*, sdk_logs: bool = False) -> Tracing:
    """Install the global tracer provider (unless the distro did) and return it.

    Raises ConfigError, before anything runs, when an OTEL_* value cannot work. The
    SDK's own log records reach stderr only with `sdk_logs`; the errors among them are
    in `Tracing.finish`'s answer either way.
    """
    check(os.environ)
    log = SdkLog(shown=sdk_logs)

    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):  # opentelemetry-instrument installed it: one provider, one export
        return Tracing(current, log)

    # Shut down by Tracing.finish, when the program chooses, not by an atexit hook
    # that would run after the exit status is decided.
    provider = TracerProvider(resource=_resource(), shutdown_on_exit=False)
    if isinstance(provider.get_tracer(__name__), trace.NoOpTracer):
        # OTEL_SDK_DISABLED, as the SDK read it: no spans, so no exporter, and gRPC is
        # not even imported (about half of the start-up time; docs/performance.md).
        trace.set_tracer_provider(provider)
        return Tracing(provider, log)

    exporter = CountingExporter(_otlp_exporter())
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return Tracing(provider, log, exporter)


def _resource() -> Resource:
    # Without OTEL_SERVICE_NAME the SDK names the service "unknown_service:python3".
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    return resource


def _otlp_exporter():  # -> OTLPSpanExporter, imported late (below)
    # Imported only now: importing the exporter's package builds a Resource from
    # OTEL_RESOURCE_ATTRIBUTES, which would warn about a malformed value before `check`.
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    try:
        return OTLPSpanExporter()
    except Exception as error:  # the SDK's checks beyond ours: one line, not a traceback
        raise ConfigError(f"the OTLP exporter rejects its OTEL_EXPORTER_OTLP_* settings: {error}") from None
