"""What the two commands (`inprocess_grpc` and `inprocess_grpc.load`) share: the user
ids and `--sdk-logs` on the command line, errors in one line, the outcome said and its
exit status returned, and a signal that ends a run after its spans are flushed."""

import argparse
import signal
import sys
from types import FrameType, TracebackType

from inprocess_grpc.outcome import Outcome
from inprocess_grpc.traced_run import DEFAULT_SERVICE_NAME
from inprocess_grpc.users import check_user_id

PROG = DEFAULT_SERVICE_NAME  # the app's name in its messages, as in Jaeger's service list
EXIT_USAGE = 2  # bad command line (argparse's convention); the others: outcome.Status
# A signal ends the run the shell's way: 128 + the signal number, after the flush.


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line and status 2, not argparse's usage block.
        self.exit(EXIT_USAGE, f"{PROG}: error: {message}\n")


def _user_id(text: str) -> int:
    try:
        return check_user_id(int(text, 10))
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(
            f"invalid user id {text!r}: expected a whole number from 1 to 2^63-1"
        ) from None


def parser(description: str) -> argparse.ArgumentParser:
    """A parser taking the user ids and `--sdk-logs`, whose errors are one line."""
    result = _Parser(prog=PROG, description=description)
    result.add_argument(
        "user_ids",
        metavar="USER_ID",
        type=_user_id,
        nargs="*",
        default=[1, 100],
        help="users to look up (default: 1 100); user 100 exists",
    )
    result.add_argument(
        "--sdk-logs",
        action="store_true",
        help="let the OpenTelemetry SDK's own log records through to stderr (retries, details)",
    )
    return result


def to_stderr(message: str) -> None:
    """One line on stderr, after the program's name."""
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


class _Terminated(Exception):
    """Raised in the main thread by SIGTERM or SIGINT, so spans end and get flushed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_terminated(signum: int, _frame: FrameType | None) -> None:
    raise _Terminated(signum)


class StoppedBySignal:
    """`with StoppedBySignal() as stop:` runs the block until SIGTERM or SIGINT, which
    ends it like a return (the spans open then are ended); `stop.signum` says which.
    After the block, signals are ignored: the flush that follows is bounded already,
    and a second Ctrl-C must not cut it short."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def __enter__(self) -> "StoppedBySignal":
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, _raise_terminated)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _: TracebackType | None) -> bool:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_IGN)
        if isinstance(error, _Terminated):
            self.signum = error.signum
            return True
        return False


def report(outcome: Outcome, stop: StoppedBySignal | None = None) -> int:
    """Say the outcome's line (and the signal, if one stopped the run); return the exit status."""
    to_stderr(outcome.line)
    if stop is not None and stop.signum is not None:
        to_stderr(f"stopped by {signal.Signals(stop.signum).name}, spans flushed")
        return 128 + stop.signum
    return int(outcome.status)
