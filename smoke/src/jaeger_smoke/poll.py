"""Waiting for the trace: Jaeger is asked until the trace is complete and settled, or time is up.

It exists because spans reach Jaeger in batches, from each process of a trace on its own
schedule: a verdict on the first answer could judge half a trace. So the trace counts as
complete once it holds at least as many spans as the expectation declares, in one tree
(a root, and every span's parent: a missing one is still in a process's batch), and settled
once two polls at least `settle` seconds apart saw the same spans (the later one sent
`settle` seconds after the earlier one's answer came): nothing new arrived in between.
A complete, settled trace gets its verdict at once, right or wrong; until then the polls
go on, within the timeout, and at the end the caller judges what there is. Jaeger
unreachable (still starting, say) is retried; an answer that is not Jaeger's, or a TLS
failure, ends the wait at once.

The default settle comes from a measurement of how late Jaeger stores the last span of
one export after its first (Jaeger v2 writes through its exporter's queue, in batches):
docs/project/performance.md. `--settle` changes it.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from jaeger_smoke.api import JaegerClient, JaegerUnreachable, NotJaeger, TLSFailed
from jaeger_smoke.otlp import Span, Trace

POLL_INTERVAL = 0.1  # s between polls while the trace is incomplete
SETTLE = 0.4  # s the same spans must stay for a verdict (--settle): above the longest store lag measured
REQUEST_TIMEOUT = 10  # s, at most, for one request (less when less time is left)
SEARCH_LIMIT = 20  # traces a search asks for: the newest is among them
# The search window ends this far past the local clock: a span's start time comes from
# the clock of the process that made it, which may run ahead of ours.
CLOCK_SKEW = 60  # s


@dataclass
class Outcome:
    trace: Trace | None  # the last trace seen: the newest that can be the expected one, or the one asked for
    stable: bool  # complete, and the same spans in two polls `settle` apart
    error: Exception | None  # why Jaeger gave no answer: NotJaeger or TLSFailed at once, else the last failure


@dataclass(frozen=True)
class Wanted:
    """Which trace: `trace_id`; else the newest with a root span (`is_root`) of `service`,
    named `operation` if given, started in the last `since` seconds."""

    service: str
    is_root: Callable[[Span], bool]
    operation: str | None = None
    since: float = 900.0
    trace_id: str | None = None
    least_spans: int = 1  # complete: at least this many spans


def newest_trace(client: JaegerClient, wanted: Wanted, timeout: float) -> Trace | None:
    """The newest trace that started in the last `since` seconds with a span that can be its root."""
    now = time.time()
    found = client.search(
        wanted.service, now - wanted.since, now + CLOCK_SKEW, operation=wanted.operation, limit=SEARCH_LIMIT,
        timeout=timeout,
    )  # fmt: skip
    dated = [(max(starts), trace) for trace in found if (starts := root_starts(wanted, trace))]
    return max(dated, key=lambda pair: pair[0])[1] if dated else None


def root_starts(wanted: Wanted, trace: Trace) -> list[int]:
    return [span.start_ns for span in trace.spans if wanted.is_root(span)]


def _complete(wanted: Wanted, trace: Trace) -> bool:
    # As many spans as expected, in one tree: a root, and every parent there. A parent not
    # there yet (the root among them) is in the batch of a process that has not exported.
    ids = {span.span_id for span in trace.spans}
    parents = {span.parent_id for span in trace.spans}
    return len(trace.spans) >= wanted.least_spans and "" in parents and parents <= ids | {""}


def wait(
    client: JaegerClient,
    wanted: Wanted,
    *,
    timeout: float,
    settle: float = SETTLE,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Poll until the trace is complete and settled, for at most `timeout` seconds."""
    deadline = clock() + timeout
    trace: Trace | None = None
    error: Exception | None = None
    seen: tuple[str, tuple[str, ...]] | None = None  # the trace id and span ids of the polls since seen_at
    seen_at = 0.0  # when the first poll that saw them had its answer
    while True:
        asked_at = clock()
        request_timeout = min(REQUEST_TIMEOUT, max(deadline - asked_at, 0.1))
        try:
            if wanted.trace_id is None:
                latest = newest_trace(client, wanted, request_timeout)
            else:
                latest = client.trace(wanted.trace_id, timeout=request_timeout)
        except (NotJaeger, TLSFailed) as final:
            return Outcome(trace, False, final)
        except JaegerUnreachable as failure:
            error = failure  # Jaeger may be starting: poll on
        else:
            error = None
            if latest is None:
                seen = None
            else:
                spans = (latest.trace_id, tuple(sorted(span.span_id for span in latest.spans)))
                complete = _complete(wanted, latest)
                if complete and spans == seen and asked_at - seen_at >= settle:
                    return Outcome(latest, True, None)
                if spans != seen:
                    seen, seen_at = spans, clock()
                trace = latest
        now = clock()
        left = deadline - now
        if left <= 0:
            return Outcome(trace, False, error)
        if trace is not None and seen is not None and _complete(wanted, trace):
            pause = seen_at + settle - now  # ask again once the settle is over
        else:
            pause = POLL_INTERVAL
        sleep(min(max(pause, 0.0), left))
