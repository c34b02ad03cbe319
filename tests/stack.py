"""The stack run natively, as compose configures it: Jaeger, the collector if the
configuration has one, and the app as a process. Shared by the tests and the benchmarks."""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests import binaries, compose
from tests.servers import Collector, Jaeger, running_collector, running_jaeger

REPO = compose.REPO

# What the app gets besides the OTEL_* variables under test: no variable of the
# developer's shell leaks in.
BASE_ENV = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO / "app" / "src"), "LANG": "C.UTF-8"}


# Runs the app's real entry point after `setup` (Python code) has run in the same
# process: how a test changes the app's behaviour without touching its files.
MAIN_AFTER = "\nimport sys\nfrom inprocess_grpc.__main__ import main\nsys.exit(main(sys.argv[1:]))\n"


def app_command(*args: str, setup: str | None = None, launcher: tuple[str, ...] = ()) -> list[str]:
    """`python -m inprocess_grpc ARGS`, or the same entry point after `setup`."""
    if setup is None:
        return [*launcher, sys.executable, "-m", "inprocess_grpc", *args]
    return [*launcher, sys.executable, "-c", setup + MAIN_AFTER, *args]


def make_certs(folder: Path) -> Path:
    """The certificates scripts/make-certs.sh makes, in `folder`."""
    subprocess.run([str(REPO / "scripts" / "make-certs.sh"), str(folder)], check=True, capture_output=True)
    return folder


def collector_token(folder: Path) -> dict[str, str]:
    """The token scripts/make-token.sh makes in `folder`, as the compose variables of
    the collector variants: the app's COLLECTOR_AUTH_TOKEN, the collector's file."""
    subprocess.run([str(REPO / "scripts" / "make-token.sh"), str(folder)], check=True, capture_output=True)
    token = (folder / ".env").read_text().removeprefix("COLLECTOR_AUTH_TOKEN=").strip()
    return {"COLLECTOR_AUTH_TOKEN": token, "COLLECTOR_TOKEN_FILE": str(folder / "secrets" / "collector-token")}


def jaeger_environment(config: compose.Config, folder: Path) -> dict[str, str]:
    """Jaeger's environment from compose, its storage volume in `folder`."""
    return compose.environment(config, "jaeger", {}, volumes={"jaeger-data": folder / "jaeger-data"})


@dataclass
class Stack:
    jaeger: Jaeger
    collector: Collector | None
    app_env: dict[str, str]


@contextmanager
def running_stack(config: compose.Config, tmp_path: Path) -> Iterator[Stack]:
    """Jaeger, and the collector if the configuration has one, as compose configures them."""
    with ExitStack() as stack:
        jaeger_env = jaeger_environment(config, tmp_path)
        jaeger_binary = binaries.ensure(binaries.JAEGER)
        jaeger = stack.enter_context(running_jaeger(jaeger_binary, jaeger_env, tmp_path / "jaeger.log"))
        addresses = {"jaeger:4317": jaeger.otlp_grpc}
        collector = None
        if "otel-collector" in config["services"]:
            collector = stack.enter_context(
                running_collector(
                    binaries.ensure(binaries.COLLECTOR),
                    compose.command(config, "otel-collector", addresses),
                    compose.environment(config, "otel-collector", addresses),
                    tmp_path / "collector.log",
                )
            )
            addresses["otel-collector:4317"] = collector.otlp_grpc
        yield Stack(jaeger, collector, compose.environment(config, "app", addresses))
