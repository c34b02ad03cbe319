"""The lookup and its spans, as seen by the SDK's in-memory exporter (no backend)."""

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from inprocess_grpc.users import get_info, get_user

pytestmark = pytest.mark.fast

JOHN = {
    "id": 100,
    "name": "john",
    "gender": 1,
    "site": "https://goframe.org",
    "email": "john@goframe.org",
    "math": 100,
    "english": 60,
    "chinese": 50,
}

_exporter = InMemorySpanExporter()
_provider = TracerProvider()
_provider.add_span_processor(SimpleSpanProcessor(_exporter))
# A provider of the tests' own, passed as the lookups allow: the process's global provider
# (set once per process) stays for the tests that install the app's.
TRACER = _provider.get_tracer("test_users")


@pytest.fixture
def spans() -> list[ReadableSpan]:
    _exporter.clear()
    return _exporter.get_finished_spans


def by_name(finished: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [span for span in finished if span.name == name]


def test_user_100_is_john() -> None:
    assert get_user(100) == JOHN


@pytest.mark.parametrize("user_id", [1, 2, 99, 101, 2**63 - 1])
def test_an_unknown_user_is_empty(user_id: int) -> None:
    assert get_user(user_id) == {}


def test_get_user_has_exactly_the_three_lookups_as_children(spans) -> None:
    get_user(100, TRACER)
    finished = spans()
    [parent] = by_name(finished, "GetUser")
    children = [span for span in finished if span.parent and span.parent.span_id == parent.context.span_id]
    assert [span.name for span in children] == ["GetInfo", "GetDetail", "GetScores"]
    assert len(finished) == 4
    assert {span.context.trace_id for span in finished} == {parent.context.trace_id}


def test_every_span_carries_the_user_id(spans) -> None:
    get_user(100, TRACER)
    # The semantic-convention name, which Jaeger searches use: user.id=100.
    assert {span.attributes["user.id"] for span in spans()} == {"100"}


@pytest.mark.parametrize(("user_id", "found"), [(100, True), (1, False)])
def test_get_user_says_whether_the_user_was_found(spans, user_id: int, found: bool) -> None:
    get_user(user_id, TRACER)
    [span] = by_name(spans(), "GetUser")
    assert span.attributes["app.user.found"] is found


def test_a_user_not_found_is_not_an_error(spans) -> None:
    get_user(1, TRACER)
    assert {span.status.status_code for span in spans()} == {StatusCode.UNSET}


@pytest.mark.parametrize("bad_id", [0, -1, 2**63, True, "100", 1.5, None])
def test_an_invalid_id_is_an_error_span_with_the_exception(spans, bad_id: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        get_user(bad_id, TRACER)  # type: ignore[arg-type]
    [span] = spans()  # the lookups never ran
    assert span.name == "GetUser"
    assert span.status.status_code is StatusCode.ERROR
    [event] = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] in ("TypeError", "ValueError")


def test_each_lookup_checks_the_id_it_is_given(spans) -> None:
    with pytest.raises(ValueError):
        get_info(-5, TRACER)
    [span] = spans()
    assert (span.name, span.status.status_code) == ("GetInfo", StatusCode.ERROR)


@pytest.mark.parametrize(
    ("bad_id", "kind", "message"),
    [
        (0, ValueError, "user id must be from 1 to 9223372036854775807, not 0"),
        (2**63, ValueError, "user id must be from 1 to 9223372036854775807, not 9223372036854775808"),
        ("100", TypeError, "user id must be an int, not str"),
        (True, TypeError, "user id must be an int, not bool"),
    ],
)
def test_an_invalid_id_says_what_is_wrong_in_the_error_and_in_the_span(
    spans, bad_id: object, kind: type[Exception], message: str
) -> None:
    with pytest.raises(kind) as raised:
        get_user(bad_id, TRACER)  # type: ignore[arg-type]
    assert str(raised.value) == message
    [span] = spans()
    assert span.events[0].attributes["exception.message"] == message
