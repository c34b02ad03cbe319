"""Tracing over OTLP/gRPC, set up only from the standard OTEL_* variables: the pattern.

Copy this file as it is; it imports nothing but OpenTelemetry (the packages
opentelemetry-sdk and opentelemetry-exporter-otlp-proto-grpc). Call `start_tracing()`
once when your program starts, then `trace.get_tracer(__name__)` wherever it makes
spans. The SDK reads every setting itself:

- OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES: who the spans come from (the resource);
- OTEL_EXPORTER_OTLP_ENDPOINT, _HEADERS, _CERTIFICATE, _CLIENT_KEY, _CLIENT_CERTIFICATE,
  _TIMEOUT, _COMPRESSION: where the spans go, and how (the exporter);
- OTEL_BSP_*: how many spans wait, and how many go in one request (the batch processor);
- OTEL_TRACES_SAMPLER, OTEL_SDK_DISABLED: which traces are kept (the provider).

When the program exits, the provider flushes what is still queued. To try it alone,
`python tracing.py` sends one span, "hello", to OTEL_EXPORTER_OTLP_ENDPOINT
(http://localhost:4317 by default).

This app wraps the set-up from outside: the OTEL_* values checked first (env_checks),
what became of the spans counted, a flush that ends (delivery), the outcome said in
one line (outcome), all put together in traced_run.
"""

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter


def tracer_provider(exporter: SpanExporter | None = None, resource: Resource | None = None) -> TracerProvider:
    """A tracer provider that sends its spans in batches to `exporter`: by default the
    OTLP/gRPC exporter, configured by OTEL_EXPORTER_OTLP_*."""
    provider = TracerProvider(resource=resource or Resource.create())
    provider.add_span_processor(BatchSpanProcessor(exporter or OTLPSpanExporter()))
    return provider


def start_tracing() -> TracerProvider:
    """Make the tracer provider and install it for the whole program."""
    provider = tracer_provider()
    trace.set_tracer_provider(provider)
    return provider


if __name__ == "__main__":
    start_tracing()
    with trace.get_tracer(__name__).start_as_current_span("hello"):
        pass
