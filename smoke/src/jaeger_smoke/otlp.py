"""The trace model, read from the OTLP JSON that Jaeger's api_v3 answers.

It exists because Jaeger versions spell the same trace differently, and the rest of the
package should see one shape. What the real servers answer, checked against them:

- Jaeger 1.55 and v2 write ids in hex and the span kind and status code as integers;
  OTLP's canonical protobuf JSON would write ids in base64 and enums by name. Both
  spellings are read.
- 1.55 gives a root span `"parentSpanId": ""`; v2 leaves the key out.
- 1.55 stores an array attribute as its JSON text (`"[\\"a\\",\\"b\\"]"`); v2 keeps the
  `arrayValue`.
- A search answer holds the spans of several traces, grouped by resource and scope, not
  by trace: 1.55 puts every trace of a service in one `resourceSpans` group, v2 one group
  per trace. Spans are therefore grouped by their `traceId` here.
"""

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SPAN_KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")  # OTLP's numbering
STATUSES = ("unset", "ok", "error")  # OTLP's numbering
SERVICE_NAME = "service.name"


@dataclass(frozen=True)
class Span:
    trace_id: str  # 32 hex digits, lower case
    span_id: str  # 16 hex digits, lower case
    parent_id: str  # "" for a span without a parent
    name: str
    service: str  # its resource's service.name
    kind: str  # one of SPAN_KINDS
    status: str  # one of STATUSES
    attributes: Mapping[str, Any] = field(default_factory=dict)
    resource: Mapping[str, Any] = field(default_factory=dict)
    start_ns: int = 0
    end_ns: int = 0


@dataclass
class Trace:
    trace_id: str
    spans: list[Span]


class Malformed(ValueError):
    """The answer is JSON, but not OTLP as Jaeger writes it."""


def hex_id(value: object, size: int) -> str:
    """An id of `size` bytes as lower-case hex, from hex or base64; "" for an empty id."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise Malformed(f"an id is {value!r}, not a string")
    if len(value) == 2 * size:
        try:
            return bytes.fromhex(value).hex()
        except ValueError:
            pass
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != size:
        raise Malformed(f"{value!r} is not a {size}-byte id in hex or base64")
    return raw.hex()


def _enum(value: object, names: tuple[str, ...], prefix: str) -> str:
    """An OTLP enum, given as its number or its name (SPAN_KIND_SERVER, STATUS_CODE_ERROR)."""
    if value is None:
        return names[0]
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(names):
        return names[value]
    if isinstance(value, str) and value.upper().removeprefix(prefix).lower() in names:
        return value.upper().removeprefix(prefix).lower()
    raise Malformed(f"{value!r} is not one of {prefix}*")


def any_value(value: Mapping[str, Any]) -> Any:
    """An OTLP AnyValue as a plain value: str, bool, int, float, list, dict, or None."""
    if not isinstance(value, Mapping):
        raise Malformed(f"an attribute value is {value!r}")
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "intValue" in value:
        return int(value["intValue"])  # a string in OTLP JSON: int64 does not fit a JSON number
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "arrayValue" in value:
        return [any_value(item) for item in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        return attributes(value["kvlistValue"].get("values", []))
    if "bytesValue" in value:
        return value["bytesValue"]  # base64, as written
    return None


def attributes(pairs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    return {pair["key"]: any_value(pair.get("value", {})) for pair in pairs}


def _span(span: Mapping[str, Any], resource: Mapping[str, Any]) -> Span:
    status = span.get("status") or {}
    return Span(
        trace_id=hex_id(span.get("traceId"), 16),
        span_id=hex_id(span.get("spanId"), 8),
        parent_id=hex_id(span.get("parentSpanId"), 8),
        name=span.get("name", ""),
        service=str(resource.get(SERVICE_NAME, "")),
        kind=_enum(span.get("kind"), SPAN_KINDS, "SPAN_KIND_"),
        status=_enum(status.get("code"), STATUSES, "STATUS_CODE_"),
        attributes=attributes(span.get("attributes", [])),
        resource=resource,
        start_ns=int(span.get("startTimeUnixNano", 0)),
        end_ns=int(span.get("endTimeUnixNano", 0)),
    )


def traces(results: Iterable[Mapping[str, Any]]) -> list[Trace]:
    """The traces in api_v3's `result` objects (`{"resourceSpans": [...]}`), each with all
    its spans, in the order their first spans came."""
    by_id: dict[str, Trace] = {}
    try:
        for result in results:
            for resource_spans in result.get("resourceSpans") or []:
                resource = attributes((resource_spans.get("resource") or {}).get("attributes", []))
                for scope_spans in resource_spans.get("scopeSpans") or []:
                    for raw in scope_spans.get("spans") or []:
                        span = _span(raw, resource)
                        by_id.setdefault(span.trace_id, Trace(span.trace_id, [])).spans.append(span)
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        if isinstance(error, Malformed):
            raise
        raise Malformed(f"not OTLP JSON: {type(error).__name__}: {error}") from None
    return list(by_id.values())
