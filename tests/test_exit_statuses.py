"""The exit status a script reads, and the line said with it: each outcome, and
a signal that stops a run (in process: no backend, no subprocess)."""

import os
import signal

import pytest

from inprocess_grpc import cli
from inprocess_grpc.outcome import Outcome, Status

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(
    ("outcome", "exit_status"),
    [(Status.DELIVERED, 0), (Status.EXPORT_FAILED, 3), (Status.BAD_CONFIG, 4), (Status.SPANS_DROPPED, 5)],
)
def test_each_outcome_has_its_exit_status_and_says_its_line(
    outcome: Status, exit_status: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.report(Outcome(outcome, "what happened")) == exit_status
    assert capsys.readouterr().err == "inprocess-grpc: what happened\n"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_the_block_and_the_run_exits_128_plus_its_number(
    signum: signal.Signals, capsys: pytest.CaptureFixture[str]
) -> None:
    after = []
    with cli.StoppedBySignal() as stop:
        os.kill(os.getpid(), signum)
        after.append("not reached")
    try:
        assert after == []
        assert stop.signum == signum
        # While the spans are flushed, a second signal is ignored.
        assert signal.getsignal(signum) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    assert cli.report(Outcome(Status.DELIVERED, "trace exported"), stop) == 128 + signum
    name = signal.Signals(signum).name
    assert (
        capsys.readouterr().err == f"inprocess-grpc: trace exported\ninprocess-grpc: stopped by {name}, spans flushed\n"
    )


def test_without_a_signal_the_block_runs_to_its_end_and_errors_go_through() -> None:
    with cli.StoppedBySignal() as stop:
        pass
    assert stop.signum is None
    with pytest.raises(ValueError), cli.StoppedBySignal():
        raise ValueError("not a signal")
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["0"], "invalid user id '0': expected a whole number from 1 to 2^63-1"),
        (["9223372036854775808"], "invalid user id '9223372036854775808'"),
        (["--nope"], "unrecognized arguments: --nope"),
    ],
)
def test_a_bad_command_line_is_one_line_and_status_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.parser("test").parse_args(argv)
    assert exited.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("inprocess-grpc: error: ") and says in line


def test_the_ids_default_to_1_and_100_and_keep_their_order() -> None:
    assert cli.parser("test").parse_args([]).user_ids == [1, 100]
    assert cli.parser("test").parse_args(["1", "9223372036854775807", "1"]).user_ids == [1, 2**63 - 1, 1]
