"""The zero-code launcher, `python -m inprocess_grpc.instrument COMMAND...`, in process:
the OTEL_* values checked as the explicit set-up checks them, then the distro's
`opentelemetry-instrument` in its place (os.execv, caught here). Under the real engine:
tests/test_distro.py and tests/test_token_never_printed.py."""

import os
import sys

import pytest

from inprocess_grpc import instrument

pytestmark = pytest.mark.fast


class Execed(Exception):
    """Raised where os.execv would replace the process."""


@pytest.fixture
def execv(monkeypatch: pytest.MonkeyPatch) -> list:
    calls: list = []

    def caught(path: str, args: list[str]) -> None:
        calls.append((path, args))
        raise Execed

    monkeypatch.setattr(os, "execv", caught)
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    return calls


def test_right_values_become_opentelemetry_instrument_of_this_python_running_the_command(
    execv: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20abc")
    with pytest.raises(Execed):
        instrument.main(["python", "-m", "inprocess_grpc"])
    launcher = os.path.join(os.path.dirname(sys.executable), "opentelemetry-instrument")
    assert execv == [(launcher, ["opentelemetry-instrument", "python", "-m", "inprocess_grpc"])]


def test_without_the_distro_beside_python_the_path_finds_it(execv: list, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/nowhere/python")
    with pytest.raises(Execed):
        instrument.main(["python", "-m", "inprocess_grpc"])
    assert execv == [("opentelemetry-instrument", ["opentelemetry-instrument", "python", "-m", "inprocess_grpc"])]


def test_the_command_comes_from_the_command_line_by_default(execv: list, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["instrument.py", "python", "app.py"])
    with pytest.raises(Execed):
        instrument.main()
    assert execv[0][1] == ["opentelemetry-instrument", "python", "app.py"]


def test_a_malformed_header_stops_the_run_with_status_4_and_never_repeats_the_token(
    execv: list, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20abc;SECRET123")
    assert instrument.main(["python", "-m", "inprocess_grpc"]) == 4
    assert execv == []
    out, err = capsys.readouterr()
    assert (out, len(err.splitlines())) == ("", 1)
    assert err.startswith("inprocess-grpc: error: OTEL_EXPORTER_OTLP_HEADERS")
    assert "SECRET123" not in err


def test_no_command_is_a_usage_error_with_status_2(execv: list, capsys: pytest.CaptureFixture[str]) -> None:
    assert instrument.main([]) == 2
    assert capsys.readouterr().err == ("inprocess-grpc: error: usage: python -m inprocess_grpc.instrument COMMAND...\n")
    assert execv == []
