"""The app's spans, kept in memory as the SDK's queue keeps them: for the benchmarks that
look at one span's cost (to create, encode, send) or size."""

from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from inprocess_grpc import users

WARM_UP = 500  # calls, before anything is measured


class _Keep(SpanExporter):
    def __init__(self, kept: list[ReadableSpan]) -> None:
        self.kept = kept

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.kept.extend(spans)
        return SpanExportResult.SUCCESS


def keeping_provider() -> list[ReadableSpan]:
    """Install a tracer provider that appends each ended span to the list it returns,
    and run the app's code a little first; the list is empty on return."""
    kept: list[ReadableSpan] = []
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_Keep(kept)))
    trace.set_tracer_provider(provider)
    for _ in range(WARM_UP):
        users.get_user(100)
    kept.clear()
    return kept
