"""The pattern (tracing.py) in process: `start_tracing` makes the provider the README
shows, the OTLP/gRPC exporter behind a batch processor, and installs it for the whole
program. Copied alone, it exports to a real Jaeger: tests/test_pattern_copied_alone.py."""

from collections.abc import Sequence

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from inprocess_grpc import tracing

pytestmark = pytest.mark.fast


class OTLPStandIn(SpanExporter):
    """Made where the pattern makes the OTLP/gRPC exporter; keeps what it is given."""

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def test_start_tracing_installs_its_provider_which_sends_spans_in_batches_to_the_otlp_exporter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    installed: list = []  # caught: the process's global provider can be set only once
    monkeypatch.setattr(trace, "set_tracer_provider", installed.append)
    made: list[OTLPStandIn] = []
    monkeypatch.setattr(tracing, "OTLPSpanExporter", lambda: made.append(OTLPStandIn()) or made[-1])
    monkeypatch.setenv("OTEL_SERVICE_NAME", "checkout")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "60000")  # a batch goes when full, or at a flush
    provider = tracing.start_tracing()
    try:
        assert installed == [provider]
        [exporter] = made
        provider.get_tracer("test").start_span("hello").end()
        assert exporter.spans == []  # batched: not sent as the span ends
        provider.force_flush()
        assert [(span.name, span.resource.attributes["service.name"]) for span in exporter.spans] == [
            ("hello", "checkout")
        ]
    finally:
        provider.shutdown()
