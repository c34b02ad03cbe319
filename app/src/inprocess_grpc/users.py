"""The traced user lookup: `get_user` merges what three smaller lookups return.

This is the call tree the trace shows. Each function opens one span named as in the
original Go example (GetUser, GetInfo, GetDetail, GetScores), so the trace reads like
the code. Tracing set-up lives elsewhere (`tracing`): this module only asks the
OpenTelemetry API for a tracer, which works with or without an SDK behind it. A caller
may pass the tracer of a provider of its own instead of the program's.
"""

from typing import Any

from opentelemetry import trace

# Semantic-convention name for the user id (a string, by that convention).
USER_ID = "user.id"
# Not in the conventions: an app-specific attribute gets the app's own namespace.
USER_FOUND = "app.user.found"

# Ids are int64 in the original example; anything outside is a caller's bug.
MAX_USER_ID = 2**63 - 1

User = dict[str, Any]

_INFO: dict[int, User] = {100: {"id": 100, "name": "john", "gender": 1}}
_DETAIL: dict[int, User] = {100: {"site": "https://goframe.org", "email": "john@goframe.org"}}
_SCORES: dict[int, User] = {100: {"math": 100, "english": 60, "chinese": 50}}

# The program's tracer: the global provider's, whichever is installed when a span starts.
TRACER = trace.get_tracer("inprocess_grpc")


def check_user_id(user_id: object) -> int:
    """Return `user_id` if it is a valid id (an int from 1 to MAX_USER_ID), else raise."""
    # bool is an int subclass; True is not a user id.
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise TypeError(f"user id must be an int, not {type(user_id).__name__}")
    if not 1 <= user_id <= MAX_USER_ID:
        raise ValueError(f"user id must be from 1 to {MAX_USER_ID}, not {user_id}")
    return user_id


def _lookup(span_name: str, table: dict[int, User], user_id: int, tracer: trace.Tracer) -> User:
    # The span is opened before the check, so an invalid id shows up in the trace as
    # an ERROR span with the exception recorded (the SDK does both on the way out).
    with tracer.start_as_current_span(span_name) as span:
        span.set_attribute(USER_ID, str(user_id))
        check_user_id(user_id)
        return dict(table.get(user_id, {}))


def get_info(user_id: int, tracer: trace.Tracer = TRACER) -> User:
    """Basic information: id, name, gender."""
    return _lookup("GetInfo", _INFO, user_id, tracer)


def get_detail(user_id: int, tracer: trace.Tracer = TRACER) -> User:
    """Contact details: site, email."""
    return _lookup("GetDetail", _DETAIL, user_id, tracer)


def get_scores(user_id: int, tracer: trace.Tracer = TRACER) -> User:
    """Exam scores."""
    return _lookup("GetScores", _SCORES, user_id, tracer)


def get_user(user_id: int, tracer: trace.Tracer = TRACER) -> User:
    """The whole user, merged from the three lookups; `{}` for an unknown user.

    An unknown user is an ordinary answer, not an error: the span says so in
    `app.user.found` and keeps an unset status.
    """
    with tracer.start_as_current_span("GetUser") as span:
        span.set_attribute(USER_ID, str(user_id))
        check_user_id(user_id)
        user = {**get_info(user_id, tracer), **get_detail(user_id, tracer), **get_scores(user_id, tracer)}
        span.set_attribute(USER_FOUND, bool(user))
        return user
