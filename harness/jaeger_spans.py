"""Counting the spans Jaeger holds, for the fault and scale tests and the benchmarks:
what a load run delivered, read through the smoke test's own client (jaeger_smoke.api,
Jaeger's api_v3), so the tests read Jaeger exactly as a user's CI does.

The count is a test's concern, not a user's: it lives here, not in the package."""

from jaeger_smoke.api import JaegerClient

# A search in a one-second window asks for every trace in it.
ALL_TRACES = 1_000_000


def spans_by_trace(
    query_url: str, service: str, since: float, until: float, *, timeout: float = 60, step: float = 1.0
) -> dict[str, list[str]]:
    """The span ids (repeats kept) of each trace of `service` that started from `since` to
    `until` (Unix seconds). Asked `step` seconds at a time, so that no answer gets huge; a
    trace found in two steps is counted once."""
    client = JaegerClient(query_url, timeout=timeout)
    traces: dict[str, list[str]] = {}
    start = since
    while start < until:
        end = min(start + step, until)
        for trace in client.search(service, start, end, limit=ALL_TRACES):
            traces[trace.trace_id] = [span.span_id for span in trace.spans]
        start = end
    return traces


def span_count(query_url: str, service: str, since: float, until: float, *, timeout: float = 30) -> int:
    """How many spans of `service` Jaeger holds in traces from `since` to `until`."""
    return sum(len(ids) for ids in spans_by_trace(query_url, service, since, until, timeout=timeout).values())
