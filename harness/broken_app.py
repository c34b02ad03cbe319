"""The app with one thing broken on purpose, in a process of its own, as a user runs it:
how the end-to-end tests show that their checks catch a broken app.

    python -m harness.broken_app FAULT [USER_ID ...]

runs `python -m inprocess_grpc [USER_ID ...]` with FAULT made first. Each fault is
built from the app's public lookups and put in place of one of them, under its public
name; a rename in the app breaks this file at once (an AttributeError), not a check
silently.
"""

import sys
import threading
from collections.abc import Callable

from opentelemetry import trace

import inprocess_grpc.__main__ as one_trace
from inprocess_grpc import users

BLOCKED = "blocked"  # said on stderr once user 100's GetScores is reached


def block_in_get_scores() -> None:
    """User 100's GetScores blocks, with its span open, until a signal comes."""
    get_scores = users.get_scores

    def blocking(user_id: int, tracer: trace.Tracer = users.TRACER) -> users.User:
        if user_id != 100:
            return get_scores(user_id, tracer)
        with tracer.start_as_current_span("GetScores") as span:
            span.set_attribute(users.USER_ID, str(user_id))
            print(BLOCKED, file=sys.stderr, flush=True)
            threading.Event().wait()
        return {}

    users.get_scores = blocking


def get_scores_not_traced() -> None:
    """GetScores does its work without a span."""
    get_scores = users.get_scores
    users.get_scores = lambda user_id, tracer=users.TRACER: get_scores(user_id, trace.NoOpTracer())


def lookups_outside_get_user() -> None:
    """GetUser's span ends before its three lookups start: they hang from the root instead."""

    def get_user(user_id: int, tracer: trace.Tracer = users.TRACER) -> users.User:
        with tracer.start_as_current_span("GetUser") as span:
            span.set_attribute(users.USER_ID, str(user_id))
        parts = (users.get_info(user_id, tracer), users.get_detail(user_id, tracer), users.get_scores(user_id, tracer))
        return {key: value for part in parts for key, value in part.items()}

    users.get_user = one_trace.get_user = get_user


FAULTS: dict[str, Callable[[], None]] = {
    "block-in-get-scores": block_in_get_scores,
    "get-scores-not-traced": get_scores_not_traced,
    "lookups-outside-get-user": lookups_outside_get_user,
}

if __name__ == "__main__":
    fault, *arguments = sys.argv[1:]
    FAULTS[fault]()
    sys.exit(one_trace.main(arguments))
