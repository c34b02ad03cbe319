"""Load generation's pacing and summary, on a clock of the test's (no waiting)."""

import pytest

from inprocess_grpc import load
from inprocess_grpc.delivery import Delivery

pytestmark = pytest.mark.fast


class Clock:
    """time.monotonic and time.sleep for the test: sleeping moves the clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(load.time, "monotonic", fake.monotonic)
    monkeypatch.setattr(load.time, "sleep", fake.sleep)
    return fake


def test_repeat_alone_runs_that_many_iterations_without_waiting(clock: Clock) -> None:
    assert list(load.pace(repeat=3, rate=None, duration=None)) == [0, 1, 2]
    assert clock.slept == []


def test_without_a_rate_nothing_waits_whatever_the_clock_reads(clock: Clock) -> None:
    clock.now = 0.0  # a monotonic clock's zero is anywhere, boot time included
    assert list(load.pace(repeat=3, rate=None, duration=None)) == [0, 1, 2]
    assert clock.slept == []


def test_a_rate_spaces_the_iterations_evenly_from_the_start(clock: Clock) -> None:
    assert list(load.pace(repeat=4, rate=2.0, duration=None)) == [0, 1, 2, 3]
    assert clock.slept == [0.5, 0.5, 0.5]


def test_a_rate_catches_up_after_a_slow_iteration_instead_of_drifting(clock: Clock) -> None:
    iterations = load.pace(repeat=3, rate=1.0, duration=None)
    assert next(iterations) == 0
    clock.now += 1.5  # the first iteration took 1.5 s: the second is due already
    assert next(iterations) == 1
    assert next(iterations) == 2
    assert clock.slept == [0.5]


def test_a_duration_stops_the_iterations_due_at_or_after_its_end(clock: Clock) -> None:
    # Due at 0, 0.25, 0.5, 0.75 s; the one due at 1 s is not started.
    assert list(load.pace(repeat=None, rate=4.0, duration=1.0)) == [0, 1, 2, 3]


def test_repeat_and_duration_together_stop_at_whichever_comes_first(clock: Clock) -> None:
    assert list(load.pace(repeat=2, rate=1.0, duration=10.0)) == [0, 1]
    assert list(load.pace(repeat=100, rate=1.0, duration=2.0)) == [0, 1]


def test_the_summary_counts_traces_and_what_became_of_the_spans() -> None:
    summary = load.summary(traces=3, seconds=1.23456, delivery=Delivery(27, 20, 5))
    assert summary["traces"] == 3
    assert summary["seconds"] == 1.235
    assert summary["spans"] == {"ended": 27, "exported": 20, "failed": 5, "dropped": 2}
    assert summary["cpu_seconds"] >= 0


def test_the_summary_gives_the_cpu_seconds_used_to_the_millisecond(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load.time, "process_time", lambda: 1.23456)
    assert load.summary(traces=1, seconds=1.0, delivery=Delivery(9, 9, 0))["cpu_seconds"] == 1.235


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--repeat", "0"], "invalid repeat count '0': expected a whole number above 0"),
        (["--repeat", "ten"], "invalid repeat count 'ten': expected a whole number above 0"),
        (["--repeat", "2.5"], "invalid repeat count '2.5'"),
        (["--rate", "-5"], "invalid rate '-5': expected a number above 0"),
        (["--rate", "0"], "invalid rate '0': expected a number above 0"),
        (["--rate", "nan"], "invalid rate 'nan'"),
        (["--duration", "inf"], "invalid duration 'inf': expected a number above 0"),
        (["0"], "invalid user id '0'"),
    ],
)
def test_a_bad_load_option_is_one_line_and_status_2(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        load.main(args)
    assert exited.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("inprocess-grpc: error: argument ") and says in line


def test_the_smallest_valid_load_options_pass() -> None:
    assert load._positive(int, "repeat count")("1") == 1
    assert load._positive(float, "rate")("0.001") == 0.001
