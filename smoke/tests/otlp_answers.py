"""Traces as Jaeger's api_v3 answers them, in the spellings the client must read:

- "1.55": hex ids, enums as numbers, a root's `"parentSpanId": ""`, one resourceSpans
  group per service holding every trace's spans;
- "v2": hex ids, enums as numbers, no `parentSpanId` on a root, one group per trace;
- "protobuf": OTLP's canonical JSON, base64 ids and enum names, one object per span
  (a streamed answer).

A trace is written as nested tuples, `node(name, *children, service=, kind=, ...)`,
with ids and times given out in order, so that a test states only the shape.
"""

import base64
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
STATUSES = ("unset", "ok", "error")
SERVICE = "shop"


@dataclass
class Node:
    name: str
    children: tuple["Node", ...] = ()
    service: str = SERVICE
    kind: str = "internal"
    status: str = "unset"
    attributes: dict[str, Any] = field(default_factory=dict)
    duration_ms: float = 1.0


def node(name: str, *children: Node, **settings: Any) -> Node:
    return Node(name, children, **settings)


@dataclass
class Span:
    """One span, flattened, with its ids (hex) and times (ns)."""

    trace_id: str
    span_id: str
    parent_id: str
    node: Node
    start_ns: int
    end_ns: int


_trace_numbers = itertools.count(1)
T0 = 1_750_000_000_000_000_000  # ns: some day in 2025


def flatten(root: Node, trace_number: int | None = None) -> list[Span]:
    """The spans of the tree under `root`, in start order, with fresh ids."""
    number = next(_trace_numbers) if trace_number is None else trace_number
    trace_id = f"{number:032x}"
    spans: list[Span] = []
    counter = itertools.count(1)

    def walk(current: Node, parent: str, start: int) -> None:
        span_id = f"{number:08x}{next(counter):08x}"
        spans.append(Span(trace_id, span_id, parent, current, start, start + int(current.duration_ms * 1e6)))
        for offset, child in enumerate(current.children):
            walk(child, span_id, start + 1000 * (offset + 1))

    walk(root, "", T0 + number * 1_000_000_000)
    return spans


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list):
        return {"arrayValue": {"values": [_value(item) for item in value]}}
    return {"stringValue": value}


def _b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def _span_json(span: Span, spelling: str) -> dict[str, Any]:
    protobuf = spelling == "protobuf"
    ids = _b64 if protobuf else str
    data: dict[str, Any] = {
        "traceId": ids(span.trace_id),
        "spanId": ids(span.span_id),
        "name": span.node.name,
        "kind": f"SPAN_KIND_{span.node.kind.upper()}" if protobuf else KINDS.index(span.node.kind),
        "startTimeUnixNano": str(span.start_ns),
        "endTimeUnixNano": str(span.end_ns),
        "attributes": [{"key": key, "value": _value(value)} for key, value in span.node.attributes.items()],
        "status": {}
        if span.node.status == "unset"
        else {"code": f"STATUS_CODE_{span.node.status.upper()}" if protobuf else STATUSES.index(span.node.status)},
    }
    if span.parent_id:
        data["parentSpanId"] = ids(span.parent_id)
    elif spelling == "1.55":
        data["parentSpanId"] = ""
    return data


def _group(service: str, spans: list[dict[str, Any]]) -> dict[str, Any]:
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}
    return {"resource": resource, "scopeSpans": [{"scope": {"name": "tests"}, "spans": spans}]}


def answer(traces: list[list[Span]], spelling: str) -> bytes:
    """api_v3's answer (its body) holding `traces`, spelt as `spelling` says."""
    if spelling == "protobuf":
        messages = [
            {"result": {"resourceSpans": [_group(span.node.service, [_span_json(span, spelling)])]}}
            for trace in traces
            for span in trace
        ]
        return "\n".join(json.dumps(message) for message in messages).encode() + b"\n"
    if spelling == "1.55":
        by_service: dict[str, list[dict[str, Any]]] = {}
        for trace in traces:
            for span in trace:
                by_service.setdefault(span.node.service, []).append(_span_json(span, spelling))
        groups = [_group(service, spans) for service, spans in by_service.items()]
    else:
        groups = []
        for trace in traces:
            by_service = {}
            for span in trace:
                by_service.setdefault(span.node.service, []).append(_span_json(span, spelling))
            groups += [_group(service, spans) for service, spans in by_service.items()]
    return json.dumps({"result": {"resourceSpans": groups}}).encode()


def trace_of(root: Node, spelling: str = "v2"):  # -> jaeger_smoke.otlp.Trace
    """The tree as the client reads it from Jaeger's answer."""
    from jaeger_smoke import api, otlp

    values = api.json_values(answer([flatten(root)], spelling).decode())
    [trace] = otlp.traces(value["result"] for value in values)
    return trace
