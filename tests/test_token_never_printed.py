"""The collector's token is never printed, whatever it holds, on either way of setting
tracing up: the app's explicit set-up and the zero-code path (compose.distro.yaml, the
distro's exporter built before any code of the app runs). A token the SDK would refuse
stops the run up front in one line that does not repeat it (exit 4); one it takes is sent,
and a wrong one is refused by the collector (exit 3). Neither the app's output nor the
collector's log, at the level its config sets, shows it."""

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import compose
from harness.app import launcher, run_app
from harness.native import NativeServers, running_natively
from harness.user_scripts import collector_token

# What a user might paste into OTEL_EXPORTER_OTLP_HEADERS, unencoded: each character
# around which the header parser splits, quotes or refuses.
CHARACTERS = {
    "double quote": '"',
    "semicolon": ";",
    "comma": ",",
    "backslash": "\\",
    "percent": "%",
    "space": " ",
    "non-ASCII": "é",
}
PATHS = {
    "explicit": ("compose.yaml", "compose.collector.yaml"),
    "zero-code": ("compose.yaml", "compose.collector.yaml", "compose.distro.yaml"),
}


@pytest.fixture(scope="module", params=PATHS)
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[NativeServers, dict]]:
    folder = tmp_path_factory.mktemp("token")
    config = compose.resolve(*PATHS[request.param], variables=collector_token(folder))
    with running_natively(config, folder) as running:
        yield running, config


@pytest.mark.parametrize("character", CHARACTERS.values(), ids=CHARACTERS)
def test_a_token_holding_it_is_printed_nowhere(character: str, stack: tuple[NativeServers, dict]) -> None:
    running, config = stack
    # Random on both sides: neither half may show either.
    halves = (secrets.token_hex(8), secrets.token_hex(8))
    header = f"authorization=Bearer%20{halves[0]}{character}{halves[1]}"
    env = {**running.app_env, "OTEL_EXPORTER_OTLP_HEADERS": header, "OTEL_EXPORTER_OTLP_TIMEOUT": "3"}
    result = run_app(env, launcher=launcher(config))
    [line] = result.stderr.splitlines()
    if result.returncode == 4:  # refused before anything ran
        assert line.startswith("inprocess-grpc: error: OTEL_EXPORTER_OTLP_HEADERS entry"), line
    else:  # sent, and not the collector's token
        assert result.returncode == 3, result.stderr
        assert "the server rejected the credentials" in line
    collector_log = Path(running.collector.log).read_text()
    for half in halves:
        assert half not in result.stdout + result.stderr
        assert half not in collector_log
