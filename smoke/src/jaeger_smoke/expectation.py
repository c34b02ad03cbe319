"""The expectation file: the trace a service must produce, declared in JSON.

It exists so that the check is not hard-wired to one app: any team states its own span
tree in a file its CI keeps beside the code. JSON, because the standard library reads it
and a CI runner's bare `python3` is enough. The format (docs/smoke-test.md):

    {"service": "shop-frontend",
     "resource": {"deployment.environment.name": "staging"},
     "root": {"name": "GET /orders/{id}", "kind": "server",
              "attributes": {"http.route": "/orders/{id}", "user.id": {"present": true}},
              "duration_ms": {"max": 500}, "extra_children": "allowed",
              "children": [{"name": {"regex": "SELECT .*"}, "kind": "client", "status": "error",
                            "service": "orders-db", "count": {"min": 1, "max": 3}}]}}

Every key is checked, an unknown one included, so that a typo never silently weakens the
check. A malformed file raises ExpectationError with one line naming the file and the
place: the line and column of a JSON syntax error, the key path (`root.children[1].status`)
of anything else.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

KINDS = ("internal", "server", "client", "producer", "consumer")
STATUSES = ("unset", "ok", "error", "any")  # "any": not checked
FILE_KEYS = ("service", "root", "resource", "description")
SPAN_KEYS = ("name", "service", "kind", "status", "attributes", "count", "duration_ms", "extra_children", "children")
EXTRA_CHILDREN = ("exact", "allowed")  # "exact": the default


class Present:
    """An attribute that must be there, whatever its value: `{"present": true}`."""

    def __repr__(self) -> str:
        return "(present)"


PRESENT = Present()


@dataclass(frozen=True)
class Regex:
    """A string that must match a Python regular expression whole: `{"regex": "GET /users/.*"}`."""

    pattern: str

    def matches(self, value: object) -> bool:
        return isinstance(value, str) and re.fullmatch(self.pattern, value) is not None

    def __str__(self) -> str:
        return f"/{self.pattern}/"


@dataclass(frozen=True)
class Range:
    """A number from `low` to `high`, both included, either open (None): `{"min": 1, "max": 5}`."""

    low: float | None
    high: float | None

    def holds(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def __str__(self) -> str:
        return f"{_number(self.low)}..{_number(self.high)}"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


AttributeValue = str | bool | int | float | list | Present | Regex | Range


@dataclass(frozen=True)
class SpanExpectation:
    name: str | Regex
    service: str | None  # None: the file's service
    kind: str | None  # None: not checked
    status: str  # "any": not checked
    attributes: Mapping[str, AttributeValue]
    count: int  # how many such siblings at the least
    children: tuple["SpanExpectation", ...]
    most: int | None  # how many at the most: count for an exact count, None for a range without max
    duration_ms: Range | None = None  # None: not checked
    extra_children: bool = False  # children the file does not list are ignored, not wrong

    def total(self) -> int:
        """The spans this expectation stands for at the least, its subtree's and its count's included."""
        return self.count * (1 + sum(child.total() for child in self.children))

    def is_exact(self) -> bool:
        """Whether it stands for one number of spans: no count range, no extra children, down the tree."""
        return self.most == self.count and not self.extra_children and all(child.is_exact() for child in self.children)

    def names(self, name: str) -> bool:
        """Whether `name` is this span's name, or matches its pattern."""
        return self.name.matches(name) if isinstance(self.name, Regex) else self.name == name


@dataclass(frozen=True)
class Expectation:
    path: str  # the file, as given: named in messages
    service: str
    resource: Mapping[str, AttributeValue]
    root: SpanExpectation
    description: str = ""

    def total(self) -> int:
        """The spans of a trace that matches, at the least."""
        return self.root.total()

    def spans_expected(self) -> str:
        """How many spans a trace that matches holds, in words: "9", or "5 or more"."""
        return str(self.total()) if self.root.is_exact() else f"{self.total()} or more"

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
    name = _name(_required(span, "name", place), f"{place}.name")
    service = _text(span["service"], f"{place}.service") if "service" in span else None
    kind = span.get("kind")
    if kind is not None and kind not in KINDS:
        raise _Wrong(f"{place}.kind", f"{kind!r} is not a span kind; expected one of {', '.join(KINDS)}")
    status = span.get("status", "unset")
    if status not in STATUSES:
        raise _Wrong(f"{place}.status", f"{status!r} is not a status; expected one of {', '.join(STATUSES)}")
    if is_root and "count" in span:
        raise _Wrong(f"{place}.count", "the root is one span: a count belongs to a child")
    count, most = _count(span.get("count", 1), f"{place}.count")
    duration = span.get("duration_ms")
    if duration is not None:
        duration = _range(duration, f"{place}.duration_ms", "a duration in ms", floor=0)
    extra = span.get("extra_children", "exact")
    if extra not in EXTRA_CHILDREN:
        raise _Wrong(
            f"{place}.extra_children", f'{extra!r} is not allowed here; expected "allowed" (or "exact", the default)'
        )
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
        most=most,
        duration_ms=duration,
        extra_children=extra == "allowed",
        children=tuple(_span(child, f"{place}.children[{index}]") for index, child in enumerate(children)),
    )


def _name(value: object, place: str) -> str | Regex:
    if isinstance(value, dict):
        _object(value, place, ("regex",), "a name pattern")
        return _regex(value, place)
    return _text(value, place)


def _regex(value: dict, place: str) -> Regex:
    pattern = value["regex"]
    if not isinstance(pattern, str):
        raise _Wrong(place, f"a regex is a string, not {_kind_of(pattern)}")
    try:
        re.compile(pattern)
    except re.error as error:
        raise _Wrong(place, f"{pattern!r} is not a Python regular expression: {error}") from None
    return Regex(pattern)


def _count(value: object, place: str) -> tuple[int, int | None]:
    """A count, exact (2) or a range ({"min": 1, "max": 3}, either left out): (least, most)."""
    if isinstance(value, dict):
        bounds = _range(value, place, "a count range", floor=0, whole=True)
        if bounds.high == 0:
            raise _Wrong(place, "a count range's max is 1 or more")
        return int(bounds.low or 0), None if bounds.high is None else int(bounds.high)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Wrong(
            place,
            f"{value!r} is not a count; expected a whole number from 1 up (default 1), or a range"
            ' {"min": 1, "max": 3}',
        )
    return value, value


def _range(value: object, place: str, what: str, *, floor: float | None = None, whole: bool = False) -> Range:
    """`{"min": a, "max": b}`, either left out, not both."""
    bounds = _object(value, place, ("min", "max"), what)
    if not bounds:
        raise _Wrong(place, f'{what} needs "min", "max" or both')
    for key, bound in bounds.items():
        number = "a whole number" if whole else "a number"
        if isinstance(bound, bool) or not isinstance(bound, int | float) or (whole and not isinstance(bound, int)):
            raise _Wrong(f"{place}.{key}", f"expected {number}, not {_kind_of(bound)}")
        if floor is not None and bound < floor:
            raise _Wrong(f"{place}.{key}", f"{bound!r} is below {floor:g}")
    low, high = bounds.get("min"), bounds.get("max")
    if low is not None and high is not None and low > high:
        raise _Wrong(place, f"min {low!r} is above max {high!r}")
    return Range(low, high)


def _attributes(value: object, place: str) -> dict[str, AttributeValue]:
    if not isinstance(value, dict):
        raise _Wrong(place, f"expected attributes (an object of name: value), not {_kind_of(value)}")
    _once(value, place)
    return {name: _attribute(expected, f"{place}[{json.dumps(name)}]") for name, expected in value.items()}


PATTERNS = '{"present": true}, {"regex": "…"} or {"min": …, "max": …}'


def _attribute(value: object, place: str) -> AttributeValue:
    if isinstance(value, dict):
        _once(value, place)
        if value == {"present": True}:
            return PRESENT
        if set(value) == {"regex"}:
            return _regex(value, place)
        if value and set(value) <= {"min", "max"}:
            return _range(value, place, "a number range")
        raise _Wrong(place, f"an object here must be {PATTERNS}; any other value is matched exactly")
    if isinstance(value, list):
        for index, item in enumerate(value):
            if item is None or isinstance(item, dict | list):
                raise _Wrong(
                    f"{place}[{index}]", f"an array attribute holds strings, numbers or booleans, not {_kind_of(item)}"
                )
        return value
    if value is None:
        raise _Wrong(place, f"null is not an attribute value; expected a string, number, boolean, list or {PATTERNS}")
    return value  # type: ignore[return-value]  # str, bool, int or float: JSON leaves nothing else
