"""A trace written as an expectation file (`--record FILE`): the start of a team's own file.

It exists because writing the file by hand is the main cost of adopting the check. The
file holds what stays the same from one run of a request to the next: the tree, each
span's name, kind, status and service, and identical siblings folded into one entry with
a `count`. Of the attributes only the keys in STABLE_ATTRIBUTES (semantic conventions'
route, method, status code, database, RPC and messaging system; old and stable names),
and the keys a user adds (`--record-attributes`): never a port, host, id or timestamp,
which change with every run. The recorded file passes against the trace it came from;
a team then edits it (a regex for a name with an id, a count range, extra children).
"""

import json
import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from jaeger_smoke.expectation import KINDS
from jaeger_smoke.otlp import Span, Trace

STABLE_ATTRIBUTES = (
    "http.route",
    "http.method",
    "http.request.method",
    "http.status_code",
    "http.response.status_code",
    "db.system",
    "db.system.name",
    "db.operation",
    "db.operation.name",
    "rpc.system",
    "rpc.service",
    "rpc.method",
    "rpc.grpc.status_code",
    "messaging.system",
)
DESCRIPTION = "Recorded by jaeger-smoke --record; edit it to say what may vary (docs/smoke-test.md)."


class CannotRecord(Exception):
    """The trace is not one tree under its root; str() is the reason."""


def document(trace: Trace, root: Span, attribute_keys: Iterable[str] = STABLE_ATTRIBUTES) -> dict[str, Any]:
    """The expectation file (as JSON data) for `trace`, read from its span `root`."""
    children: dict[str, list[Span]] = {}
    for span in sorted(trace.spans, key=lambda span: (span.start_ns, span.name)):
        children.setdefault(span.parent_id, []).append(span)
    keys = tuple(dict.fromkeys(attribute_keys))
    under_root = _subtree_size(root, children)
    if under_root != len(trace.spans):
        outside = len(trace.spans) - under_root
        raise CannotRecord(
            f"{outside} of its {len(trace.spans)} spans are not under its root {root.name!r} (a parent missing from"
            " the trace?): record a complete trace"
        )
    return {
        "description": DESCRIPTION,
        "service": root.service,
        "root": _span(root, children, keys, root.service),
    }


def _subtree_size(span: Span, children: dict[str, list[Span]]) -> int:
    return 1 + sum(_subtree_size(child, children) for child in children.get(span.span_id, []))


def _span(span: Span, children: dict[str, list[Span]], keys: Sequence[str], service: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": span.name}
    if span.service != service:
        entry["service"] = span.service
    if span.kind in KINDS:  # "unspecified" is left unchecked
        entry["kind"] = span.kind
    if span.status != "unset":
        entry["status"] = span.status
    attributes = {key: span.attributes[key] for key in keys if key in span.attributes and _plain(span.attributes[key])}
    if attributes:
        entry["attributes"] = attributes
    folded: list[dict[str, Any]] = []
    for child in children.get(span.span_id, []):
        written = _span(child, children, keys, service)
        same = next((other for other in folded if {**other, "count": 1} == {**written, "count": 1}), None)
        if same is None:
            folded.append(written)
        else:
            same["count"] = same.get("count", 1) + 1
    if folded:
        entry["children"] = folded
    return entry


def _plain(value: object) -> bool:
    """A value the file can hold exactly: a string, boolean, finite number, or a list of them."""
    if isinstance(value, list):
        return all(_plain(item) and not isinstance(item, list) for item in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str | bool | int)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write(path: str, data: dict[str, Any]) -> None:
    """Write the file whole or not at all (OSError if it cannot be written)."""
    folder = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix=".jaeger-smoke-", suffix=".json", dir=folder)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        os.chmod(temporary, 0o666 & ~_umask())  # as open() would have made it
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
