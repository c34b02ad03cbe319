"""Faults, against the real processes: a backend that is down, late, or restarted in the
middle of a load run; a signal during a load run; more spans than the exporter can send.

The promise under test: no run hangs, and no span is lost silently. Every span the app
ended is either found in Jaeger (counted through its HTTP API) or reported by the app as
failed or dropped, and the losses stay within the bounds docs/failures.md states.
"""

import json
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import binaries, compose
from harness.app import BASE_ENV, SPANS_PER_TRACE, app_command, load_command, run_app_timing_its_end, run_load
from harness.jaeger_spans import span_count
from harness.native import jaeger_environment, running_natively
from harness.servers import Jaeger, free_port, running_jaeger, wait_until
from harness.smoke import run_smoke_test
from harness.user_scripts import collector_token

SERVICE = "inprocess-grpc"
EXIT_EXPORT_FAILED, EXIT_SPANS_DROPPED = 3, 5


@dataclass
class LoadRun:
    process: subprocess.Popen
    started: float  # Unix time, for the Jaeger query window

    def finish(self, timeout: float) -> tuple[int, dict, str]:
        """Wait for the end of the run: its status, its JSON summary, its stderr."""
        stdout, stderr = self.process.communicate(timeout=timeout)
        return self.process.returncode, json.loads(stdout), stderr


@contextmanager
def load_run(env: Mapping[str, str], *args: str) -> Iterator[LoadRun]:
    process = subprocess.Popen(
        load_command(*args), env={**BASE_ENV, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        yield LoadRun(process, time.time())
    finally:
        process.kill()
        process.communicate()


def spans_in_jaeger(jaeger: Jaeger, since: float) -> int:
    return span_count(jaeger.query_url, SERVICE, since - 1, time.time() + 1, timeout=30)


def wait_for_spans(jaeger: Jaeger, since: float, expected: int, timeout: float) -> int:
    """Poll until Jaeger holds `expected` spans; return how many it holds at the end."""
    with suppress(TimeoutError):
        wait_until(lambda: spans_in_jaeger(jaeger, since) >= expected, timeout, "spans in Jaeger", interval=1)
    return spans_in_jaeger(jaeger, since)


def collector_config(folder: Path, *jaeger: str) -> compose.Config:
    """The collector variant, on Jaeger 1.55 or with the `jaeger` overlay (v2)."""
    files = ("compose.yaml", *jaeger, "compose.collector.yaml")
    return compose.resolve(*files, variables=collector_token(folder))


# --- backend down, backend late


# The promise: once its work is done, a run ends within the export timeout plus 2 s,
# however many spans wait. The clock starts when the work is done (the last line of data,
# or the load run's first trace), not at the process's start: a loaded machine may slow
# the interpreter's start-up, which no promise is about.
EXPORT_TIMEOUT = 2
BACKEND_DOWN = {"OTEL_EXPORTER_OTLP_TIMEOUT": str(EXPORT_TIMEOUT)}


def test_backend_down_a_default_run_ends_within_the_export_timeout_plus_two_seconds() -> None:
    env = {**BACKEND_DOWN, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}"}
    result, flush_and_exit = run_app_timing_its_end(env)
    assert result.returncode == EXIT_EXPORT_FAILED
    [line] = result.stderr.splitlines()
    assert (
        f"export failed, {SPANS_PER_TRACE} of {SPANS_PER_TRACE} spans not delivered" in line
        and "nothing listens there" in line
    )
    assert flush_and_exit <= EXPORT_TIMEOUT + 2


def test_backend_down_a_load_run_ends_within_the_export_timeout_plus_two_seconds() -> None:
    # Traces offered for 1 s at 500 a second, up to 4500 spans: more than the SDK's default
    # queue holds, so some fail in the export, the rest are dropped, and the flush is
    # bounded all the same. The summary's `seconds` run from its first trace to the end of
    # its flush; the 1 s of traces comes first.
    env = {**BACKEND_DOWN, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}"}
    result = run_load(env, "--rate", "500", "--duration", "1", timeout=60)  # 60: a hang, not a bound
    assert result.returncode == EXIT_EXPORT_FAILED
    [line] = result.stderr.splitlines()
    assert "export failed" in line and "nothing listens there" in line
    summary = json.loads(result.stdout)
    spans = summary["spans"]
    # Every span is accounted for: failed in the export, or dropped by the full queue.
    assert spans["ended"] == summary["traces"] * SPANS_PER_TRACE == spans["failed"] + spans["dropped"] > 2048
    assert f"{spans['ended']} of {spans['ended']} spans not delivered" in line
    assert summary["seconds"] <= 1 + EXPORT_TIMEOUT + 2


def test_a_backend_that_starts_after_the_app_still_gets_the_trace(compose_config: dict, tmp_path: Path) -> None:
    # The exporter retries an unavailable backend with backoff (1, 2, 4, 8 s...) for up to
    # OTEL_EXPORTER_OTLP_TIMEOUT: a Jaeger that is up within that time gets the spans.
    # 30 s here, not the default 10: Jaeger's start on a loaded machine may outlast the
    # retry at 7 s, and the one at 15 s still comes within the timeout.
    port = free_port()
    app_env = compose.environment(compose_config, "app", {"jaeger:4317": f"127.0.0.1:{port}"})
    app_env["OTEL_EXPORTER_OTLP_TIMEOUT"] = "30"
    process = subprocess.Popen(
        app_command(), env={**BASE_ENV, **app_env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        # The app has run its lookups and is flushing into the void when Jaeger starts.
        assert process.stdout.readline() and process.stdout.readline()
        env = jaeger_environment(compose_config, tmp_path)
        with running_jaeger(binaries.ensure(binaries.JAEGER), env, tmp_path / "jaeger.log", otlp_port=port) as jaeger:
            _, stderr = process.communicate(timeout=60)  # a hang, not a bound
            assert process.returncode == 0, stderr
            assert run_smoke_test(jaeger, "--timeout", "10").returncode == 0
    finally:
        process.kill()


# --- restarts in the middle of a load run

RATE = 50  # traces a second: 450 spans a second
SLOW_RATE = 25  # 225 spans a second: 7 s of them fit even the SDK's default queue (2048)
# The first spans of a run reach Jaeger within the batch processor's delay (1 s); this
# allows for a loaded machine.
FIRST_SPANS_BOUND = 60


@pytest.mark.parametrize(
    "jaeger",
    [(), pytest.param(("compose.jaeger-v2.yaml",), marks=pytest.mark.jaeger_v2)],
    ids=["Jaeger 1.55", "Jaeger v2"],
)
def test_jaeger_down_for_30_seconds_behind_the_collector_loses_no_span(jaeger: tuple[str, ...], tmp_path: Path) -> None:
    # The collector queues and retries while Jaeger is away; Jaeger's Badger storage
    # keeps what it had before the restart. The app never notices.
    with (
        running_natively(collector_config(tmp_path, *jaeger), tmp_path) as stack,
        load_run(stack.app_env, "--rate", str(RATE), "--duration", "60") as run,
    ):
        wait_until(lambda: spans_in_jaeger(stack.jaeger, run.started) > 0, FIRST_SPANS_BOUND, "first spans in Jaeger")
        stack.jaeger.server.stop()
        time.sleep(30)  # the outage itself is what is under test
        assert run.process.poll() is None  # the app kept sending throughout: the outage fell inside the run
        stack.jaeger.server.start()
        status, summary, stderr = run.finish(timeout=90)  # a hang, not a bound: the run lasts 60 s
        assert status == 0, stderr
        spans = summary["spans"]
        assert spans["ended"] == spans["exported"] > 0
        assert wait_for_spans(stack.jaeger, run.started, spans["ended"], timeout=120) == spans["ended"]


@pytest.mark.parametrize(
    "outage, export_timeout",
    [(3, 30), (6, 2)],
    ids=["shorter than the export timeout: nothing lost", "longer: loss reported and bounded"],
)
def test_a_collector_restart_loses_at_most_what_the_app_reports_within_the_bound(
    outage: float, export_timeout: float, tmp_path: Path
) -> None:
    # While the collector is away, the app's exporter retries the batch in flight for
    # up to OTEL_EXPORTER_OTLP_TIMEOUT, and new spans wait in the SDK's in-memory queue
    # (OTEL_BSP_MAX_QUEUE_SIZE spans; compose sets 32768). A restart within the timeout
    # loses nothing while the spans of the outage fit the queue: 30 s here, so that its
    # retries (about 1, 3, 7 and 15 s after the first failure) outlast the restart even
    # where a loaded machine slows the collector's start. A longer one loses the spans
    # that were in flight or queued while the collector was away, and no others: at most
    # rate x outage + one batch (OTEL_BSP_MAX_EXPORT_BATCH_SIZE: compose sets 2048), the
    # outage as it really lasted, start included.
    with running_natively(collector_config(tmp_path), tmp_path) as stack:
        env = {**stack.app_env, "OTEL_EXPORTER_OTLP_TIMEOUT": str(export_timeout)}
        with load_run(env, "--rate", str(SLOW_RATE), "--duration", str(outage + 6)) as run:
            wait_until(lambda: spans_in_jaeger(stack.jaeger, run.started) > 0, FIRST_SPANS_BOUND,
                       "first spans in Jaeger")  # fmt: skip
            away = time.monotonic()
            stack.collector.server.stop()  # SIGTERM: the collector sends what it holds first
            time.sleep(outage)
            stack.collector.server.start()
            away = time.monotonic() - away
            status, summary, stderr = run.finish(timeout=outage + 6 + export_timeout + 60)  # a hang, not a bound
        spans = summary["spans"]
        delivered = wait_for_spans(stack.jaeger, run.started, spans["exported"], timeout=60)
        # What arrived is exactly what the app says it delivered.
        assert delivered == spans["exported"]
        lost = spans["ended"] - spans["exported"]
        if outage < export_timeout:
            assert (status, lost) == (0, 0), stderr
        else:
            assert 0 < lost <= (away + 1) * SLOW_RATE * SPANS_PER_TRACE + 2048
            assert status == EXIT_EXPORT_FAILED
            assert f"export failed, {lost} of {spans['ended']} spans not delivered" in stderr


def test_sigterm_during_a_load_run_flushes_every_span_and_exits(jaeger: Jaeger, app_env: dict) -> None:
    with load_run(app_env, "--rate", str(RATE), "--duration", "120") as run:
        wait_until(lambda: spans_in_jaeger(jaeger, run.started) > 0, FIRST_SPANS_BOUND, "first spans in Jaeger")
        run.process.send_signal(signal.SIGTERM)
        # The promise: the flush ends within the export timeout (10 s), plus 2 s to exit.
        # Against a live Jaeger it takes well under a second, even on a loaded machine.
        status, summary, stderr = run.finish(timeout=10 + 2)
    assert status == 128 + signal.SIGTERM
    assert "stopped by SIGTERM, spans flushed" in stderr
    spans = summary["spans"]
    assert spans["ended"] == spans["exported"] > 0
    assert wait_for_spans(jaeger, run.started, spans["ended"], timeout=60) == spans["ended"]


def test_spans_faster_than_the_exporter_sends_are_reported_as_dropped(jaeger: Jaeger, app_env: dict) -> None:
    # A queue of one trace's spans, and traces made as fast as the app can: each export
    # (a gRPC round trip) takes longer than making the next traces, so the queue overflows.
    env = {**app_env, "OTEL_BSP_MAX_QUEUE_SIZE": "9", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "9"}
    started = time.time()
    result = run_load(env, "--repeat", "2000", timeout=120)  # a hang, not a bound
    assert result.returncode == EXIT_SPANS_DROPPED, result.stderr
    spans = json.loads(result.stdout)["spans"]
    assert spans["dropped"] > 0 and spans["failed"] == 0
    assert spans["exported"] + spans["dropped"] == spans["ended"] == 2000 * SPANS_PER_TRACE
    [line] = result.stderr.splitlines()
    assert f"{spans['dropped']} of {spans['ended']} spans dropped" in line and "OTEL_BSP_MAX_QUEUE_SIZE" in line
    assert wait_for_spans(jaeger, started, spans["exported"], timeout=60) == spans["exported"]
