#!/usr/bin/env python3
"""Smoke test: is the app's trace in Jaeger, with the right shape?

Run it after `docker compose up` (or in any CI). It polls Jaeger's HTTP API for the
newest trace of the service, then compares the trace's span tree with the tree the
app must produce:

    main
      GetUser user.id=1
        GetInfo user.id=1
        GetDetail user.id=1
        GetScores user.id=1
      GetUser user.id=100
        ...

Parent links are read from CHILD_OF references; every span must belong to the
service; siblings are listed in start order. On a mismatch it prints a diff of the
two trees. Standard library only.

Exit status: 0 the trace is right; 1 no such trace in time, or a wrong shape;
2 bad arguments; 3 Jaeger unreachable, or the URL is not Jaeger.
"""

import argparse
import difflib
import os
import sys
import time
from collections.abc import Sequence

from jaeger_api import JaegerAPI, JaegerUnreachable, NotJaeger, Trace, check_url, url_from_env

EXIT_OK, EXIT_MISMATCH, EXIT_USAGE, EXIT_NO_JAEGER = 0, 1, 2, 3
ROOT = "main"
LOOKUPS = ("GetInfo", "GetDetail", "GetScores")  # GetUser's children, in call order
USER_ID = "user.id"
POLL_INTERVAL = 0.5


def expected_outline(service: str, user_ids: Sequence[int]) -> list[str]:
    """The span tree the app makes for these ids, one line a span."""
    lines = [f"{ROOT} [{service}]"]
    for user_id in user_ids:
        lines.append(f"  GetUser [{service}] {USER_ID}={user_id}")
        lines.extend(f"    {name} [{service}] {USER_ID}={user_id}" for name in LOOKUPS)
    return lines


def outline(trace: Trace) -> list[str]:
    """The span tree Jaeger holds, in the same form as `expected_outline`.

    Anything that would make the tree wrong shows in a line: a reference that is not
    CHILD_OF, a parent missing from the trace, a span marked as an error.
    """
    spans = {span["spanID"]: span for span in trace["spans"]}
    children: dict[str | None, list[dict]] = {}
    notes: dict[str, list[str]] = {}
    for span in spans.values():
        parent = None
        for ref in span.get("references", []):
            if ref["refType"] != "CHILD_OF":
                notes.setdefault(span["spanID"], []).append(f"({ref['refType']} reference)")
            elif ref["spanID"] in spans:
                parent = ref["spanID"]
            else:
                notes.setdefault(span["spanID"], []).append("(parent not in trace)")
        children.setdefault(parent, []).append(span)

    lines: list[str] = []

    def visit(span: dict, depth: int) -> None:
        tags = {tag["key"]: tag["value"] for tag in span.get("tags", [])}
        service = trace["processes"][span["processID"]]["serviceName"]
        words = [span["operationName"], f"[{service}]"]
        if USER_ID in tags:
            words.append(f"{USER_ID}={tags[USER_ID]}")
        if tags.get("error") is True or tags.get("otel.status_code") == "ERROR":
            words.append("(error)")
        words += notes.get(span["spanID"], [])
        lines.append("  " * depth + " ".join(words))
        for child in sorted(children.get(span["spanID"], []), key=lambda s: s["startTime"]):
            visit(child, depth + 1)

    for root in sorted(children.get(None, []), key=lambda s: s["startTime"]):
        visit(root, 0)
    return lines


def newest_trace_id(api: JaegerAPI, service: str) -> str | None:
    """The id of the service's newest trace whose root is `main`, if any."""
    if service not in api.services():
        return None
    roots = [
        (span["startTime"], trace["traceID"])
        for trace in api.traces(service)
        for span in trace["spans"]
        if span["operationName"] == ROOT and not span.get("references")
    ]
    return max(roots)[1] if roots else None


def check(api: JaegerAPI, service: str, user_ids: Sequence[int], trace_id: str | None, timeout: float) -> int:
    """Poll until the trace has the expected shape or time is up; report; return the status."""
    expected = expected_outline(service, user_ids)
    found: list[str] = []
    unreachable = None
    deadline = time.monotonic() + timeout
    while True:
        try:
            wanted = trace_id or newest_trace_id(api, service)
            trace = api.trace(wanted) if wanted else None
            unreachable = None
            if trace is not None:
                found = outline(trace)
                if found == expected:
                    print(f"ok: trace {wanted} has the expected {len(found)} spans: {api.base_url}/trace/{wanted}")
                    return EXIT_OK
        except JaegerUnreachable as error:
            unreachable = error  # Jaeger may still be starting: keep polling
        except NotJaeger as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_NO_JAEGER
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL_INTERVAL)

    if unreachable is not None:
        print(f"error: {unreachable} (waited {timeout:g}s)", file=sys.stderr)
        return EXIT_NO_JAEGER
    if not found:
        which = f"trace {trace_id}" if trace_id else f"trace of service {service!r} with root span {ROOT!r}"
        print(f"FAIL: no {which} in Jaeger at {api.base_url} after {timeout:g}s", file=sys.stderr)
        return EXIT_MISMATCH
    print(f"FAIL: the trace in Jaeger does not have the expected shape ({api.base_url}):", file=sys.stderr)
    for line in difflib.unified_diff(expected, found, "expected", "found in Jaeger", lineterm=""):
        print(line, file=sys.stderr)
    return EXIT_MISMATCH


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"invalid timeout {text!r}: expected seconds above 0, for example 30")
    return value


def _jaeger_url(text: str) -> str:
    try:
        return check_url(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"invalid Jaeger URL (--jaeger-url or JAEGER_URL): {error}") from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line and status 2, not argparse's usage block.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--service",
        default=os.environ.get("OTEL_SERVICE_NAME", "inprocess-grpc"),
        help="service name to look for (default: $OTEL_SERVICE_NAME or inprocess-grpc)",
    )
    parser.add_argument(
        "--user-ids", type=int, nargs="+", default=[1, 100], help="ids the app looked up (default: 1 100)"
    )
    parser.add_argument("--trace-id", help="check this trace instead of the service's newest")
    parser.add_argument("--timeout", type=_seconds, default=30.0, help="seconds to wait (default: 30)")
    parser.add_argument(
        "--jaeger-url",
        type=_jaeger_url,
        default=url_from_env(),
        help="query service (default: $JAEGER_URL or %(default)s)",
    )
    args = parser.parse_args(argv)
    return check(JaegerAPI(args.jaeger_url), args.service, args.user_ids, args.trace_id, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
