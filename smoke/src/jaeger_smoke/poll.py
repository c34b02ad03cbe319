"""Waiting for the trace: Jaeger is asked until the trace is complete and stable, or time is up.

It exists because spans reach Jaeger in batches, from each process of a trace on its own
schedule: a verdict on the first answer could judge half a trace. So the trace counts as
complete once it holds at least as many spans as the expectation declares and two polls
in a row saw the same spans. A complete, stable trace gets its verdict at once, right or
wrong; until then the polls go on, within the timeout, and at the end the caller judges
what there is. Jaeger unreachable (still starting, say) is retried; an answer that is not
Jaeger's, or a TLS failure, ends the wait at once.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from jaeger_smoke.api import JaegerClient, JaegerUnreachable, NotJaeger, TLSFailed
from jaeger_smoke.compare import root_start
from jaeger_smoke.expectation import Expectation
from jaeger_smoke.otlp import Trace

POLL_INTERVAL = 0.5  # s between polls
REQUEST_TIMEOUT = 10  # s, at most, for one request (less when less time is left)
SEARCH_LIMIT = 20  # traces a search asks for: the newest is among them
# The search window ends this far past the local clock: a span's start time comes from
# the clock of the process that made it, which may run ahead of ours.
CLOCK_SKEW = 60  # s


@dataclass
class Outcome:
    trace: Trace | None  # the last trace seen: the newest that can be the expected one, or the one asked for
    stable: bool  # complete, and the same spans in two polls in a row
    error: Exception | None  # why Jaeger gave no answer: NotJaeger or TLSFailed at once, else the last failure


def newest_trace(client: JaegerClient, expectation: Expectation, since: float, timeout: float) -> Trace | None:
    """The newest trace that started in the last `since` seconds with a span that can be
    the expectation's root (no parent, the root's name and service)."""
    root = expectation.root
    now = time.time()
    found = client.search(
        expectation.service_of(root), now - since, now + CLOCK_SKEW, operation=root.name, limit=SEARCH_LIMIT,
        timeout=timeout,
    )  # fmt: skip
    dated = [(start, trace) for trace in found if (start := root_start(expectation, trace)) is not None]
    return max(dated, key=lambda pair: pair[0])[1] if dated else None


def wait(
    client: JaegerClient,
    expectation: Expectation,
    *,
    trace_id: str | None,
    since: float,
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Poll until the trace (`trace_id`, or the newest that fits) is complete and stable,
    for at most `timeout` seconds."""
    deadline = clock() + timeout
    expected_spans = expectation.total()
    trace: Trace | None = None
    error: Exception | None = None
    seen: tuple[str, tuple[str, ...]] | None = None  # the last poll's trace id and span ids
    while True:
        request_timeout = min(REQUEST_TIMEOUT, max(deadline - clock(), 0.1))
        try:
            if trace_id is None:
                latest = newest_trace(client, expectation, since, request_timeout)
            else:
                latest = client.trace(trace_id, timeout=request_timeout)
        except (NotJaeger, TLSFailed) as final:
            return Outcome(trace, False, final)
        except JaegerUnreachable as failure:
            error = failure  # Jaeger may be starting: poll on
        else:
            error = None
            if latest is not None:
                spans = (latest.trace_id, tuple(sorted(span.span_id for span in latest.spans)))
                if len(latest.spans) >= expected_spans and spans == seen:
                    return Outcome(latest, True, None)
                trace, seen = latest, spans
            else:
                seen = None
        left = deadline - clock()
        if left <= 0:
            return Outcome(trace, False, error)
        sleep(min(POLL_INTERVAL, left))
