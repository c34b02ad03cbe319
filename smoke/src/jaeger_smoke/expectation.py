"""The expectation file: the trace a service must produce, declared in JSON.

It exists so that the check is not hard-wired to one app: any team states its own span
tree in a file its CI keeps beside the code. JSON, because the standard library reads it
and a CI runner's bare `python3` is enough. The format (docs/smoke-test.md):

    {"service": "shop-frontend",
     "resource": {"deployment.environment.name": "staging"},
     "root": {"name": "GET /orders/{id}", "kind": "server",
              "attributes": {"http.route": "/orders/{id}", "user.id": {"present": true}},
              "children": [{"name": "SELECT orders", "kind": "client", "status": "error",
                            "service": "orders-db", "count": 2}]}}

Every key is checked, an unknown one included, so that a typo never silently weakens the
check. A malformed file raises ExpectationError with one line naming the file and the
place: the line and column of a JSON syntax error, the key path (`root.children[1].status`)
of anything else.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

KINDS = ("internal", "server", "client", "producer", "consumer")
STATUSES = ("unset", "ok", "error", "any")  # "any": not checked
FILE_KEYS = ("service", "root", "resource", "description")
SPAN_KEYS = ("name", "service", "kind", "status", "attributes", "count", "children")


class Present:
    """An attribute that must be there, whatever its value: `{"present": true}`."""

    def __repr__(self) -> str:
        return "(present)"


PRESENT = Present()
AttributeValue = str | bool | int | float | list | Present


@dataclass(frozen=True)
class SpanExpectation:
    name: str
    service: str | None  # None: the file's service
    kind: str | None  # None: not checked
    status: str  # "any": not checked
    attributes: Mapping[str, AttributeValue]
    count: int  # how many such siblings, exactly
    children: tuple["SpanExpectation", ...]

    def total(self) -> int:
        """The spans this expectation stands for, its subtree's and its count's included."""
        return self.count * (1 + sum(child.total() for child in self.children))


@dataclass(frozen=True)
class Expectation:
    path: str  # the file, as given: named in messages
    service: str
    resource: Mapping[str, AttributeValue]
    root: SpanExpectation
    description: str = ""

    def total(self) -> int:
        return self.root.total()

    def with_service(self, service: str) -> "Expectation":
        """The same expectation for another service name (`--service`): spans that name
        their own service keep it."""
        return replace(self, service=service)

    def service_of(self, span: SpanExpectation) -> str:
        return span.service if span.service is not None else self.service


class ExpectationError(Exception):
    """A malformed expectation file; str() is the one line to show."""


def load(path: str | Path) -> Expectation:
    """The expectation in the file at `path`; ExpectationError if it cannot be one."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise ExpectationError(f"{path}: cannot be read: {reason}") from None
    try:
        document = json.loads(text, object_pairs_hook=_Object.of)
    except json.JSONDecodeError as error:
        raise ExpectationError(
            f"{path}: line {error.lineno}, column {error.colno}: invalid JSON: {error.msg}"
        ) from None
    except RecursionError:
        raise ExpectationError(f"{path}: nested too deeply to read") from None
    try:
        return _file(document, str(path))
    except _Wrong as wrong:
        raise ExpectationError(f"{path}: {wrong.place}: {wrong.message}") from None


class _Object(dict):
    """A JSON object that remembers a key given twice: json keeps the last of two equal
    keys, and one of two settings would be ignored unseen. Refused where its place is
    known (_object, _attributes)."""

    twice: str | None = None

    @classmethod
    def of(cls, pairs: list[tuple[str, Any]]) -> "_Object":
        result = cls()
        for key, value in pairs:
            if key in result and result.twice is None:
                result.twice = key
            result[key] = value
        return result


def _once(value: dict, place: str) -> None:
    twice = getattr(value, "twice", None)
    if twice is not None:
        raise _Wrong(place, f"key {twice!r} given twice")


class _Wrong(Exception):
    def __init__(self, place: str, message: str) -> None:
        self.place, self.message = place, message


def _kind_of(value: object) -> str:
    """How a JSON value is called in a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _object(value: object, place: str, keys: tuple[str, ...], what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Wrong(place, f"expected {what} (an object), not {_kind_of(value)}")
    _once(value, place)
    for key in value:
        if key not in keys:
            raise _Wrong(place, f"unknown key {key!r}; {what} has the keys {', '.join(keys)}")
    return value


def _text(value: object, place: str) -> str:
    if not isinstance(value, str) or not value:
        raise _Wrong(place, f"expected a non-empty string, not {'an empty one' if value == '' else _kind_of(value)}")
    return value


def _required(document: Mapping[str, Any], key: str, place: str) -> Any:
    if key not in document:
        raise _Wrong(place, f"missing key {key!r}")
    return document[key]


def _file(document: object, path: str) -> Expectation:
    top = _object(document, "top level", FILE_KEYS, "an expectation file")
    description = top.get("description", "")
    if not isinstance(description, str):
        raise _Wrong("description", f"expected a string, not {_kind_of(description)}")
    return Expectation(
        path=path,
        service=_text(_required(top, "service", "top level"), "service"),
        resource=_attributes(top.get("resource", {}), "resource"),
        root=_span(_required(top, "root", "top level"), "root", is_root=True),
        description=description,
    )


def _span(value: object, place: str, *, is_root: bool = False) -> SpanExpectation:
    span = _object(value, place, SPAN_KEYS, "a span")
    name = _text(_required(span, "name", place), f"{place}.name")
    service = _text(span["service"], f"{place}.service") if "service" in span else None
    kind = span.get("kind")
    if kind is not None and kind not in KINDS:
        raise _Wrong(f"{place}.kind", f"{kind!r} is not a span kind; expected one of {', '.join(KINDS)}")
    status = span.get("status", "unset")
    if status not in STATUSES:
        raise _Wrong(f"{place}.status", f"{status!r} is not a status; expected one of {', '.join(STATUSES)}")
    count = span.get("count", 1)
    if is_root and "count" in span:
        raise _Wrong(f"{place}.count", "the root is one span: a count belongs to a child")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise _Wrong(f"{place}.count", f"{count!r} is not a count; expected a whole number from 1 up (default 1)")
    children = span.get("children", [])
    if not isinstance(children, list):
        raise _Wrong(f"{place}.children", f"expected a list of spans, not {_kind_of(children)}")
    return SpanExpectation(
        name=name,
        service=service,
        kind=kind,
        status=status,
        attributes=_attributes(span.get("attributes", {}), f"{place}.attributes"),
        count=count,
        children=tuple(_span(child, f"{place}.children[{index}]") for index, child in enumerate(children)),
    )


def _attributes(value: object, place: str) -> dict[str, AttributeValue]:
    if not isinstance(value, dict):
        raise _Wrong(place, f"expected attributes (an object of name: value), not {_kind_of(value)}")
    _once(value, place)
    return {name: _attribute(expected, f"{place}[{json.dumps(name)}]") for name, expected in value.items()}


def _attribute(value: object, place: str) -> AttributeValue:
    if isinstance(value, dict):
        _once(value, place)
        if value != {"present": True}:
            raise _Wrong(place, 'an object here must be {"present": true}; any other value is matched exactly')
        return PRESENT
    if isinstance(value, list):
        for index, item in enumerate(value):
            if item is None or isinstance(item, dict | list):
                raise _Wrong(
                    f"{place}[{index}]", f"an array attribute holds strings, numbers or booleans, not {_kind_of(item)}"
                )
        return value
    if value is None:
        raise _Wrong(
            place, 'null is not an attribute value; expected a string, number, boolean, list or {"present": true}'
        )
    return value  # type: ignore[return-value]  # str, bool, int or float: JSON leaves nothing else
